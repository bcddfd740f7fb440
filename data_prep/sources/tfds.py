"""``tfds``: a TFDS dataset already prepared in ``--tfds_data_dir`` (``--input`` = its name,
e.g. ``mnist`` or ``cifar10:3.0.2``). Nothing is downloaded: a dataset that is not prepared
there is an ``InputError`` that says how to prepare it.

Every split is read (the output is re-split by ``id``). The image is the feature ``image``
(or the first Image feature), the label the ClassLabel ``label`` if there is one (its names go
to ``labels.txt``). Images keep the dataset's size unless ``--image_size`` is given (then the
shorter side is resized and centre-cropped), and its channels unless ``--channels`` is given.
``id`` = the ``tfds_id`` of the example (file shard and index): stable for a prepared dataset.
Ids and class names are made text by ``records.escape_name`` (control characters escaped).
An error reading the prepared files (``OSError``, a TensorFlow ``OpError`` such as
``DataLossError`` for a damaged shard) ends the example range: each example not read is an
``unreadable`` reject with the id ``<dataset>/<split>[<index>]`` (its ``tfds_id`` is unknown).
"""
from __future__ import annotations

from typing import Iterator, Optional, Tuple, Union

import numpy as np

from data_prep import images
from data_prep.files import UNREADABLE, describe
from data_prep.records import Record, Reject, escape_name
from data_prep.source import InputError, Plan, Source
from data_prep.sources import SOURCES
from lsgan_tf.example_schema import UNLABELED

EXAMPLES_PER_SHARD = 4096


def _feature_keys(info) -> Tuple[str, Optional[str]]:
    """``(image key, label key or None)`` of a dataset's features."""
    import tensorflow_datasets as tfds

    features = info.features
    image_keys = [key for key, feature in features.items()
                  if isinstance(feature, tfds.features.Image)]
    if not image_keys:
        raise InputError(f"tfds: {info.name} has no Image feature")
    image_key = "image" if "image" in image_keys else image_keys[0]
    label = features["label"] if "label" in features.keys() else None
    label_key = "label" if isinstance(label, tfds.features.ClassLabel) else None
    return image_key, label_key


@SOURCES.register("tfds")
class TfdsSource(Source):
    """A prepared TFDS dataset; shards are ``(split, start, stop)`` example ranges."""

    default_channels = 0  # 0: the dataset's own channels

    def _builder(self):
        import tensorflow_datasets as tfds

        where = self.options.tfds_data_dir or "the default TFDS data directory"
        try:
            builder = tfds.builder(self.input_path, data_dir=self.options.tfds_data_dir)
        except tfds.core.registered.DatasetNotFoundError:
            raise InputError(f"tfds: no dataset {self.input_path!r} in {where}") from None
        if not builder.is_prepared():
            raise InputError(
                f"tfds: {self.input_path} is not prepared in {where} and lsgan prep does not "
                f"download; prepare it first, e.g. `tfds build {self.input_path} "
                f"--data_dir=DIR`, then pass --tfds_data_dir=DIR")
        return builder

    def plan(self) -> Plan:
        builder = self._builder()
        info = builder.info
        image_key, label_key = _feature_keys(info)
        shape = info.features[image_key].shape
        if self.image_size is None and None in shape[:2]:
            raise InputError(f"tfds: {info.name} images vary in size {shape}; give --image_size")
        shards, left = [], self.options.max_records
        for split in sorted(info.splits):
            count = info.splits[split].num_examples
            count = count if left is None else min(count, left)
            shards += [(split, start, min(start + EXAMPLES_PER_SHARD, count))
                       for start in range(0, count, EXAMPLES_PER_SHARD)]
            if left is not None:
                left -= count
                if left == 0:
                    break
        names = tuple(escape_name(name) for name in info.features[label_key].names
                      ) if label_key else ()
        total = sum(stop - start for _, start, stop in shards)
        return Plan(shards=tuple(shards), class_names=names,
                    description=f"{total:,} examples of {info.full_name}")

    def setup(self) -> None:
        self._tfds_builder = self._builder()
        self._keys = _feature_keys(self._tfds_builder.info)

    def read(self, shard: Tuple[str, int, int]) -> Iterator[Union[Record, Reject]]:
        import tensorflow as tf
        import tensorflow_datasets as tfds

        split, start, stop = shard
        image_key, label_key = self._keys
        index = start
        try:
            dataset = self._tfds_builder.as_dataset(
                split=f"{split}[{start}:{stop}]", shuffle_files=False,
                read_config=tfds.ReadConfig(add_tfds_id=True))
            for example in tfds.as_numpy(dataset):
                label = int(example[label_key]) if label_key else UNLABELED
                yield Record(escape_name(example["tfds_id"]), example[image_key], label)
                index += 1
        except (OSError, tf.errors.OpError) as error:
            detail = describe(error)
            name = escape_name(self._tfds_builder.info.name)
            for missing in range(index, stop):
                yield Reject(f"{name}/{split}[{missing}]", UNREADABLE, detail)

    def decode(self, record: Record) -> np.ndarray:
        pixels = record.payload
        channels = self.channels or (1 if pixels.shape[-1] == 1 else 3)
        image = images.from_array(pixels)
        if self.image_size and image.size != (self.image_size, self.image_size):
            image = images.crop_to_square(image, self.image_size)
        return images.to_array(image, channels)
