"""Input files through Beam's ``FileSystems``: local paths, ``gs://``, ``s3://``, ...

``find_files`` resolves what ``--input`` names: one file, a folder (every file below it, at any
depth) or a glob. Globs follow Beam's syntax (``FileSystem.translate_pattern``): ``*`` stays
within one folder, ``**`` crosses folders (``dir/**/*.gnt`` also matches the files directly in
``dir``, as Python's glob does), ``?`` is any one character, ``[...]`` a character class; unlike
Python's glob, ``*`` also matches names that start with ``.``. Object stores have no folders,
only name prefixes: a "folder" there is every object under ``folder/``, and an empty folder is
seen only through a marker object (``folder/``). On a file system whose listing is not
recursive (HDFS), a folder gives only its top-level files. Files are opened with
``FileSystems.open`` (``open_raw``).

Nothing found is silently left out (the data contract): every entry comes back as a ``Found``,
with a ``problem`` ``(reason, detail)`` when it cannot be read as a file, and the sources turn
problems into rejects. Remote listings are ``FileSystems.match`` (object stores hold only
regular objects). Local folders are walked here, the way Beam's ``LocalFileSystem`` walks them
(``os.walk``, symbolic links to folders not followed), because Beam's walk silently drops every
entry it cannot ``stat``; here:
  * ``unreadable``: the entry cannot be ``stat``-ed (a dangling symbolic link, a link loop) or
    opened or read (any ``OSError``, Beam's ``BeamIOError`` included), or a folder below the
    input cannot be listed (then the reject names the folder);
  * ``not_a_regular_file``: a FIFO, socket or device (never opened: a FIFO would block the
    reader forever) or a symbolic link to a folder (not followed).
``check_file`` repeats the local check right before a worker opens a file (the driver listed
it earlier); a file swapped for a FIFO between that check and the open can still block.

Local paths are made absolute first, so ids built from paths relative to the root do not depend
on how the path is written; remote paths are used as given.
"""
from __future__ import annotations

import contextlib
import fnmatch
import os
import posixpath
import re
import stat
from typing import BinaryIO, Callable, Dict, List, NamedTuple, Optional, Tuple

from apache_beam.io.filesystem import CompressionTypes, FileSystem
from apache_beam.io.filesystems import FileSystems

from data_prep.records import clean_text
from data_prep.source import InputError

_MAGIC = re.compile(r"[*?[]")
UNREADABLE = "unreadable"
NOT_A_REGULAR_FILE = "not_a_regular_file"
Problem = Tuple[str, str]  # (reason, detail)


class Found(NamedTuple):
    """One entry of a listing: ``rel`` the path relative to the listed root (``/``-separated
    where the file system uses ``/``), ``size`` in bytes (-1 when unknown), ``problem``
    ``(reason, detail)`` when it cannot be read as a regular file, else None; ``folder``:
    a folder that was not entered (a link to a folder, or one that cannot be listed)."""

    rel: str
    size: int
    problem: Optional[Problem] = None
    folder: bool = False


def describe(error: BaseException) -> str:
    """An ``OSError`` (or any error) as one line for a reject's detail."""
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: [Errno {error.errno}] {error.strerror}"
    text = clean_text(f"{type(error).__name__}: {error}")
    return text if len(text) <= 500 else text[:497] + "..."


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _local_entry(path: str) -> Found:
    """``Found(path, size, problem)`` of a local path by ``os.stat`` (symbolic links followed),
    without opening it."""
    try:
        status = os.stat(path)
    except OSError as error:
        return Found(path, -1, (UNREADABLE, describe(error)))
    if stat.S_ISREG(status.st_mode):
        return Found(path, status.st_size, None)
    kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
    return Found(path, -1, (NOT_A_REGULAR_FILE, kind))


def _local_walk(folder: str) -> List[Found]:
    """Every entry below a local folder, as Beam's ``LocalFileSystem`` lists it (``os.walk``,
    symbolic links to folders not followed), keeping what that listing drops: entries that
    cannot be ``stat``-ed, folders that cannot be listed, links to folders. Paths absolute;
    [] when ``folder`` is no folder; ``InputError`` when it is one that cannot be listed."""
    found: List[Found] = []
    failed: List[OSError] = []
    for path, folders, names in os.walk(folder, onerror=failed.append):
        found += [_local_entry(os.path.join(path, name)) for name in names]
        found += [Found(os.path.join(path, name), -1,
                        (NOT_A_REGULAR_FILE, "a symbolic link to a folder (not followed)"),
                        folder=True)
                  for name in folders if os.path.islink(os.path.join(path, name))]
    for error in failed:
        if os.path.normpath(error.filename or folder) == os.path.normpath(folder):
            if isinstance(error, (FileNotFoundError, NotADirectoryError)):
                return []
            raise InputError(f"{folder}: cannot list the folder: {describe(error)}")
        found.append(Found(error.filename, -1,
                           (UNREADABLE, f"cannot list the folder: {describe(error)}"), True))
    return found


def _local_lexists(path: str) -> bool:
    """Whether anything, even a dangling symbolic link, is at a local path."""
    return os.path.lexists(path)


def _could_hold(pattern: str, folder: str) -> bool:
    """Whether files below ``folder`` could match ``pattern`` (both absolute, ``/``-separated):
    the folder's names match the pattern's leading parts, or a ``**`` comes first."""
    pattern_parts, folder_parts = pattern.split("/"), folder.split("/")
    for depth, name in enumerate(folder_parts):
        if depth >= len(pattern_parts) - 1:
            return "**" in pattern_parts[-1]
        part = pattern_parts[depth]
        if "**" in part:
            return True
        if not re.match(FileSystem.translate_pattern(part), name):
            return False
    return True


def _local_match(pattern: str) -> List[Found]:
    """``FileSystems.match`` for a local pattern, by ``_local_walk``; entries with a problem
    are kept when they match, folders not entered when the files below them could."""
    prefix = re.match(r"^[^[*?]*", pattern).group(0)
    if prefix == pattern:
        return [_local_entry(pattern)] if _local_lexists(pattern) else []
    matches = re.compile(FileSystem.translate_pattern(pattern)).match
    return [entry for entry in _local_walk(os.path.dirname(prefix))
            if matches(entry.rel) or (entry.folder and _could_hold(pattern, entry.rel))]


def check_file(path: str) -> Optional[Problem]:
    """``(reason, detail)`` when a local ``path`` is not a regular file that can be
    ``stat``-ed (see the module docstring), else None; remote paths: None (an object store
    holds only regular objects; opening them may still fail: ``OSError``)."""
    return _local_entry(path).problem if is_local(path) else None


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
    """Whether a file (or a local directory, or a local symbolic link even when it leads
    nowhere) is at ``path``; ``InputError`` when no Beam file system handles the path."""
    with _input_errors(path):
        return FileSystems.exists(path) or (is_local(path) and _local_lexists(path))


def is_folder(path: str) -> bool:
    """Whether ``path`` is a local directory (``path/`` exists) or an object-store folder
    marker; a folder with files below it is found by ``list_folder`` either way."""
    with _input_errors(path):
        return FileSystems.exists(FileSystems.join(path, ""))


def _match(pattern: str) -> List[Found]:
    """The entries ``pattern`` matches (``rel`` = the whole path), folder markers left out."""
    with _input_errors(pattern):
        if is_local(pattern):
            return _local_match(pattern)
        results = FileSystems.match([pattern])
    return [Found(found.path, found.size_in_bytes) for result in results
            for found in result.metadata_list if not found.path.endswith("/")]


def _relative(path: str, root: str) -> str:
    if is_local(root):
        return os.path.relpath(path, root)
    prefix = root if root.endswith("/") else root + "/"
    assert path.startswith(prefix), (path, root)
    return path[len(prefix):]


def list_folder(folder: str) -> List[Found]:
    """Every entry below ``folder`` (``rel`` relative to it), sorted; [] when there is none (or
    no folder). Local entries that cannot be read as files come with their ``problem``."""
    folder = normalized(folder)
    if is_local(folder):
        found = _local_walk(folder)
    else:
        with _input_errors(folder):
            pattern = FileSystems.join(escape(folder), "**")
        found = _match(pattern)
    return sorted(entry._replace(rel=_relative(entry.rel, folder)) for entry in found)


def _common_root(paths: List[str]) -> str:
    """The deepest folder holding every path."""
    if all(is_local(path) for path in paths):
        return os.path.commonpath([os.path.dirname(path) for path in paths])
    scheme = FileSystems.get_scheme(paths[0])
    prefix = f"{scheme}://"
    bare = [path[len(prefix):] for path in paths]
    return prefix + posixpath.commonpath([posixpath.dirname(path) for path in bare])


def find_files(input_path: str, accept: Callable[[str], bool], what: str
               ) -> Tuple[str, List[Found]]:
    """``(root, sorted entries (rel relative to root))`` of the files ``input_path`` names.

    A file is taken as given; a folder contributes every file below it whose base name
    ``accept`` (e.g. ``*.gnt``), and every folder below it that could not be entered (its
    files might be wanted); a glob (see the module docstring) its matching files. ``root`` is
    the deepest folder holding them all, so ids built from relative paths are short and
    unique. Entries that cannot be read as files come with their ``problem``, never left out.
    Raises ``InputError`` when the path does not exist or names no file.
    """
    path = normalized(input_path)
    found: Dict[str, Found] = {}
    if not has_magic(path) or exists(path):
        below = list_folder(path)
        if below:
            found = {join(path, entry.rel): entry._replace(rel=join(path, entry.rel))
                     for entry in below
                     if entry.folder or accept(posixpath.basename(entry.rel))}
        elif is_folder(path):
            pass
        elif exists(path):
            found = {entry.rel: entry for entry in _match(escape(path))}
        else:
            raise InputError(f"{input_path} does not exist")
    else:
        found = {entry.rel: entry for entry in _match(path)}
        if "/**/" in path:  # as in glob, ``/**/`` also stands for no folder at all
            found.update((entry.rel, entry) for entry in _match(path.replace("/**/", "/")))
    if not found:
        raise InputError(f"no {what} files in {input_path}")
    root = _common_root(list(found))
    return root, sorted(entry._replace(rel=_relative(path, root))
                        for path, entry in found.items())


def name_matcher(*patterns: str) -> Callable[[str], bool]:
    """``accept`` for ``find_files``: the base name matches one of the fnmatch patterns."""
    return lambda name: any(fnmatch.fnmatch(name.lower(), pattern) for pattern in patterns)
