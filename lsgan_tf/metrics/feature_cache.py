"""Real-data features computed once: an extractor whose features depend only on its settings
and the images (``cache_settings`` not None, e.g. ``fid_inception``: weights and protocol)
has them kept as float32 ``.npy`` in the extractor cache (``base.default_cache_dir``):

    <cache dir>/features-<name>-<key>.npy    key = ``settings_key(name, cache_settings,
                                               SHA-256 of the images' dtype, shape and bytes)``

so the 10,000 test images of MNIST go through Inception once, and any change of the data or
of the protocol makes a new key (a recomputation). The mean and covariance that FD uses, and
the k-NN radii, are derived from them. Written under a temporary name, then renamed.
"""
from __future__ import annotations

import io
import os
from typing import Optional

import numpy as np

from lsgan_tf import paths
from lsgan_tf.metrics.base import (FeatureExtractor, default_cache_dir, fingerprint_arrays,
                                   settings_key)


def cache_path(extractor: FeatureExtractor, images: np.ndarray,
               cache_dir: Optional[str] = None) -> Optional[str]:
    """Where the features of ``images`` under ``extractor`` are kept; None when the extractor
    does not declare ``cache_settings``."""
    if extractor.cache_settings is None:
        return None
    key = settings_key(extractor.name, extractor.cache_settings, fingerprint_arrays(images))
    return os.path.join(cache_dir or default_cache_dir(), f"features-{extractor.name}-{key}.npy")


def real_features(extractor: FeatureExtractor, images: np.ndarray,
                  cache_dir: Optional[str] = None, log=None) -> np.ndarray:
    """``extractor.features(images)``, from the cache when it holds them (module doc)."""
    path = cache_path(extractor, images, cache_dir)
    if path is None:
        return extractor.features(images)
    if paths.exists(path):
        if log:
            log(f"real features from the cache {path}")
        return np.load(io.BytesIO(paths.read_bytes(path))).astype(np.float64)
    features = extractor.features(images)
    buffer = io.BytesIO()
    np.save(buffer, features.astype(np.float32))
    partial = f"{path}.partial-{os.getpid()}"
    paths.write_bytes(partial, buffer.getvalue())
    if paths.exists(path):  # another process finished first: keep its file
        paths.remove(partial)
    else:
        paths.rename(partial, path)
    return features.astype(np.float32).astype(np.float64)  # as a later read gives them
