"""Data sets that need no files: they ship inside packages or are drawn from a formula.

* ``digits``: scikit-learn's 1,797 real handwritten digits (8 x 8, values 0..16, 10 classes),
  scaled to 0..255 and resized to 28 x 28 x 1 (bilinear), white strokes on black; ids
  ``digits:<index>``; split by ``example_schema.split_of`` (the same rule as ``lsgan prep``).
* ``mog8``: the paper's ring of 8 Gaussians, radius 1, std 0.01, centres at angles 2 pi k / 8;
  drawn from a seed (points, not images).
* ``mog8_authors``: the same ring in the layout of the LSGAN authors' script
  (``stability_comparison/mixture_gaussian``): 9 equally likely components, the 8 centres and
  the first one again, so centre 0 is drawn with probability 2/9. Labels are the centre (0..7).
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np
from PIL import Image

from lsgan_tf import example_schema
from lsgan_tf.registry import DATA_SOURCES
from lsgan_tf.sources import POINTS, DatasetInfo, DataSource

DIGITS_SIZE = 28
MOG_MODES = 8
MOG_RADIUS = 1.0
MOG_STD = 0.01
AUTHORS_COMPONENTS = MOG_MODES + 1  # the 8 centres, then centre 0 again


def digits_arrays(image_size: int = DIGITS_SIZE) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """All 1,797 digits as (uint8 [N, S, S, 1], int64 labels [N], ids)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images8 = np.clip(np.round(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)
    resized = np.stack([
        np.asarray(Image.fromarray(img).resize((image_size, image_size), Image.BILINEAR))
        for img in images8
    ])[..., None]
    ids = [f"digits:{i}" for i in range(len(images8))]
    return resized, bunch.target.astype(np.int64), ids


def digits_split(split: str, eval_fraction: float = 0.1,
                 image_size: int = DIGITS_SIZE) -> Tuple[np.ndarray, np.ndarray]:
    """One split of ``digits`` as (uint8 images [N, S, S, 1], int64 labels [N])."""
    images, labels, ids = digits_arrays(image_size)
    keep = np.array([example_schema.split_of(i, eval_fraction) == split for i in ids])
    return images[keep], labels[keep]


DIGITS_CLASS_NAMES = [str(d) for d in range(10)]


@DATA_SOURCES.register("digits")
class Digits(DataSource):
    """scikit-learn's digits at 28 x 28 x 1, 10 classes."""

    info = DatasetInfo(DIGITS_SIZE, 1, True, tuple(DIGITS_CLASS_NAMES))

    def split(self, split: str, eval_fraction: float = 0.1):
        return digits_split(split, eval_fraction)


def mog8_centres() -> np.ndarray:
    """The 8 mode centres, float32 [8, 2], at angles 2 pi k / 8 on the circle of radius 1."""
    angles = 2.0 * np.pi * np.arange(MOG_MODES) / MOG_MODES
    return (MOG_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def mog8_sample(n: int, seed: int, components: int = MOG_MODES) -> np.ndarray:
    """n points of the ring, std 0.01, float32 [n, 2]: one of ``components`` equally likely
    components each, component k centred on centre k mod 8 (8: each mode 1/8; 9: the authors'
    layout)."""
    rng = np.random.default_rng(seed)
    modes = rng.integers(0, components, size=n) % MOG_MODES
    return (mog8_centres()[modes] + rng.normal(0.0, MOG_STD, size=(n, 2))).astype(np.float32)


def mog8_split(split: str, eval_fraction: float = 0.1, n: int = 10000,
               components: int = MOG_MODES) -> Tuple[np.ndarray, np.ndarray]:
    """A fixed sample of the ring for a split (seed 0 for train, 1 for eval); labels = mode index."""
    seed = 0 if split == example_schema.TRAIN else 1
    points = mog8_sample(n, seed, components)
    angles = np.mod(np.arctan2(points[:, 1], points[:, 0]), 2 * np.pi)
    modes = np.round(angles / (2 * np.pi / MOG_MODES)).astype(np.int64) % MOG_MODES
    return points, modes


def mog8_batch(batch_size: int, seed, components: int = MOG_MODES):
    """A fresh batch of the ring from a 2-int stateless seed: (float32 points [B, 2], int64
    modes [B]); ``components`` as in ``mog8_sample``."""
    import tensorflow as tf

    seed = tf.cast(seed, tf.int64)
    modes = tf.random.stateless_uniform([batch_size], seed=seed, maxval=components,
                                        dtype=tf.int32) % MOG_MODES
    centres = tf.gather(tf.constant(mog8_centres()), modes)
    jitter = MOG_STD * tf.random.stateless_normal([batch_size, 2], seed=seed + 1)
    return centres + jitter, tf.cast(modes, tf.int64)


@DATA_SOURCES.register("mog8")
class Mog8(DataSource):
    """The 8-mode ring; training draws fresh batches, batch of step s from seed (seed, 2^40 + s)."""

    info = DatasetInfo(0, 0, True, tuple(str(k) for k in range(MOG_MODES)), kind=POINTS)
    components = MOG_MODES

    def split(self, split: str, eval_fraction: float = 0.1):
        return mog8_split(split, eval_fraction, components=self.components)

    def stream(self, batch_size: int, seed: int, start_step: int):
        import tensorflow as tf

        return tf.data.Dataset.counter(start=start_step).map(
            lambda step: mog8_batch(batch_size, tf.stack([tf.cast(seed, tf.int64), 2 ** 40 + step]),
                                    self.components))


@DATA_SOURCES.register("mog8_authors")
class Mog8Authors(Mog8):
    """The ring in the authors' 9-component layout (module docstring)."""

    components = AUTHORS_COMPONENTS
