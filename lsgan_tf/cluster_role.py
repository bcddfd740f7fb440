"""Which process of a multi-worker run writes the run's files, read from ``TF_CONFIG`` before
TensorFlow loads (``lsgan train`` checks, marks and locks ``--out`` in that process only).

The rule is ``lsgan_tf.strategy.worker_role``'s, TensorFlow's multi-worker guide's: the task of
type ``chief``, else worker 0 of a cluster without a chief; every process of a single-process
strategy, and a process without ``TF_CONFIG`` or with an empty cluster, writes.
"""
from __future__ import annotations

import json
import os
from typing import Mapping, Optional

from lsgan_tf.errors import UsageError


def writes_outputs(strategy: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this process writes the run's files under ``train.strategy=strategy``; the
    others write only their own ``workertemp_<index>``, which they delete. ``UsageError`` for
    a ``TF_CONFIG`` that is not JSON with a ``cluster`` and a ``task``."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if strategy != "multi_worker" or not text.strip():
        return True
    try:
        spec = json.loads(text)
        cluster, task = spec.get("cluster") or {}, spec.get("task") or {}
        task_type, index = task.get("type"), int(task.get("index") or 0)
    except (ValueError, TypeError, AttributeError):
        raise UsageError(f"TF_CONFIG is not a JSON object with 'cluster' and 'task': "
                         f"{text[:80]!r}") from None
    if not cluster:
        return True
    return task_type == "chief" or (task_type == "worker" and index == 0
                                    and "chief" not in cluster)
