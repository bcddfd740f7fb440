"""Imported at start-up by the venv Python under Bazel (tools/bazel/venv_python.sh).

``make setup`` installs the project editable (``pip install -e .``): a ``__editable__*`` .pth
file in site-packages that adds an import hook (or the source tree itself) mapping
``lsgan_tf``, ``data_prep``, ... to the working tree. Under Bazel the project's code must come
from the runfiles alone, so that a target that forgot a dependency fails instead of silently
importing the module from the source tree. Third-party packages stay importable from the venv.
"""
import os
import sys


def _is_editable(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module.startswith("__editable__") or "_editable_" in module


def _strip_source_tree() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.environ.get("LSGAN_BAZEL_SOURCE_ROOT", "")
    banned = {here, os.path.realpath(here)}
    if root:
        banned |= {os.path.abspath(root), os.path.realpath(root)}
    sys.meta_path[:] = [finder for finder in sys.meta_path if not _is_editable(finder)]
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if not _is_editable(hook)]
    sys.path[:] = [
        entry for entry in sys.path
        if "__editable__" not in entry
        and not (entry and (os.path.abspath(entry) in banned or os.path.realpath(entry) in banned))
    ]
    sys.path_importer_cache.clear()


_strip_source_tree()
