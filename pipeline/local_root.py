"""The root of a local ``lsgan run``: ours, one run at a time, and a metadata store that opens.

``claim(root)`` is taken before TFX loads and held for the whole run:
  - the root must be absent, empty or one an earlier ``lsgan run`` made, and is marked as a
    pipeline root (``lsgan_tf.output_folder``): a folder of the user's files is refused;
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
import os
import sqlite3
from typing import Iterator

from lsgan_tf import output_folder, paths
from lsgan_tf.errors import UsageError

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
    """Claims the root (``output_folder.claim``: checked, marked, ``run.lock`` held) for the
    ``with`` block, then checks the metadata store; yields the absolute root. See the module
    docstring."""
    if paths.is_remote(root):
        raise UsageError(f"--root={root}: `lsgan run` keeps its SQLite metadata beside the "
                         "artifacts and needs a local folder; run remote roots on Kubeflow "
                         "(`lsgan compile --root=...`, docs/KUBEFLOW.md)")
    with output_folder.claim(root, output_folder.PIPELINE) as root:
        check_metadata(os.path.join(root, METADATA_FILE))
        yield root
