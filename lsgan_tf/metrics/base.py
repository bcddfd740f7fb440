"""What every feature extractor shares: the extractor interface, the training data handle with
its fingerprint, the on-disk cache location, and image preprocessing.

An extractor maps data (uint8 images [N, H, W, C] or float points [N, D]) to features [N, F]
and, when it is a classifier, to class probabilities [N, C]. Extractors that learn from the
real training split are trained once per (data fingerprint, settings) and saved under

    <cache dir>/<name>-<key>/      key = first 16 hex digits of SHA-256(settings, fingerprint)

where the cache dir is, in order: the ``cache_dir`` argument (``--cache_dir``),
``$LSGAN_EXTRACTOR_CACHE``, ``$XDG_CACHE_HOME/lsgan_tf/extractors``,
``~/.cache/lsgan_tf/extractors``.
"""
from __future__ import annotations

import abc

import dataclasses
import hashlib
import json
import os
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

import numpy as np

from lsgan_tf import paths

CACHE_ENV = "LSGAN_EXTRACTOR_CACHE"


def default_cache_dir() -> str:
    """``$LSGAN_EXTRACTOR_CACHE``, else ``$XDG_CACHE_HOME/lsgan_tf/extractors``, else
    ``~/.cache/lsgan_tf/extractors``."""
    if os.environ.get(CACHE_ENV):
        return os.environ[CACHE_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lsgan_tf", "extractors")


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """SHA-256 (hex) of the dtypes, shapes and bytes of the arrays."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def fingerprint_files(files: Iterable[str], root: str) -> str:
    """SHA-256 (hex) of the files' paths relative to ``root`` and their sizes (cheap: the
    files are not read, so a prepared data set of many GB is fingerprinted at once)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{os.path.relpath(path, root)}\0{paths.size(path)}\n".encode())
    return digest.hexdigest()


def settings_key(name: str, settings: Dict[str, Any], fingerprint: str) -> str:
    """First 16 hex digits of SHA-256 over the extractor name, its settings and the data."""
    text = json.dumps({"name": name, "settings": settings, "data": fingerprint}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class TrainingData:
    """The real training split, loaded only when an extractor has to be trained.

    ``fingerprint`` identifies the data (array hash or file list + sizes); ``load`` returns
    (uint8 images [N, H, W, C], int64 labels [N], -1 = unlabeled).
    """

    fingerprint: str
    load: Callable[[], Tuple[np.ndarray, np.ndarray]]
    description: str = ""

    @staticmethod
    def from_arrays(images: np.ndarray, labels: np.ndarray,
                    description: str = "arrays") -> "TrainingData":
        images, labels = np.asarray(images), np.asarray(labels)
        return TrainingData(fingerprint_arrays(images, labels), lambda: (images, labels),
                            description)


class FeatureExtractor(abc.ABC):
    """Maps data to features [N, F] (and class probabilities [N, C] for classifiers).

    Subclasses implement ``embed``; ``num_classes`` is 0 when there are no class probabilities.
    ``info`` is JSON-serialisable and ends up in ``metrics.json``. ``cache_settings``: when
    the features depend only on the images and these settings (a fixed network), a dict of
    them, and real-data features are cached (``lsgan_tf.metrics.feature_cache``); else None.
    """

    name: str = ""
    num_classes: int = 0
    cache_settings: Optional[Dict[str, Any]] = None

    def __init__(self, info: Optional[Dict[str, Any]] = None):
        self.info = dict(info or {})
        self.info.setdefault("name", self.name)

    @abc.abstractmethod
    def embed(self, data: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        """(features [N, F] float64, class probabilities [N, C] or None)."""

    def features(self, data: np.ndarray) -> np.ndarray:
        return self.embed(data)[0]


def check_images(images: np.ndarray) -> np.ndarray:
    """Returns images as uint8 [N, H, W, C] or raises a ValueError saying what was wrong."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3):
        raise ValueError("this extractor takes uint8 images [N, H, W, 1 or 3], got "
                         f"{images.dtype} {images.shape} (use --extractor=identity for points)")
    return images


def resize_images(images: np.ndarray, size: int, channels: Optional[int] = None,
                  batch_size: int = 512) -> np.ndarray:
    """uint8 [N, H, W, C] -> float32 [N, size, size, C'] in [0, 1] (bilinear, antialiased when
    shrinking; grey images are repeated to 3 channels when ``channels`` is 3)."""
    import tensorflow as tf

    images = check_images(images)
    if channels is not None and channels != images.shape[-1]:
        if images.shape[-1] == 1 and channels == 3:
            images = np.repeat(images, 3, axis=-1)
        else:
            raise ValueError(f"extractor expects {channels} channels, images have "
                             f"{images.shape[-1]}")
    out = []
    for start in range(0, len(images), batch_size):
        batch = tf.convert_to_tensor(images[start:start + batch_size], tf.float32) / 255.0
        height, width = batch.shape[1:3]
        if (height, width) != (size, size):
            batch = tf.image.resize(batch, (size, size), method="bilinear",
                                    antialias=height > size or width > size)
        out.append(np.clip(batch.numpy(), 0.0, 1.0))
    if not out:
        return np.zeros((0, size, size, images.shape[-1]), np.float32)
    return np.concatenate(out).astype(np.float32)
