"""tf.data input for training and evaluation.

Sources: a registered built-in data set (``lsgan_tf.sources.DataSource``: ``digits``, ``mog8``
in ``builtin_data``, or a plugin) or a prepared directory in the data contract
(``example_schema``: gzipped TFRecord shards per split).

Training batches are dicts:
  ``real``: float32 [B, H, W, C] scaled to the generator's range (sigmoid: x / 255,
            tanh: x / 127.5 - 1) or [B, 2] points for ``mog8``;
  ``label``: int64 [B];
  ``z_d``, ``z_g``: float32 [B, z_dim] noise for the D step and the G step, drawn statelessly
            from (seed, step).
The real batches are a function of (seed, step) too (``_record_batches``), so a run killed and
resumed from a checkpoint trains on the same batches, with the same noise, as one that was not.
"""
from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np
import tensorflow as tf

from lsgan_tf import example_schema, paths
from lsgan_tf.errors import UsageError
from lsgan_tf.registry import DATA_SOURCES
from lsgan_tf.sources import POINTS, DatasetInfo

TFRECORD = "tfrecord"


class DataError(UsageError):
    """Input data that cannot be used as asked (missing, empty, wrong shape or labels)."""


def split_files(root: str, split: str) -> List[str]:
    """The shards of one split of a prepared directory; a clear error when there are none."""
    if not paths.isdir(root):
        raise DataError(f"data directory {root!r} does not exist (make one with `lsgan prep`)")
    files = paths.glob(example_schema.split_pattern(root, split))
    if not files:
        raise DataError(f"no {example_schema.TFRECORD_SUFFIX} shards in "
                        f"{example_schema.split_dir(root, split)!r}")
    return files


def _parse(serialized):
    features = tf.io.parse_single_example(serialized, example_schema.feature_spec())
    return features


def tfrecord_dataset(root: str, split: str) -> tf.data.Dataset:
    """Parsed records (dicts of the contract's features) of one split."""
    return tf.data.TFRecordDataset(split_files(root, split), compression_type="GZIP",
                                   num_parallel_reads=tf.data.AUTOTUNE).map(_parse)


def inspect(source: str, path: str = "") -> DatasetInfo:
    """Shape and labels of a data set: a built-in source's ``info``, or a prepared directory's
    first record and ``labels.txt``."""
    if source != TFRECORD and source in DATA_SOURCES:
        return DATA_SOURCES.get(source).info
    if source != TFRECORD:
        raise DataError(f"unknown data.source {source!r}; known: {TFRECORD}, "
                        f"{', '.join(DATA_SOURCES.names())}")
    for features in tfrecord_dataset(path, example_schema.TRAIN).take(1):
        names = tuple(example_schema.read_labels(path))
        return DatasetInfo(int(features["height"]), int(features["channels"]),
                           int(features["label"]) >= 0, names)
    raise DataError(f"the train split of {path!r} holds no records")


def load_split(data: str, split: str, max_records: Optional[int] = None,
               eval_fraction: float = 0.1) -> Tuple[np.ndarray, np.ndarray]:
    """A whole split in memory: (uint8 images [N, H, W, C], int64 labels [N], -1 = unlabeled).

    ``data`` is a built-in name (``digits``; ``mog8`` gives float32 points [N, 2] and mode
    labels) or a prepared directory.
    """
    if data in DATA_SOURCES:
        images, labels = DATA_SOURCES.get(data)().split(split, eval_fraction)
    else:
        images_list, labels_list = [], []
        dataset = tfrecord_dataset(data, split)
        if max_records:
            dataset = dataset.take(max_records)
        for features in dataset:
            image = tf.io.decode_png(features["image"]).numpy()
            images_list.append(image)
            labels_list.append(int(features["label"]))
        if not images_list:
            raise DataError(f"split {split!r} of {data!r} holds no records")
        images, labels = np.stack(images_list), np.asarray(labels_list, np.int64)
    if max_records:
        images, labels = images[:max_records], labels[:max_records]
    return images, labels


def scale_images(images, output_activation: str):
    """uint8 -> the generator's range: sigmoid x / 255, tanh x / 127.5 - 1."""
    images = tf.cast(images, tf.float32)
    if output_activation == "sigmoid":
        return images / 255.0
    if output_activation == "tanh":
        return images / 127.5 - 1.0
    raise ValueError(f"no image range for output activation {output_activation!r}")


def sample_noise(shape, distribution: str, seed) -> tf.Tensor:
    """Stateless noise: U(-1, 1) (``uniform``) or N(0, 1) (``normal``) from a 2-int seed."""
    if distribution == "uniform":
        return tf.random.stateless_uniform(shape, seed=seed, minval=-1.0, maxval=1.0)
    if distribution == "normal":
        return tf.random.stateless_normal(shape, seed=seed)
    raise ValueError(f"unknown noise distribution {distribution!r}; known: uniform, normal")


def _check_shape(info: DatasetInfo, model_config) -> None:
    if info.kind == POINTS:
        return
    if info.image_size != model_config.image_size:
        raise DataError(
            f"the data holds {info.image_size} x {info.image_size} images but the model makes "
            f"{model_config.image_size} x {model_config.image_size}: prepare the data with "
            f"`lsgan prep --image_size={model_config.image_size}` or pass "
            f"--set model.image_size={info.image_size}")
    if model_config.num_classes and not info.labeled:
        raise DataError("the conditional model needs labelled data, but the records have "
                        "label -1; use an unconditional preset (e.g. dcgan) for this data")


def _decode_batch(serialized, channels: int):
    """A batch of serialized records -> (uint8 images [B, H, W, C], int64 labels [B])."""
    features = tf.io.parse_example(serialized, example_schema.feature_spec())
    images = tf.map_fn(lambda png: tf.io.decode_png(png, channels=channels), features["image"],
                       fn_output_signature=tf.uint8)
    return images, features["label"]


def _record_batches(config, split: str, start_step: int) -> tf.data.Dataset:
    """uint8 (image, label) batches in an order that is a function of (seed, step).

    The records are shuffled with ``train.seed`` (each epoch anew), repeated and batched, and
    a run that resumes at ``start_step`` skips the ``start_step`` batches it already trained
    on: batch k is the same whether the run was interrupted or not. Prepared folders are
    skipped as undecoded records (decoding comes after the skip); a built-in source's arrays
    are in memory.
    """
    data, train = config.data, config.train
    if data.source in DATA_SOURCES:
        images, labels = DATA_SOURCES.get(data.source)().split(split, data.eval_fraction)
        records = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        records = tf.data.TFRecordDataset(split_files(data.path, split), compression_type="GZIP")
    batches = (records.shuffle(data.shuffle_buffer, seed=train.seed,
                               reshuffle_each_iteration=True)
               .repeat().batch(train.batch_size, drop_remainder=True).skip(start_step))
    if data.source not in DATA_SOURCES:
        channels = config.model.channels
        batches = batches.map(lambda serialized: _decode_batch(serialized, channels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return batches


def training_dataset(config, output_activation: str, start_step: int = 0,
                     split: str = example_schema.TRAIN) -> tf.data.Dataset:
    """Endless shuffled batches of ``config.train.batch_size`` with noise (see module doc)."""
    info = inspect(config.data.source, config.data.path)
    _check_shape(info, config.model)
    train, noise = config.train, config.model.noise
    steps = tf.data.Dataset.counter(start=start_step)
    batches = None
    if config.data.source != TFRECORD:
        batches = DATA_SOURCES.get(config.data.source)().stream(
            train.batch_size, train.seed, start_step)
    if batches is None:
        batches = _record_batches(config, split, start_step).map(
            lambda images, labels: (scale_images(images, output_activation), labels),
            num_parallel_calls=tf.data.AUTOTUNE)

    def add_noise(batch, step):
        real, label = batch
        shape = [train.batch_size, noise.dim]
        seed = tf.cast(train.seed, tf.int64)
        return {
            "real": real,
            "label": label,
            "z_d": sample_noise(shape, noise.distribution, tf.stack([seed, 2 * step])),
            "z_g": sample_noise(shape, noise.distribution, tf.stack([seed, 2 * step + 1])),
        }

    return tf.data.Dataset.zip((batches, steps)).map(add_noise).prefetch(tf.data.AUTOTUNE)
