"""Input files named by a path: one file, a directory (searched recursively) or a glob."""
from __future__ import annotations

import fnmatch
import glob
import os
from typing import Callable, List, Tuple

from data_prep.source import InputError


def find_files(input_path: str, accept: Callable[[str], bool], what: str) -> Tuple[str, List[str]]:
    """``(root, sorted paths relative to root)`` of the files ``input_path`` names.

    A file is taken as given; a directory contributes every file below it whose base name
    ``accept`` (e.g. ``*.gnt``); a glob (``*``, ``?``, ``[``, ``**``) its matching files.
    ``root`` is the deepest directory holding them all, so ids built from relative paths are
    short and unique. Raises ``InputError`` when the path does not exist or names no file.
    """
    if os.path.isfile(input_path):
        paths = [input_path]
    elif os.path.isdir(input_path):
        paths = [os.path.join(folder, name)
                 for folder, _, names in os.walk(input_path) for name in names if accept(name)]
    elif glob.has_magic(input_path):
        paths = [path for path in glob.glob(input_path, recursive=True) if os.path.isfile(path)]
    else:
        raise InputError(f"{input_path} does not exist")
    if not paths:
        raise InputError(f"no {what} files in {input_path}")
    paths = [os.path.abspath(path) for path in paths]
    root = os.path.commonpath([os.path.dirname(path) for path in paths])
    return root, sorted(os.path.relpath(path, root) for path in paths)


def name_matcher(*patterns: str) -> Callable[[str], bool]:
    """``accept`` for ``find_files``: the base name matches one of the fnmatch patterns."""
    return lambda name: any(fnmatch.fnmatch(name.lower(), pattern) for pattern in patterns)
