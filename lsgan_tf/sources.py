"""The contract of a built-in data source: data that needs no files (it ships in a package or
is drawn from a formula), registered with ``@DATA_SOURCES.register(name)`` on a subclass of
``DataSource``. Prepared directories (``data.source=tfrecord``) are read by ``lsgan_tf.data``.

A plugin is one module:

    @DATA_SOURCES.register("my_data")
    class MyData(DataSource):
        info = DatasetInfo(image_size=32, channels=3, labeled=False, class_names=())
        def split(self, split, eval_fraction=0.1):
            return images_uint8_nhwc, labels_int64   # labels -1 when unlabelled

``info`` is read by ``config.validate()`` without loading anything, so the shape and labels
must be known up front. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Optional, Tuple

IMAGES = "images"
POINTS = "points"


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a data set holds: ``image_size`` x ``image_size`` x ``channels`` uint8 images (or
    2-D float32 points when ``kind`` is ``points``, with size and channels 0), whether records
    carry labels, and the class names (label id -> name)."""
    image_size: int
    channels: int
    labeled: bool
    class_names: Tuple[str, ...]
    kind: str = IMAGES


class DataSource(abc.ABC):
    """A registered built-in data set; ``info`` is a class attribute (see the module doc)."""

    info: DatasetInfo

    @abc.abstractmethod
    def split(self, split: str, eval_fraction: float = 0.1) -> Tuple[Any, Any]:
        """One split (``train`` or ``eval``) in memory: (uint8 images [N, H, W, C] or float32
        points [N, 2], int64 labels [N], -1 when unlabelled)."""

    def stream(self, batch_size: int, seed: int, start_step: int) -> Optional[Any]:
        """Endless ``tf.data.Dataset`` of (real, label) batches, batch ``k`` a function of
        (seed, start_step + k), for sources drawn from a formula; ``None`` (the default): the
        trainer shuffles and batches ``split("train")``."""
        return None
