"""The root of a local ``lsgan run``: one run at a time, and a metadata store that opens.

``claim(root)`` is taken before TFX loads and held for the whole run:
  - ``<root>/run.lock`` is locked with ``flock`` (released by the kernel when the process ends,
    killed or not); a second ``lsgan run`` on the same root fails at once with a ``UsageError``
    naming the process that holds it, instead of racing on SQLite and the serving folder;
  - ``<root>/metadata.sqlite``, when it exists, must pass SQLite's ``PRAGMA quick_check``; a
    damaged store (a truncated copy, a full disk during a write) is reported by name with the way
    to recover: move it aside; the artifacts under ``<root>/pipeline`` stay where they are.
The root must be a local folder: SQLite ML Metadata lives beside the artifacts (``gs://`` roots
run on Kubeflow: ``lsgan compile``).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from typing import Iterator

from lsgan_tf import paths
from lsgan_tf.errors import UsageError

LOCK_FILE = "run.lock"
METADATA_FILE = "metadata.sqlite"


def check_metadata(path: str) -> None:
    """``UsageError`` when the SQLite file at ``path`` exists and is not a sound database."""
    if not os.path.exists(path):
        return
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            verdict = [row[0] for row in db.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as error:
        verdict = [str(error)]
    if verdict != ["ok"]:
        raise UsageError(
            f"the ML Metadata store {path} is damaged ({'; '.join(verdict[:2])}); move it aside "
            f"(mv {path} {path}.damaged) and run again: the artifacts under "
            f"{os.path.join(os.path.dirname(path), 'pipeline')} stay, the next run starts a new "
            f"store and runs every component again")


@contextlib.contextmanager
def claim(root: str) -> Iterator[str]:
    """Holds ``<root>/run.lock`` for the ``with`` block after checking the metadata store;
    yields the absolute root. See the module docstring."""
    if paths.is_remote(root):
        raise UsageError(f"--root={root}: `lsgan run` keeps its SQLite metadata beside the "
                         "artifacts and needs a local folder; run remote roots on Kubeflow "
                         "(`lsgan compile --root=...`, docs/KUBEFLOW.md)")
    root = os.path.abspath(root)
    os.makedirs(root, exist_ok=True)
    lock_path = os.path.join(root, LOCK_FILE)
    handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise UsageError(f"another `lsgan run` is using --root={root} ({holder}); wait for "
                             f"it to end or choose another --root") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}"
                  .encode(), 0)
        check_metadata(os.path.join(root, METADATA_FILE))
        yield root
    finally:
        os.close(handle)
