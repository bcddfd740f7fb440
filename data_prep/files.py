"""Input files through Beam's ``FileSystems``: local paths, ``gs://``, ``s3://``, ...

``find_files`` resolves what ``--input`` names: one file, a folder (every file below it, at any
depth) or a glob. Listing is ``FileSystems.match``, so globs follow Beam's syntax: ``*`` stays
within one folder, ``**`` crosses folders (``dir/**/*.gnt`` also matches the files directly in
``dir``, as Python's glob does), ``?`` is any one character, ``[...]`` a character class; unlike
Python's glob, ``*`` also matches names that start with ``.``. Object stores have no folders,
only name prefixes: a "folder" there is every object under ``folder/``, and an empty folder is
seen only through a marker object (``folder/``). On a file system whose listing is not
recursive (HDFS), a folder gives only its top-level files.

Local paths are made absolute first (Beam's match needs a folder to list), so ids built from
paths relative to the root do not depend on how the path is written; remote paths are used as
given.
"""
from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import re
from typing import BinaryIO, Callable, Dict, List, Tuple

from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from data_prep.source import InputError

_MAGIC = re.compile(r"[*?[]")


@contextlib.contextmanager
def _input_errors(path: str):
    """Turns a file system's refusal of a path (no file system for its scheme, a failed
    listing) into an ``InputError`` naming the path."""
    try:
        yield
    except InputError:
        raise
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: {error}") from None


def is_local(path: str) -> bool:
    """Whether ``path`` has no scheme (``gs://``...): a path of the local file system."""
    return FileSystems.get_scheme(path) is None


def has_magic(path: str) -> bool:
    """Whether ``path`` holds glob characters (``*``, ``?``, ``[``)."""
    return _MAGIC.search(path) is not None


def escape(path: str) -> str:
    """``path`` as a ``FileSystems.match`` pattern that matches only itself."""
    return _MAGIC.sub(lambda found: f"[{found.group(0)}]", path)


def normalized(path: str) -> str:
    """A local path made absolute, a remote one without its trailing ``/``."""
    if is_local(path):
        return os.path.abspath(path)
    return path if path.endswith("://") else path.rstrip("/")


def join(folder: str, relative: str) -> str:
    """``relative`` (``/``-separated, as ``list_folder`` gives it) below ``folder``."""
    return FileSystems.join(folder, relative)


def open_raw(path: str) -> BinaryIO:
    """A binary read handle on ``path``, its bytes as stored: ``FileSystems.open`` would
    otherwise decompress by the extension (``.gz``, ``.bz2``...)."""
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def exists(path: str) -> bool:
    """Whether a file (or a local directory) is at ``path``; ``InputError`` when no Beam file
    system handles the path."""
    with _input_errors(path):
        return FileSystems.exists(path)


def is_folder(path: str) -> bool:
    """Whether ``path`` is a local directory (``path/`` exists) or an object-store folder
    marker; a folder with files below it is found by ``list_folder`` either way."""
    with _input_errors(path):
        return FileSystems.exists(FileSystems.join(path, ""))


def _match(pattern: str) -> Dict[str, int]:
    """``{path: size}`` of the files ``pattern`` matches, folder markers left out."""
    with _input_errors(pattern):
        results = FileSystems.match([pattern])
    return {found.path: found.size_in_bytes for result in results
            for found in result.metadata_list if not found.path.endswith("/")}


def _relative(path: str, root: str) -> str:
    if is_local(root):
        return os.path.relpath(path, root)
    prefix = root if root.endswith("/") else root + "/"
    assert path.startswith(prefix), (path, root)
    return path[len(prefix):]


def list_folder(folder: str) -> List[Tuple[str, int]]:
    """``(path relative to folder, size in bytes)`` of every file below ``folder``, sorted;
    [] when there is none (or no folder)."""
    folder = normalized(folder)
    with _input_errors(folder):
        pattern = FileSystems.join(escape(folder), "**")
    found = _match(pattern)
    return sorted((_relative(path, folder), size) for path, size in found.items())


def _common_root(paths: List[str]) -> str:
    """The deepest folder holding every path."""
    if all(is_local(path) for path in paths):
        return os.path.commonpath([os.path.dirname(path) for path in paths])
    scheme = FileSystems.get_scheme(paths[0])
    prefix = f"{scheme}://"
    bare = [path[len(prefix):] for path in paths]
    return prefix + posixpath.commonpath([posixpath.dirname(path) for path in bare])


def find_files(input_path: str, accept: Callable[[str], bool], what: str
               ) -> Tuple[str, List[Tuple[str, int]]]:
    """``(root, sorted [(path relative to root, size in bytes)])`` of the files ``input_path``
    names.

    A file is taken as given; a folder contributes every file below it whose base name
    ``accept`` (e.g. ``*.gnt``); a glob (see the module docstring) its matching files. ``root``
    is the deepest folder holding them all, so ids built from relative paths are short and
    unique. Raises ``InputError`` when the path does not exist or names no file.
    """
    path = normalized(input_path)
    if not has_magic(path) or exists(path):
        below = list_folder(path)
        if below:
            found = {join(path, name): size for name, size in below
                     if accept(posixpath.basename(name))}
        elif is_folder(path):
            found = {}
        elif exists(path):
            found = _match(escape(path))
        else:
            raise InputError(f"{input_path} does not exist")
    else:
        found = _match(path)
        if "/**/" in path:  # as in glob, ``/**/`` also stands for no folder at all
            found.update(_match(path.replace("/**/", "/")))
    if not found:
        raise InputError(f"no {what} files in {input_path}")
    root = _common_root(list(found))
    return root, sorted((_relative(path, root), size) for path, size in found.items())


def name_matcher(*patterns: str) -> Callable[[str], bool]:
    """``accept`` for ``find_files``: the base name matches one of the fnmatch patterns."""
    return lambda name: any(fnmatch.fnmatch(name.lower(), pattern) for pattern in patterns)
