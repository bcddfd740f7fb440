#!/bin/sh
# The Python of Bazel's py_binary/py_test targets (see tools/bazel/BUILD, py_runtime):
# the project's virtual environment, <workspace root>/.venv/bin/python.
#
# Bazel runs this script from a runfiles tree; its runfiles entry is a chain of symlinks
# that ends at tools/bazel/venv_python.sh in the source tree, so the workspace root is
# found from there and no absolute path is written in the repository.
# LSGAN_BAZEL_VENV (e.g. --test_env=LSGAN_BAZEL_VENV=/path/to/venv) overrides it.
set -e
self=$(readlink -f "$0")
root=${self%/tools/bazel/venv_python.sh}
venv=${LSGAN_BAZEL_VENV:-$root/.venv}
if [ ! -x "$venv/bin/python" ]; then
  echo "venv_python.sh: no $venv/bin/python; run 'make setup' in $root first" >&2
  exit 127
fi
# pyboot/sitecustomize.py takes the project's editable install (and the source tree)
# off the import path, so project modules are imported from the runfiles only: a
# missing BUILD dependency is an ImportError, not a silent import from the source tree.
export LSGAN_BAZEL_SOURCE_ROOT="$root"
export PYTHONPATH="${0%/venv_python.sh}/pyboot${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONNOUSERSITE=1
export PYTHONDONTWRITEBYTECODE=1
exec "$venv/bin/python" "$@"
