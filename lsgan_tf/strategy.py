"""``tf.distribute`` strategy by name: default, one_device, mirrored, multi_worker, tpu.

* ``mirrored``: all GPUs; without GPUs, all logical CPU devices (tests split the CPU into two
  logical devices with ``split_cpu``).
* ``multi_worker``: ``MultiWorkerMirroredStrategy`` from ``TF_CONFIG``.
* ``tpu``: ``TPUStrategy`` on the TPU named by ``train.tpu`` ('' = local / from the environment).
"""
from __future__ import annotations

import tensorflow as tf

from lsgan_tf.validation import STRATEGIES


def split_cpu(count: int) -> None:
    """Splits the first CPU into ``count`` logical devices (before TensorFlow initialises)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])


def make_strategy(name: str, tpu: str = "") -> tf.distribute.Strategy:
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
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"unknown train.strategy {name!r}; known: {', '.join(STRATEGIES)}")
