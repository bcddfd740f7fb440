# The two commands: `make run` and `make test` (both set up first when needed).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
RUN_ROOT ?= runs/pipeline/digits

.PHONY: setup run test bench clean

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

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf $(VENV) runs build *.egg-info
include bazel.mk
include experiments.mk
