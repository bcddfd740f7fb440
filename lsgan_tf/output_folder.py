"""The output-folder contract: where an ``lsgan`` command may write, checked before it writes.

A command that makes a folder (``lsgan train --out``, ``lsgan run --root``, ``lsgan prep
--output``) writes only into a folder that is
  * absent or empty: the command makes it and writes its marker ``.lsgan-output`` there first
    (JSON naming the kind of folder and the command that made it);
  * one the same kind of command made: its marker names that kind, or, for folders made before
    the marker existed, it holds that kind's layout (``Kind.layouts``: ``config.json`` and
    ``checkpoints/`` for a training run, ``metadata.sqlite`` and ``pipeline/`` for a pipeline
    root, ``Split-train/`` with ``Split-eval/`` or ``stats.json`` for a prepared dataset); the
    marker is then added, so the next run sees it.
Anything else (a folder holding the user's own files, a file, a folder another kind of command
made, such as a prepared dataset given as a training run's ``--out``) is refused with a
``UsageError`` before anything is written: one line naming the folder, some of what it holds
and what to do.

``check_path_flag``: an empty or blank path flag is refused (``--out=`` would mean the current
folder). ``check_name``: a name that becomes a path component (the config's ``name`` makes
``runs/pipeline/<name>`` and ``<root>/serving/lsgan_<name>``) is one plain folder name, so it
cannot climb out of its root. ``check_apart``: an output and the input it is made from may not
contain each other (local paths as real paths, symbolic links resolved; URLs as normalised
prefixes of one scheme).

``claim`` is ``mark`` (the check, then the marker) and, for a local folder, an exclusive
``flock`` on ``<folder>/run.lock`` held for the ``with`` block: released by the kernel when the
process ends, killed or not; a second command on the same folder fails at once naming the
process that holds it. A remote folder (``gs://``, ``ram://``) cannot be locked: the marker
check only.

Local folders are looked at with ``os`` (these checks run before TensorFlow loads, in
milliseconds); remote ones through a ``Storage``: ``tf.io.gfile`` by default, Beam's
``FileSystems`` for ``lsgan prep``.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import posixpath
import re
import time
from typing import Callable, FrozenSet, Iterator, List, NamedTuple, Optional, Tuple

from lsgan_tf.errors import UsageError
from lsgan_tf.paths import is_remote

MARKER = ".lsgan-output"
LOCK_FILE = "run.lock"
MARKER_FORMAT = 1
SHOWN_ENTRIES = 4  # entries a refusal names
# A name that is a folder name here, a TF Serving model name, and part of a TFX pipeline name
# ("lsgan_<name>", at most 63 characters) and a Kubeflow one ("lsgan-<name>", [a-z0-9-]).
NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
NAME_MAX = 57
_PATTERN = re.compile(r"[*?[]")  # a glob's special characters (Beam's and Python's)


class Kind(NamedTuple):
    """A kind of output folder: ``key`` in its marker, the ``command`` and ``flag`` that name
    it, ``what`` it is in a message, and ``layouts``: sets of entries that mark a folder of
    this kind made before the marker existed (any one set, all of its entries)."""
    key: str
    command: str
    flag: str
    what: str
    layouts: Tuple[FrozenSet[str], ...]


TRAIN = Kind("train", "lsgan train", "--out", "a training run",
             (frozenset({"config.json", "checkpoints"}),))
PIPELINE = Kind("pipeline", "lsgan run", "--root", "a pipeline root",
                (frozenset({"metadata.sqlite", "pipeline"}),))
PREPARED = Kind("prepared", "lsgan prep", "--output", "a prepared dataset",
                (frozenset({"Split-train", "Split-eval"}),
                 frozenset({"Split-train", "stats.json"})))
KINDS = {kind.key: kind for kind in (TRAIN, PIPELINE, PREPARED)}


class Storage(NamedTuple):
    """How a folder is looked at and written: ``names(folder)`` its entries (None when it is
    absent; ``NotADirectoryError`` for a file), ``read(path)`` a file's bytes, ``write(path,
    data)`` a whole file, its folder made."""
    names: Callable[[str], Optional[List[str]]]
    read: Callable[[str], bytes]
    write: Callable[[str, bytes], None]


def _local_names(folder: str) -> Optional[List[str]]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return None


def _local_read(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def _local_write(path: str, data: bytes) -> None:
    """Written under a temporary name and renamed: a reader never sees half a file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "wb") as handle:
        handle.write(data)
    os.rename(temp, path)


def _gfile_names(folder: str) -> Optional[List[str]]:
    import tensorflow as tf

    if not tf.io.gfile.exists(folder):
        return None
    if not tf.io.gfile.isdir(folder):
        raise NotADirectoryError(folder)
    return [name.rstrip("/") for name in tf.io.gfile.listdir(folder)]


def _gfile_read(path: str) -> bytes:
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "rb") as handle:
        return handle.read()


def _gfile_write(path: str, data: bytes) -> None:
    import tensorflow as tf

    tf.io.gfile.makedirs(posixpath.dirname(path))
    with tf.io.gfile.GFile(path, "wb") as handle:
        handle.write(data)


LOCAL = Storage(_local_names, _local_read, _local_write)
GFILE = Storage(_gfile_names, _gfile_read, _gfile_write)


def check_path_flag(flag: str, value: Optional[str], what: str = "folder") -> str:
    """``value``, unless it is empty or blank (``UsageError``: name a ``what``)."""
    if value is None or not value.strip():
        raise UsageError(f"{flag}={value or ''!r}: name a {what} (an empty path would be the "
                         f"current folder)")
    return value


def check_name(key: str, value: str, max_length: int = NAME_MAX) -> str:
    """``value``, when it is one plain folder name (``NAME``: lower-case ASCII letters, digits,
    ``_`` and ``-``, starting with a letter or digit) at most ``max_length`` long; else
    ``UsageError``."""
    if not NAME.match(value) or len(value) > max_length:
        raise UsageError(f"{key}={value!r}: must be a plain folder name (lower-case letters, "
                         f"digits, '_', '-', starting with a letter or digit; at most "
                         f"{max_length} characters): it becomes part of the paths under the "
                         f"root and of the pipeline's name")
    return value


def _location(path: str) -> Tuple[str, str]:
    """(scheme, normalised path): a local path made real (symbolic links resolved); a URL's
    path normalised (``gs://b//x/./y/`` is ``gs://``, ``/b/x/y``). A glob stands for the
    folder above its first pattern component."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if _PATTERN.search(part):
            path = "/".join(parts[:index])
            break
    if is_remote(path):
        scheme, rest = path.split("://", 1)
        return f"{scheme.lower()}://", posixpath.normpath("/" + rest)
    return "", os.path.realpath(path or ".")


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def check_apart(output_flag: str, output: str, input_flag: str, input_path: Optional[str]) -> None:
    """``UsageError`` when the output folder is, or is inside, the input, or holds it: the
    output would become input (a class of the training data, a rerun reading its own files),
    or the input would be written over. Nothing to check without an input."""
    if not input_path or not input_path.strip():
        return
    (out_scheme, out_path), (in_scheme, in_path) = _location(output), _location(input_path)
    if out_scheme != in_scheme:
        return
    if _within(out_path, in_path):
        raise UsageError(f"{output_flag}={output} is inside {input_flag}={input_path}: the "
                         f"files written there would be read as input; choose an "
                         f"{output_flag} outside it")
    if _within(in_path, out_path):
        raise UsageError(f"{input_flag}={input_path} is inside {output_flag}={output}: the "
                         f"input would be mixed with the outputs; choose an {output_flag} that "
                         f"does not hold the input")


def _storage(folder: str, remote: Storage) -> Storage:
    return remote if is_remote(folder) else LOCAL


def _made_before_the_marker(names: List[str], kind: Kind) -> Optional[Kind]:
    """The kind whose layout ``names`` holds: ``kind`` first, then the others; None for none."""
    present = set(names)
    kinds = [kind] + [other for other in KINDS.values() if other != kind]
    return next((made for made in kinds if any(layout <= present for layout in made.layouts)),
                None)


def _marker_kind(storage: Storage, path: str) -> Optional[Kind]:
    """The kind a marker names; None when it is not a marker this module wrote."""
    try:
        values = json.loads(storage.read(path).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return KINDS.get(values.get("kind")) if isinstance(values, dict) else None


def _shown(names: List[str]) -> str:
    names = sorted(names)
    listed = ", ".join(names[:SHOWN_ENTRIES])
    return listed + (f", ... ({len(names)} entries)" if len(names) > SHOWN_ENTRIES else "")


def check(folder: str, kind: Kind, remote: Storage = GFILE) -> bool:
    """``UsageError`` unless ``folder`` is absent, empty or of ``kind`` (module docstring);
    returns whether its marker is already there. Writes nothing."""
    storage = _storage(folder, remote)
    where = f"{kind.flag}={folder}"
    try:
        names = storage.names(folder)
    except NotADirectoryError:
        raise UsageError(f"{where} is a file, not a folder; choose an absent or empty "
                         f"folder") from None
    if not names:
        return False
    marked = MARKER in names
    made = _marker_kind(storage, posixpath.join(folder, MARKER)) if marked else \
        _made_before_the_marker(names, kind)
    if made == kind:
        return marked
    if made is not None:
        raise UsageError(f"{where} is {made.what} made by `{made.command}`, not {kind.what}; "
                         f"choose an absent or empty folder for `{kind.command}`")
    raise UsageError(f"{where} already holds files that `{kind.command}` did not make "
                     f"({_shown(names)}); nothing was written: choose an absent or empty "
                     f"folder (or one an earlier `{kind.command}` made)")


def mark(folder: str, kind: Kind, remote: Storage = GFILE) -> None:
    """``check``, then the marker, when it is not there yet (the folder is made)."""
    if not check(folder, kind, remote):
        marker = {"kind": kind.key, "made_by": kind.command, "format": MARKER_FORMAT}
        _storage(folder, remote).write(posixpath.join(folder, MARKER),
                                       json.dumps(marker).encode("utf-8"))


@contextlib.contextmanager
def _locked(folder: str, kind: Kind) -> Iterator[None]:
    """Holds ``<folder>/run.lock`` (a local folder that exists) for the ``with`` block;
    ``UsageError`` naming the holder when another process holds it."""
    handle = os.open(os.path.join(folder, LOCK_FILE), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise UsageError(f"another `{kind.command}` is using {kind.flag}={folder} "
                             f"({holder}); wait for it to end or choose another "
                             f"{kind.flag}") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
                  .encode(), 0)
        yield
    finally:
        os.close(handle)


@contextlib.contextmanager
def claim(folder: str, kind: Kind, remote: Storage = GFILE) -> Iterator[str]:
    """``mark``, then (a local folder) ``_locked`` for the ``with`` block; yields the folder,
    made absolute when local."""
    if is_remote(folder):
        mark(folder, kind, remote)
        yield folder
        return
    folder = os.path.abspath(folder)
    mark(folder, kind)
    with _locked(folder, kind):
        yield folder
