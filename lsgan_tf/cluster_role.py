"""``TF_CONFIG`` read once, without TensorFlow: the cluster, this process's task, and which
process of a multi-worker run writes the run's files (``lsgan train`` checks, marks and locks
``--out`` in that process only).

``read_tf_config`` is the one parser (``lsgan_tf.strategy`` counts the training tasks with it,
``lsgan_tf.peers`` meets them). ``is_chief`` is TensorFlow's multi-worker guide's rule, which
``lsgan_tf.strategy.worker_role`` applies to a running strategy: the task of type ``chief``,
else worker 0 of a cluster without a chief. Every process of a single-process strategy, and a
process without ``TF_CONFIG`` or with an empty cluster, writes.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Mapping, NamedTuple, Optional

from lsgan_tf.errors import UsageError

TRAINING_JOBS = ("chief", "worker")  # the TF_CONFIG jobs that train


class TfConfig(NamedTuple):
    """``TF_CONFIG``'s ``cluster`` (job -> addresses) and this process's ``task``."""
    cluster: Dict[str, List[str]]
    task_type: Optional[str]
    index: int

    @property
    def training_tasks(self) -> int:
        """How many chief and worker tasks the cluster names."""
        return sum(len(self.cluster.get(job) or ()) for job in TRAINING_JOBS)


def read_tf_config(environ: Optional[Mapping[str, str]] = None) -> Optional[TfConfig]:
    """``TF_CONFIG`` of ``environ`` (default: this process's); None when unset or blank.
    ``UsageError`` for one that is not JSON with a ``cluster`` and a ``task``."""
    text = (os.environ if environ is None else environ).get("TF_CONFIG", "")
    if not text.strip():
        return None
    try:
        spec = json.loads(text)
        cluster, task = spec.get("cluster") or {}, spec.get("task") or {}
        task_type = task.get("type")
        return TfConfig(dict(cluster), None if task_type is None else str(task_type),
                        int(task.get("index") or 0))
    except (ValueError, TypeError, AttributeError):
        raise UsageError(f"TF_CONFIG is not a JSON object with 'cluster' and 'task': "
                         f"{text[:80]!r}") from None


def is_chief(task_type: Optional[str], index: int, cluster: Mapping[str, object]) -> bool:
    """The task of type ``chief``, else worker 0 of a cluster without a chief."""
    return task_type == "chief" or (task_type == "worker" and index == 0
                                    and "chief" not in cluster)


def writes_outputs(strategy: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Whether this process writes the run's files under ``train.strategy=strategy``; the
    others write only their own ``workertemp_<index>``, which they delete."""
    if strategy != "multi_worker":
        return True
    spec = read_tf_config(environ)
    if spec is None or not spec.cluster:
        return True
    return is_chief(spec.task_type, spec.index, spec.cluster)
