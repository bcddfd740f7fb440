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
regular objects, and no symbolic links). Local folders are walked here, not by Beam's
``LocalFileSystem`` (whose walk silently drops every entry it cannot ``stat``): one folder at a
time from a list, not by recursion, so a tree of any depth is walked whole. Here:
  * ``unreadable``: the entry cannot be ``stat``-ed (a dangling symbolic link, a link loop) or
    opened or read (any ``OSError``, Beam's ``BeamIOError`` included), or a folder below the
    input cannot be listed (then the reject names the folder);
  * ``path_too_long``: the entry's path is longer than the system takes (``ENAMETOOLONG``,
    PATH_MAX: 4,096 bytes on Linux): a file is one reject, a folder one reject for all it holds;
  * ``not_a_regular_file``: a FIFO, socket or device (never opened: a FIFO would block the
    reader forever) or a symbolic link to a folder inside the input (not followed: the walk
    lists that folder where it is, so following the link would only list its files twice);
  * ``symlink_outside_input``: a symbolic link, to a file or a folder, that leads out of the
    input (its real path is not below the input's real path): never opened or listed, since
    the user did not give what it leads to;
  * ``duplicate_link`` (``read_once``): a symbolic link to a file inside the input that is read
    anyway, as itself or through an earlier link: each file is read once (hard links are
    files of their own).
A symbolic link to a file inside the input that is read through no other name (its file is
left out by the source, e.g. in a hidden folder) is read as a file. The input itself may be a
symbolic link (the user named it), and so may one file named as ``--input``.
``check_file`` repeats the local check right before a worker opens a file (the driver listed
it earlier); a file swapped for a FIFO or a link between that check and the open can still be
opened. ``refuse_archive`` turns an ``--input`` that is one archive (``data_prep.archives``, by
its first bytes) into one line saying how to unpack it; ``find_files`` keeps the archives of a
folder among its entries (reason ``archive``), though their names are not the source's.

Local paths are made absolute first, so ids built from paths relative to the root do not depend
on how the path is written; remote paths are used as given.
"""
from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import posixpath
import re
import stat
from typing import BinaryIO, Callable, Dict, List, NamedTuple, Optional, Tuple

from apache_beam.io.filesystem import CompressionTypes, FileSystem
from apache_beam.io.filesystems import FileSystems

from data_prep import archives
from data_prep.records import clean_text, escape_name
from data_prep.source import InputError

_MAGIC = re.compile(r"[*?[]")
UNREADABLE = "unreadable"
NOT_A_REGULAR_FILE = "not_a_regular_file"
PATH_TOO_LONG = "path_too_long"
SYMLINK_OUTSIDE_INPUT = "symlink_outside_input"
DUPLICATE_LINK = "duplicate_link"
ARCHIVE = archives.ARCHIVE
Problem = Tuple[str, str]  # (reason, detail)


class Found(NamedTuple):
    """One entry of a listing: ``rel`` the path relative to the listed root (``/``-separated
    where the file system uses ``/``), ``size`` in bytes (-1 when unknown), ``problem``
    ``(reason, detail)`` when it cannot be read as a regular file, else None; ``folder``:
    a folder that was not entered (a link to a folder, or one that cannot be listed);
    ``link``: a local symbolic link to a file inside the input; ``identity``: ``(st_dev,
    st_ino)`` of a local regular file (through a link: of the file it leads to), else None."""

    rel: str
    size: int
    problem: Optional[Problem] = None
    folder: bool = False
    link: bool = False
    identity: Optional[Tuple[int, int]] = None


def describe(error: BaseException) -> str:
    """An ``OSError`` (or any error) as one line for a reject's detail."""
    if isinstance(error, OSError) and error.strerror:
        return f"{type(error).__name__}: [Errno {error.errno}] {error.strerror}"
    text = clean_text(f"{type(error).__name__}: {error}")
    return text if len(text) <= 500 else text[:497] + "..."


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"))


def _local_problem(error: OSError, path: str, what: str = "") -> Problem:
    """The reject of an entry whose ``stat`` or listing (``what``: "cannot list the folder: ")
    failed: ``path_too_long`` for ``ENAMETOOLONG``, else ``unreadable``."""
    if error.errno == errno.ENAMETOOLONG:
        below = " (nothing below it is read)" if what else ""
        return (PATH_TOO_LONG, f"{what}its path is {len(os.fsencode(path)):,} bytes, more "
                               f"than the system takes{below}: move it up or shorten the "
                               "folder names")
    return (UNREADABLE, f"{what}{describe(error)}")


def _local_status_entry(path: str, status: os.stat_result, link: bool = False) -> Found:
    """``Found`` of a local path from its ``stat``: a regular file with its size and identity,
    anything else a ``not_a_regular_file`` problem naming its kind."""
    if stat.S_ISREG(status.st_mode):
        return Found(path, status.st_size, None, link=link,
                     identity=(status.st_dev, status.st_ino))
    kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
    return Found(path, -1, (NOT_A_REGULAR_FILE, kind))


def _local_entry(path: str) -> Found:
    """``Found(path, size, problem)`` of a local path by ``os.stat`` (symbolic links followed),
    without opening it."""
    try:
        status = os.stat(path)
    except OSError as error:
        return Found(path, -1, _local_problem(error, path))
    return _local_status_entry(path, status)


def _local_inside(real_path: str, real_root: str) -> bool:
    """Whether a real path (no links in it) is ``real_root`` or below it."""
    return real_path == real_root or real_path.startswith(real_root.rstrip(os.sep) + os.sep)


def _local_link_entry(entry: os.DirEntry, real_root: str) -> Found:
    """A symbolic link met by the walk, below the input whose real path is ``real_root``: one
    that leads out of it is a reject, never followed; one that stays inside is what it leads
    to (a file, read once: ``read_once``), or a reject: a folder (not followed), a dangling
    link or a loop (``unreadable``), a FIFO..."""
    target = os.path.realpath(entry.path)
    if not _local_inside(target, real_root):
        try:
            folder = entry.is_dir()
        except OSError:
            folder = False
        return Found(entry.path, -1, (SYMLINK_OUTSIDE_INPUT, (
            f"a symbolic link to {escape_name(target)}, outside the input: not read "
            "(copy what it leads to into the input to use it)")), folder=folder)
    try:
        status = entry.stat()
    except OSError as error:
        return Found(entry.path, -1, _local_problem(error, entry.path))
    if stat.S_ISDIR(status.st_mode):
        where = escape_name(os.path.relpath(target, real_root))
        return Found(entry.path, -1, (NOT_A_REGULAR_FILE, (
            f"a symbolic link to the folder {where} of the input, whose files are listed "
            "there (not followed)")), folder=True)
    return _local_status_entry(entry.path, status, link=True)


def _local_walk(folder: str) -> List[Found]:
    """Every entry below a local folder (module docstring), folder by folder from a list (no
    recursion: any depth), symbolic links to folders not followed. Paths absolute; [] when
    ``folder`` is no folder; ``InputError`` when it is one that cannot be listed."""
    real_root = os.path.realpath(folder)
    found: List[Found] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as error:
            if current != folder:
                found.append(Found(current, -1, _local_problem(
                    error, current, "cannot list the folder: "), folder=True))
            elif not isinstance(error, (FileNotFoundError, NotADirectoryError)):
                raise InputError(f"{folder}: cannot list the folder: {describe(error)}") \
                    from None
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    found.append(_local_link_entry(entry, real_root))
                elif entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    found.append(_local_status_entry(entry.path,
                                                     entry.stat(follow_symlinks=False)))
            except OSError as error:
                found.append(Found(entry.path, -1, _local_problem(error, entry.path)))
    return found


def read_once(entries: List[Found]) -> List[Found]:
    """``entries`` (in their order) with every symbolic link to a file that is read anyway
    made a ``duplicate_link`` reject: the file is among ``entries`` itself, or an earlier
    link leads to it. Entries with a problem, and remote ones, are left as they are."""
    if not any(entry.link for entry in entries):
        return entries
    first = {entry.identity: entry.rel for entry in entries
             if entry.identity and not entry.link and not entry.problem}
    kept = []
    for entry in entries:
        if entry.link and entry.identity and not entry.problem:
            if entry.identity in first:
                entry = entry._replace(problem=(DUPLICATE_LINK, (
                    f"a symbolic link to the same file as {escape_name(first[entry.identity])}"
                    ", which is read (each file once)")))
            else:
                first[entry.identity] = entry.rel
        kept.append(entry)
    return kept


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


def _local_link_outside(path: str, inside: str) -> Optional[Problem]:
    """``symlink_outside_input`` when ``path`` is a symbolic link leading out of ``inside``."""
    if not os.path.islink(path):
        return None
    target = os.path.realpath(path)
    if _local_inside(target, os.path.realpath(inside)):
        return None
    return (SYMLINK_OUTSIDE_INPUT, f"a symbolic link to {escape_name(target)}, outside the "
                                   "input: not read")


def check_file(path: str, inside: Optional[str] = None) -> Optional[Problem]:
    """``(reason, detail)`` when a local ``path`` is not a regular file that can be
    ``stat``-ed (see the module docstring), or, with ``inside`` (a folder), is a symbolic link
    that leads out of it; else None. Remote paths: None (an object store holds only regular
    objects; opening them may still fail: ``OSError``)."""
    if not is_local(path):
        return None
    return (inside and _local_link_outside(path, inside)) or _local_entry(path).problem


def input_root(input_path: str) -> str:
    """The folder an ``--input`` stands for, that symbolic links must stay in: the folder it
    names, the folder of the file it names, or the folder of a glob's fixed start."""
    path = normalized(input_path)
    if has_magic(path) and not exists(path):
        return os.path.dirname(re.match(r"^[^[*?]*", path).group(0))
    return path if is_folder(path) else os.path.dirname(path)


def sniff_archive(path: str) -> Optional[archives.Archive]:
    """The archive or compressed file that ``path`` is by its first bytes, else None
    (``archives.identify``); ``OSError`` when it cannot be read."""
    with open_raw(path) as handle:
        return archives.identify(handle.read(archives.HEAD_BYTES))


def archive_problem(archive: archives.Archive, name: str) -> Problem:
    """The reject of an archive found among the input files."""
    return (ARCHIVE, f"{archive.description}, not read: "
                     f"{archives.unpack_advice(archive, escape_name(name))} in the input")


def refuse_archive(input_path: str, what: str, reads: Tuple[str, ...] = ()) -> None:
    """``InputError`` when ``input_path`` names one file (not a folder, not a glob) that is an
    archive, or a compressed file of a kind the source does not read (``reads``, e.g.
    ``("gzip",)``), told by its first bytes: one line saying how to unpack it. Anything else
    passes (``plan`` names what is missing or unreadable); a file that is not a regular file
    is never opened (a FIFO would block)."""
    path = normalized(input_path)
    if not exists(path) or is_folder(path) or check_file(path):
        return
    try:
        archive = sniff_archive(path)
    except OSError:
        return
    if archive is None or (archive.compression and archive.compression in reads):
        return
    then = "the file it gives" if archive.compression else "the folder it makes"
    raise InputError(f"{what}: --input={input_path} is {archive.description}; "
                     f"{archives.unpack_advice(archive, input_path)} and pass {then} as "
                     "--input")


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


def _archive_entry(path: str, entry: Found, reads: Tuple[str, ...]) -> Optional[Found]:
    """A file below a folder that the source does not take by its name, but whose name is an
    archive's (``archives.named_like_archive``): a reject ``archive`` when its first bytes say
    it is one (or a compressed file of a kind not in ``reads``), else None (not listed, as
    any other file the source does not take); one that cannot be read is ``unreadable``."""
    if entry.problem:
        return entry
    try:
        archive = sniff_archive(path)
    except OSError as error:
        return entry._replace(problem=(UNREADABLE, describe(error)))
    if archive is None or (archive.compression and archive.compression in reads):
        return None
    return entry._replace(problem=archive_problem(archive, entry.rel))


def find_files(input_path: str, accept: Callable[[str], bool], what: str,
               reads: Tuple[str, ...] = ()) -> Tuple[str, List[Found]]:
    """``(root, sorted entries (rel relative to root))`` of the files ``input_path`` names.

    A file is taken as given; a folder contributes every file below it whose base name
    ``accept`` (e.g. ``*.gnt``), every archive below it (``_archive_entry``; ``reads``: the
    compressions the source reads), and every folder below it that could not be entered (its
    files might be wanted); a glob (see the module docstring) its matching files. ``root`` is
    the deepest folder holding them all, so ids built from relative paths are short and
    unique. Entries that cannot be read as files come with their ``problem``, never left out;
    a link to a file read anyway is a ``duplicate_link`` (``read_once``).
    Raises ``InputError`` when the path does not exist or names no file.
    """
    path = normalized(input_path)
    found: Dict[str, Found] = {}
    if not has_magic(path) or exists(path):
        below = list_folder(path)
        if below:
            for entry in below:
                full, name = join(path, entry.rel), posixpath.basename(entry.rel)
                if entry.folder or accept(name):
                    found[full] = entry._replace(rel=full)
                elif archives.named_like_archive(name):
                    archive = _archive_entry(full, entry, reads)
                    if archive is not None:
                        found[full] = archive._replace(rel=full)
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
    return root, read_once(sorted(entry._replace(rel=_relative(path, root))
                                  for path, entry in found.items()))


def name_matcher(*patterns: str) -> Callable[[str], bool]:
    """``accept`` for ``find_files``: the base name matches one of the fnmatch patterns."""
    return lambda name: any(fnmatch.fnmatch(name.lower(), pattern) for pattern in patterns)
