"""Files at paths that may be remote (``gs://`` on Kubeflow and Vertex, ``ram://`` in tests):
every read and write of the library goes through ``tf.io.gfile`` here.

TensorFlow is imported inside the functions, so that importing this module stays cheap.
``absolute`` makes a local path absolute and leaves a URL (``scheme://...``) as it is;
``os.path.abspath`` would turn ``gs://b/x`` into ``/cwd/gs:/b/x``.
"""
from __future__ import annotations

import os
from typing import List


def is_remote(path: str) -> bool:
    """Whether ``path`` names a file system by scheme (``gs://``, ``ram://``, ``s3://``...)."""
    return "://" in path


def absolute(path: str) -> str:
    return path if is_remote(path) else os.path.abspath(path)


def _gfile():
    import tensorflow as tf

    return tf.io.gfile


def exists(path: str) -> bool:
    return _gfile().exists(path)


def isdir(path: str) -> bool:
    return _gfile().isdir(path)


def glob(pattern: str) -> List[str]:
    return sorted(_gfile().glob(pattern))


def size(path: str) -> int:
    return _gfile().stat(path).length


def makedirs(path: str) -> None:
    _gfile().makedirs(path)


def read_text(path: str) -> str:
    with _gfile().GFile(path, "r") as handle:
        return handle.read()


def read_bytes(path: str) -> bytes:
    with _gfile().GFile(path, "rb") as handle:
        return handle.read()


def write_bytes(path: str, data: bytes) -> str:
    """Writes ``data`` to ``path``, creating its folder; returns ``path``."""
    parent = os.path.dirname(path)
    if parent:
        makedirs(parent)
    with _gfile().GFile(path, "wb") as handle:
        handle.write(data)
    return path


def write_text(path: str, text: str) -> str:
    return write_bytes(path, text.encode("utf-8"))


def rename(source: str, target: str) -> None:
    """Renames a file or folder (atomic on local disks; a copy on object stores)."""
    _gfile().rename(source, target, overwrite=False)


def remove(path: str) -> None:
    """Deletes a file."""
    _gfile().remove(path)


def rmtree(path: str) -> None:
    """Deletes a folder and its contents; nothing when it does not exist."""
    if exists(path):
        _gfile().rmtree(path)
