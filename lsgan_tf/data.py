"""tf.data input for training and evaluation.

Sources: a registered built-in data set (``lsgan_tf.sources.DataSource``: ``digits``, ``mog8``
in ``builtin_data``, or a plugin) or a prepared directory in the data contract
(``example_schema``: gzipped TFRecord shards per split).

Training batches are dicts:
  ``real``: float32 [B, H, W, C] scaled to the generator's range (sigmoid: x / 255,
            tanh: x / 127.5 - 1) or [B, 2] points for ``mog8``;
  ``label``: int64 [B];
  ``z_d``, ``z_g``: float32 [B, z_dim] noise for the D step and the G step, drawn statelessly
            from (seed, 2 step) and (seed, 2 step + 1); with ``train.g_noise=shared`` the G step
            reads ``z_d``, so ``z_g`` is not drawn (it is ``z_d``).
The real batches are a function of (seed, step) too (``_record_batches``), so a run killed and
resumed from a checkpoint trains on the same batches, with the same noise, as one that was not.
Under a distribution strategy each input pipeline (worker, TPU host) makes only its replicas'
rows of each global batch (``InputShard``), sharding the input by file or by record.

A prepared shard damaged inside (found only when its records are read: TensorFlow's
``DataLossError`` names no file) is reported as ``prepared.DamagedData`` naming the shard and
the record wherever records are read here or in the training loop (``naming_damage``).
"""
from __future__ import annotations

import contextlib
from typing import Iterator, List, NamedTuple, Optional, Tuple

import numpy as np
import tensorflow as tf

from lsgan_tf import example_schema, prepared
from lsgan_tf.prepared import DataError
from lsgan_tf.registry import DATA_SOURCES
from lsgan_tf.sources import POINTS, DatasetInfo

TFRECORD = "tfrecord"


def split_files(root: str, split: str) -> List[str]:
    """The shards of one split of a prepared directory, once ``prepared.check`` has found the
    directory complete (``stats.json`` present, every shard it lists there)."""
    return prepared.check(root, split)


def prepared_root(data_config) -> str:
    """The prepared folder ``data_config`` (``config.data``) reads; "" for a built-in source."""
    return data_config.path if data_config.source == TFRECORD else ""


@contextlib.contextmanager
def naming_damage(root: str, split: str = example_schema.TRAIN) -> Iterator[None]:
    """Around code that reads ``split`` of the prepared folder ``root`` (nothing to name when
    ``root`` is empty: a built-in source): a ``DataLossError`` becomes the ``DamagedData``
    that ``prepared.find_damage`` finds among the split's shards, naming the shard and the
    record; it is raised as it is when every shard reads whole."""
    try:
        yield
    except tf.errors.DataLossError:
        damaged = prepared.find_damage(split_files(root, split)) if root else None
        if damaged is None:
            raise
        raise damaged from None


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
    with naming_damage(path, example_schema.TRAIN):
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
        with naming_damage(data, split):
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


def decoded_mb(root: str, split: str, size: int, channels: int) -> float:
    """MiB the decoded uint8 images of a prepared split take: records written (``stats.json``)
    x size x size x channels bytes; infinite when ``stats.json`` does not count them."""
    written = prepared.read_stats(root).get("written", {}).get(split)
    if not isinstance(written, int):
        return float("inf")
    return written * size * size * channels / 2 ** 20


def _decode_one(serialized, size: int, channels: int):
    """One serialized record -> (uint8 image [size, size, channels], int64 label)."""
    features = tf.io.parse_single_example(serialized, example_schema.feature_spec())
    image = tf.io.decode_png(features["image"], channels=channels)
    return tf.ensure_shape(image, [size, size, channels]), features["label"]


def _decode_batch(serialized, size: int, channels: int):
    """A batch of serialized records -> (uint8 images [B, size, size, channels], int64 labels
    [B]), the image shape static (TPUs compile only static shapes)."""
    features = tf.io.parse_example(serialized, example_schema.feature_spec())
    images = tf.map_fn(lambda png: tf.io.decode_png(png, channels=channels), features["image"],
                       fn_output_signature=tf.uint8)
    return tf.ensure_shape(images, [None, size, size, channels]), features["label"]


class InputShard(NamedTuple):
    """The part of every global batch that one input pipeline makes.

    ``pipelines`` input pipelines (one per worker or TPU host; ``index`` is this one) feed
    ``replicas`` replicas in all, ``replicas / pipelines`` of them on this pipeline's host. Global
    batch k is split into ``replicas`` slices of ``rows_per_replica`` rows, replica r taking rows
    [r * rows_per_replica, (r + 1) * rows_per_replica), as ``MirroredStrategy`` splits a global
    batch; this pipeline makes the slices of its own replicas, one element per replica.
    """
    pipelines: int = 1
    index: int = 0
    replicas: int = 1

    @classmethod
    def of(cls, context: Optional[tf.distribute.InputContext]) -> "InputShard":
        if context is None:
            return cls()
        return cls(context.num_input_pipelines, context.input_pipeline_id,
                   context.num_replicas_in_sync)

    @property
    def local_replicas(self) -> int:
        return self.replicas // self.pipelines

    def rows_per_replica(self, batch_size: int) -> int:
        if batch_size % self.replicas:
            raise DataError(f"train.batch_size={batch_size} must be a multiple of the "
                            f"{self.replicas} replicas of the strategy (the global batch is "
                            "split evenly over them)")
        return batch_size // self.replicas

    def rows(self, batch_size: int) -> Tuple[int, int]:
        """(first row, row count) of this pipeline's part of a global batch."""
        count = self.rows_per_replica(batch_size) * self.local_replicas
        return self.index * count, count


def _record_batches(config, split: str, start_step: int,
                    shard: InputShard = InputShard()) -> tf.data.Dataset:
    """uint8 (image, label) batches, this pipeline's rows, in an order that is a function of
    (seed, step).

    The records are shuffled with ``train.seed`` (each epoch anew), repeated and batched, and
    a run that resumes at ``start_step`` skips the ``start_step`` batches it already trained
    on: batch k is the same whether the run was interrupted or not. A prepared split that fits
    in ``data.cache_mb`` is decoded once (in parallel) and cached in memory before the shuffle;
    a larger one is shuffled and skipped as undecoded records and decoded batch by batch
    (only this pipeline's rows). Both give the same batches: the shuffle's order depends on
    the seed and the record count, not on what the records hold. A built-in source's arrays
    are in memory.

    Several pipelines shard the input by file when a prepared split has at least one shard per
    pipeline: pipeline i reads shards i, i + n, ... and batches its own rows (batch k is then
    a function of (seed, step, i, n)). Otherwise they shard by record: each reads every record,
    makes the global batch k and keeps its rows of it, so the replicas see exactly what they
    would see in one process.
    """
    data, train = config.data, config.train
    first, count = shard.rows(train.batch_size)
    by_file, decode_batches = False, False
    if data.source in DATA_SOURCES:
        images, labels = DATA_SOURCES.get(data.source)().split(split, data.eval_fraction)
        records = tf.data.Dataset.from_tensor_slices((images, labels))
    else:
        files = split_files(data.path, split)
        by_file = 1 < shard.pipelines <= len(files)
        if by_file:
            files = files[shard.index::shard.pipelines]
        records = tf.data.TFRecordDataset(files, compression_type="GZIP")
        size, channels = config.model.image_size, config.model.channels
        decode_batches = decoded_mb(data.path, split, size, channels) > data.cache_mb
        if not decode_batches:
            records = records.map(lambda serialized: _decode_one(serialized, size, channels),
                                  num_parallel_calls=tf.data.AUTOTUNE).cache()
    batch_rows = count if by_file else train.batch_size
    batches = (records.shuffle(data.shuffle_buffer, seed=train.seed,
                               reshuffle_each_iteration=True)
               .repeat().batch(batch_rows, drop_remainder=True).skip(start_step))
    if batch_rows != count:
        batches = batches.map(lambda *parts: tuple(part[first:first + count] for part in parts))
    if decode_batches:
        batches = batches.map(lambda serialized: _decode_batch(serialized, size, channels),
                              num_parallel_calls=tf.data.AUTOTUNE)
    return batches


def training_dataset(config, output_activation: str, start_step: int = 0,
                     split: str = example_schema.TRAIN,
                     shard: InputShard = InputShard()) -> tf.data.Dataset:
    """Endless shuffled batches with noise (see module doc): with the default ``shard``, global
    batches of ``config.train.batch_size``; otherwise one element per replica of the pipeline
    ``shard`` describes, each that replica's rows of the global batch (``InputShard``)."""
    info = inspect(config.data.source, config.data.path)
    _check_shape(info, config.model)
    train, noise = config.train, config.model.noise
    first, count = shard.rows(train.batch_size)
    steps = tf.data.Dataset.counter(start=start_step)
    batches = None
    if config.data.source != TFRECORD:
        batches = DATA_SOURCES.get(config.data.source)().stream(
            train.batch_size, train.seed, start_step)
    if batches is not None and count != train.batch_size:
        batches = batches.map(lambda real, label: (real[first:first + count],
                                                   label[first:first + count]))
    if batches is None:
        batches = _record_batches(config, split, start_step, shard).map(
            lambda images, labels: (scale_images(images, output_activation), labels),
            num_parallel_calls=tf.data.AUTOTUNE)

    def add_noise(batch, step):
        real, label = batch
        shape = [train.batch_size, noise.dim]
        seed = tf.cast(train.seed, tf.int64)
        z_d = sample_noise(shape, noise.distribution, tf.stack([seed, 2 * step]))
        z_g = (z_d if train.g_noise == "shared" else
               sample_noise(shape, noise.distribution, tf.stack([seed, 2 * step + 1])))
        return {"real": real, "label": label,
                "z_d": z_d[first:first + count], "z_g": z_g[first:first + count]}

    dataset = tf.data.Dataset.zip((batches, steps)).map(add_noise)
    if shard.local_replicas > 1:
        dataset = dataset.unbatch().batch(shard.rows_per_replica(train.batch_size),
                                          drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)
