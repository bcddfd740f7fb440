"""``digits``: scikit-learn's 1,797 handwritten digits, the embedded default (no input needed).

The images, labels and ids (``digits:<index>``) are ``lsgan_tf.builtin_data.digits_arrays``:
8 x 8 scans scaled to 0..255, resized to ``image_size`` (default 28), grayscale, labels 0-9.
"""
from __future__ import annotations

from typing import Iterator, Tuple

import numpy as np

from data_prep import images
from data_prep.records import Record
from data_prep.source import Plan, Source
from data_prep.sources import SOURCES
from lsgan_tf.builtin_data import DIGITS_CLASS_NAMES, DIGITS_SIZE, digits_arrays

IMAGES_PER_SHARD = 512


@SOURCES.register("digits")
class DigitsSource(Source):
    """The scikit-learn digits; shards are index ranges ``(start, stop)``."""

    default_image_size = DIGITS_SIZE
    default_channels = 1
    needs_input = False

    def plan(self) -> Plan:
        count = len(digits_arrays(self.image_size)[2])
        count = min(count, self.options.max_records or count)
        shards = tuple((start, min(start + IMAGES_PER_SHARD, count))
                       for start in range(0, count, IMAGES_PER_SHARD))
        return Plan(shards=shards, class_names=tuple(DIGITS_CLASS_NAMES),
                    description=f"{count:,} scikit-learn digits")

    def setup(self) -> None:
        self._images, self._labels, self._ids = digits_arrays(self.image_size)

    def read(self, shard: Tuple[int, int]) -> Iterator[Record]:
        for index in range(*shard):
            yield Record(self._ids[index], self._images[index], int(self._labels[index]))

    def decode(self, record: Record) -> np.ndarray:
        return images.to_array(images.from_array(record.payload), self.channels)
