"""``tf.distribute`` strategy by name: default, one_device, mirrored, multi_worker, tpu.

* ``mirrored``: all GPUs; without GPUs, all logical CPU devices (tests split the CPU into two
  logical devices with ``split_cpu``).
* ``multi_worker``: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG`` (one process per
  worker; without ``TF_CONFIG``, one local worker). Before TensorFlow starts this worker's
  server, ``peers.meet`` checks that its port is free and waits for every peer
  (``LSGAN_PEER_TIMEOUT_S``, default 600 s): a port in use or a peer that never came up is one
  line (``UsageError``) instead of a traceback or an hour's wait.
* ``tpu``: ``TPUStrategy`` on the TPU named by ``train.tpu`` ('' = local / from the environment).

A ``TF_CONFIG`` that names several tasks with a single-process strategy is refused
(``ConfigError``): every task would train alone and write the same files.
``worker_role`` says which process is the chief, the one that writes the run's files.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

import tensorflow as tf

from lsgan_tf import peers
from lsgan_tf.cluster_role import is_chief, read_tf_config
from lsgan_tf.config import ConfigError
from lsgan_tf.validation import STRATEGIES

SINGLE_PROCESS = ("default", "one_device", "mirrored")


class WorkerRole(NamedTuple):
    """This process in its cluster: ``chief`` writes the run's files; ``task_type`` and
    ``task_id`` come from the cluster resolver (``None``, 0 outside a cluster)."""
    chief: bool = True
    task_type: Optional[str] = None
    task_id: int = 0
    workers: int = 1


def split_cpu(count: int) -> None:
    """Splits the first CPU into ``count`` logical devices (before TensorFlow initialises)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


def cluster_tasks() -> int:
    """How many training tasks (chief and workers) ``TF_CONFIG`` names; 0 without it."""
    spec = read_tf_config()
    return spec.training_tasks if spec else 0


def worker_role(strategy: tf.distribute.Strategy) -> WorkerRole:
    """Chief or not, as TensorFlow's multi-worker guide decides: the task of type ``chief``,
    else worker 0; every process of a single-process strategy (or TPU client) is chief."""
    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return WorkerRole()
    resolver = strategy.cluster_resolver
    spec = resolver.cluster_spec().as_dict() if resolver is not None else {}
    if not spec:
        return WorkerRole()
    task_type, task_id = resolver.task_type, int(resolver.task_id or 0)
    chief = is_chief(task_type, task_id, spec)
    workers = len(spec.get("chief", ())) + len(spec.get("worker", ()))
    return WorkerRole(chief, task_type, task_id, workers)


def make_strategy(name: str, tpu: str = "") -> tf.distribute.Strategy:
    if name in SINGLE_PROCESS and cluster_tasks() > 1:
        raise ConfigError(f"train.strategy={name!r}: TF_CONFIG names {cluster_tasks()} tasks, "
                          "and each would train alone into the same folder; use "
                          "train.strategy=multi_worker (or unset TF_CONFIG)")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "one_device":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.OneDeviceStrategy(gpus[0].name if gpus else "/cpu:0")
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = [d.name for d in (gpus or tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(devices)
    if name == "multi_worker":
        cluster = peers.Cluster.from_environment()
        if cluster is not None:
            peers.meet(cluster)
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown train.strategy {name!r}; known: {', '.join(STRATEGIES)}")
