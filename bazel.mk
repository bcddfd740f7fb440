# Bazel targets, included from the Makefile (`include bazel.mk`, after its own targets).
#   make bazel-test        install Bazel (Debian's bazel-bootstrap) when missing, check that the
#                          BUILD files mirror the imports, then `bazel test //...` (offline)
#   make bazel-test-full   the same with the tests tagged "slow" (bazel test --config=full)
#   make bazel-check       only the BUILD files vs imports check
#   make bazel-build-files regenerate the BUILD files of the Python packages and tests
# BAZEL_FLAGS adds flags to `bazel test`, e.g. make bazel-test BAZEL_FLAGS=--config=full.

# Wherever this file is included, it leaves the Makefile's default goal alone.
_bazel_mk_default_goal := $(.DEFAULT_GOAL)

BAZEL ?= bazel
BAZEL_FLAGS ?=
BAZEL_PY ?= $(or $(PY),.venv/bin/python)
# apt-get needs root: sudo when we are not.
BAZEL_SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: bazel-install bazel-check bazel-build-files bazel-test bazel-test-full

bazel-install:
	@if ! command -v $(BAZEL) >/dev/null 2>&1; then \
	  echo "bazel-install: installing Bazel 4.2.3 from Debian's packages (bazel-bootstrap)"; \
	  $(BAZEL_SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(BAZEL_SUDO) apt-get install -y -qq --no-install-recommends \
	    bazel-bootstrap >/dev/null; \
	fi
	@command -v $(BAZEL) >/dev/null || { echo "bazel-install: no $(BAZEL) after apt-get" >&2; exit 1; }

bazel-check: setup
	$(BAZEL_PY) tools/bazel/check_deps.py

bazel-build-files: setup
	$(BAZEL_PY) tools/bazel/check_deps.py --write

# CI starts from a fresh clone: the Bazel server it starts is shut down at the end.
bazel-test: setup bazel-install bazel-check
	@status=0; $(BAZEL) test $(BAZEL_FLAGS) //... || status=$$?; \
	if [ -n "$$CI" ]; then $(BAZEL) shutdown; fi; exit $$status

bazel-test-full: BAZEL_FLAGS += --config=full
bazel-test-full: bazel-test

.DEFAULT_GOAL := $(_bazel_mk_default_goal)
