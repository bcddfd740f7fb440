"""The feature-extractor plugins (registry ``lsgan_tf.registry.EXTRACTORS``).

A registered extractor is a function

    build(training: TrainingData | None, cache_dir: str | None, seed: int, **options)
        -> FeatureExtractor

Built in:
  identity    the data itself (points, or images flattened and scaled to [0, 1]);
  classifier  small CNN trained on the labelled training split  (lsgan_tf.metrics.cnn);
  rotation    the same CNN trained to predict image rotations    (lsgan_tf.metrics.cnn);
  inception   Inception-v3 pool features from a local file       (lsgan_tf.metrics.inception);
  fid_inception  the 2015 FID Inception-v3, compare_gan protocol (lsgan_tf.metrics.fid_inception).
A third-party extractor is one module that registers a function like these (entry-point group
``lsgan_tf.plugins``).
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from lsgan_tf.metrics import cnn, fid_inception, inception  # noqa: F401  (they register)
from lsgan_tf.metrics.base import FeatureExtractor, TrainingData
from lsgan_tf.registry import EXTRACTORS


class IdentityExtractor(FeatureExtractor):
    """Features = the data: points as they are, uint8 images flattened and divided by 255."""

    name = "identity"

    def embed(self, data: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        data = np.asarray(data)
        scale = 255.0 if data.dtype == np.uint8 else 1.0
        return data.reshape(len(data), -1).astype(np.float64) / scale, None


@EXTRACTORS.register("identity")
def identity_extractor(training: Optional[TrainingData] = None, cache_dir: Optional[str] = None,
                       seed: int = 0) -> IdentityExtractor:
    """The data itself as features (the right choice for 2-D points such as ``mog8``)."""
    del training, cache_dir, seed
    return IdentityExtractor()


def default_extractor_name(real: np.ndarray, labels: np.ndarray) -> str:
    """``identity`` for points, ``classifier`` for images with at least two labelled classes,
    else ``rotation``."""
    if np.asarray(real).ndim == 2:
        return "identity"
    labels = np.asarray(labels)
    return "classifier" if len(np.unique(labels[labels >= 0])) >= 2 else "rotation"


def get_extractor(name: str, training: Optional[TrainingData] = None,
                  cache_dir: Optional[str] = None, seed: int = 0,
                  **options) -> FeatureExtractor:
    """Looks ``name`` up in the registry (a miss lists the known names) and builds it."""
    return EXTRACTORS.get(name)(training=training, cache_dir=cache_dir, seed=seed, **options)
