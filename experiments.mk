# The paper's experiments (docs/RESULTS.md), included from the Makefile (`include experiments.mk`).
# Also usable on its own: make -f experiments.mk TARGET.
#
#   make fonts              Chinese fonts from Debian's packages (apt-get; sudo when not root)
#   make bench-mog          mixture of Gaussians, 35,000 iterations: schemes authors and ours x
#                           {ls, pearson, ns, minimax} x 10 seeds, the mixed schemes x {ls, ns}
#                           x 5 seeds (100 runs on MOG_WORKERS processes; resumable)
#   make bench-mog-quick    2,000 iterations x 2 seeds, authors/ours x {ls, ns} (minutes)
#   make bench-gradients    generator gradients for a fixed D: sigmoid cross-entropy vs least squares
#   make bench-no-bn        the two no-batch-norm settings, LSGAN vs regular GAN, NO_BN_SEEDS seeds
#                           each, on the rendered characters at 32 px (no-bn-data)
#   make hwdb-chars         render GB2312 level-1 characters to .gnt, prep, train hwdb_3740, grid
#   make experiments        all of the above (hours on a CPU)
#   make test-bench         the fast tests of the benchmark code
#   make bench-train        images/s of one training step (D + G, dcgan 64 px, batch 64): ours in
#                           float32 / bfloat16 / auto, Keras fit(), plain eager, and the PyTorch
#                           rows when runs/torch-venv exists (docs/PERFORMANCE.md)
#   make bench-torch        creates runs/torch-venv (torch, CPU wheel; not a project dependency)
#                           if needed, then runs bench-train with its PyTorch rows
# Variables: MOG_SEEDS (10), MOG_WORKERS (2), HWDB_CLASSES (40; 3755 = all of GB2312 level 1),
# HWDB_WRITERS (60), HWDB_STEPS (4000), HWDB_SET (CPU widths, see below), NO_BN_STEPS (1200),
# NO_BN_EVAL_EVERY (400), NO_BN_SEEDS (5), EXP_OUT (runs/experiments), BENCH_TRAIN_ARGS (e.g. --threads 2 --repeats 5), TORCH_VENV
# (runs/torch-venv), TORCH_VERSION (2.13.0), TORCH_BASE_PYTHON (its interpreter).

_experiments_mk_default_goal := $(.DEFAULT_GOAL)

EXP_PY ?= $(or $(PY),.venv/bin/python)
EXP_OUT ?= runs/experiments
EXP_NICE ?= nice -n 10
EXP_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FONT_PACKAGES ?= fonts-arphic-ukai fonts-arphic-uming fonts-wqy-zenhei fonts-wqy-microhei
MOG_SEEDS ?= 10
MOG_WORKERS ?= 2
HWDB_CLASSES ?= 40
HWDB_WRITERS ?= 60
HWDB_STEPS ?= 4000
# CPU scale of the paper's conditional network (same layers, narrower); HWDB_SET= (empty) for
# the paper's widths (Phi 256, D 257/320/1024, G 128; a GPU job) with HWDB_CLASSES=3755.
HWDB_SET ?= --set model.phi_dim=32 --set model.g_width=64 --set model.d_width=64 \
  --set model.d_dense=256
NO_BN_STEPS ?= 1200
NO_BN_EVAL_EVERY ?= 400
NO_BN_SEEDS ?= 5
BENCH_TRAIN_ARGS ?=
TORCH_VENV ?= runs/torch-venv
# torch TORCH_VERSION, the CPU build (about 200 MB) where pip finds it: in the places pip is
# configured to look (a local wheel folder, say), then PyTorch's CPU index; else PyPI's build,
# which on Linux x86_64 is the CUDA one (several GB; it runs on the CPU too). The virtualenv's
# Python is TORCH_BASE_PYTHON, by default the one that made .venv; it need not be 3.10 (torch
# runs in its own process), so a machine whose CPU wheel is for another Python can name it.
TORCH_VERSION ?= 2.13.0
TORCH_BASE_PYTHON ?=

.PHONY: fonts bench-mog bench-mog-quick bench-gradients no-bn-data bench-no-bn hwdb-render hwdb-prep \
        hwdb-train hwdb-figure hwdb-chars experiments test-bench \
        bench-train bench-torch torch-venv

fonts:
	@missing=""; for p in $(FONT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "fonts: installing$$missing"; \
	  $(EXP_SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(EXP_SUDO) apt-get install -y -qq --no-install-recommends \
	    $$missing >/dev/null; \
	else echo "fonts: $(FONT_PACKAGES) already installed"; fi

bench-mog:
	$(EXP_NICE) $(EXP_PY) -m experiments.mog --seeds $(MOG_SEEDS) --workers $(MOG_WORKERS)

bench-mog-quick:
	$(EXP_NICE) $(EXP_PY) -m experiments.mog --quick --workers $(MOG_WORKERS)

bench-gradients:
	$(EXP_NICE) $(EXP_PY) -m experiments.gradients

# The no-BN data: the rendered characters (hwdb-render) prepared at 32 x 32 for the dcgan model.
no-bn-data: hwdb-render
	$(EXP_NICE) $(EXP_PY) -m pipeline.cli prep --source=hwdb --input=$(EXP_OUT)/hwdb_gnt \
	  --output=$(EXP_OUT)/hwdb32 --image_size=32 --charset=gb2312_level1 --overwrite

bench-no-bn: no-bn-data
	$(EXP_NICE) $(EXP_PY) -m experiments.no_bn --seeds $(NO_BN_SEEDS) --steps $(NO_BN_STEPS) \
	  --eval_every $(NO_BN_EVAL_EVERY) --out $(EXP_OUT)/no_bn --data $(EXP_OUT)/hwdb32

hwdb-render: fonts
	$(EXP_NICE) $(EXP_PY) -m tools.render_gnt --output $(EXP_OUT)/hwdb_gnt \
	  --classes $(HWDB_CLASSES) --writers $(HWDB_WRITERS) --preview docs/figures/hwdb_rendered.png

hwdb-prep: hwdb-render
	$(EXP_NICE) $(EXP_PY) -m pipeline.cli prep --source=hwdb --input=$(EXP_OUT)/hwdb_gnt \
	  --output=$(EXP_OUT)/hwdb_tfrecords --image_size=28 --charset=gb2312_level1 --overwrite \
	  -- --direct_running_mode=in_memory --direct_num_workers=1

hwdb-train: hwdb-prep
	$(EXP_NICE) $(EXP_PY) -m pipeline.cli train --preset=hwdb_3740 \
	  --data=$(EXP_OUT)/hwdb_tfrecords --out=$(EXP_OUT)/hwdb_train --steps $(HWDB_STEPS) \
	  $(HWDB_SET) --set train.checkpoint_every=500 --set train.sample_every=500

hwdb-figure:
	$(EXP_NICE) $(EXP_PY) -m experiments.hwdb_chars --data $(EXP_OUT)/hwdb_tfrecords \
	  --run $(EXP_OUT)/hwdb_train

hwdb-chars: hwdb-train
	$(MAKE) -f $(firstword $(MAKEFILE_LIST)) hwdb-figure

experiments: bench-gradients bench-mog hwdb-chars bench-no-bn

test-bench:
	$(EXP_PY) -m pytest -q tests/bench tests/experiments

bench-train:
	$(EXP_PY) -m bench.train_throughput $(BENCH_TRAIN_ARGS)

# A separate virtualenv, made with the interpreter that made .venv (same Python version), so
# that torch never enters the project's environment; bench.train_throughput runs its PyTorch
# rows in a subprocess, $(TORCH_VENV)/bin/python -m bench.torch_dcgan (no TensorFlow).
torch-venv: $(TORCH_VENV)/.torch-done

$(TORCH_VENV)/.torch-done:
	@set -e; base="$(TORCH_BASE_PYTHON)"; \
	[ -n "$$base" ] || base=$$($(EXP_PY) -c 'import os, sys; \
	  print(os.path.join(sys.base_prefix, "bin", "python%d.%d" % sys.version_info[:2]))'); \
	echo "torch-venv: creating $(TORCH_VENV) with $$base (torch $(TORCH_VERSION))"; \
	rm -rf $(TORCH_VENV); "$$base" -m venv $(TORCH_VENV); \
	pip="$(TORCH_VENV)/bin/python -m pip install --quiet"; \
	$$pip "torch==$(TORCH_VERSION)+cpu" 2>/dev/null \
	  || $$pip --timeout 30 --retries 1 --index-url https://download.pytorch.org/whl/cpu \
	       "torch==$(TORCH_VERSION)+cpu" 2>/dev/null \
	  || { echo "torch-venv: no CPU build found; installing PyPI's torch==$(TORCH_VERSION)"; \
	       $$pip "torch==$(TORCH_VERSION)"; }; \
	$$pip numpy; \
	$(TORCH_VENV)/bin/python -c 'import torch; print("torch-venv: torch", torch.__version__)'; \
	touch $@

bench-torch: torch-venv
	$(EXP_PY) -m bench.train_throughput --torch_python $(TORCH_VENV)/bin/python $(BENCH_TRAIN_ARGS)

.DEFAULT_GOAL := $(_experiments_mk_default_goal)
