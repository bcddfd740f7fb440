"""The data contract shared by data_prep, lsgan_tf.data and the TFX components.

One ``tf.train.Example`` per image:
  image: bytes, PNG-encoded uint8 H x W x C (C = 1 or 3) at the training size
  label: int64, class id, -1 when the data has no labels
  height, width, channels: int64, shape of ``image``
  id: bytes, where the record came from (LMDB key, ``file.gnt:offset``, path)

Directory layout of a prepared dataset (``lsgan prep`` output and the TFX Examples artifact):
  Split-train/*.tfrecord.gz, Split-eval/*.tfrecord.gz, labels.txt, stats.json, rejects/
"""
from __future__ import annotations

import os
from typing import Dict, List

import numpy as np

from lsgan_tf import png

UNLABELED = -1
TRAIN = "train"
EVAL = "eval"
SPLITS = (TRAIN, EVAL)
LABELS_FILE = "labels.txt"
STATS_FILE = "stats.json"
REJECTS_DIR = "rejects"
TFRECORD_SUFFIX = ".tfrecord.gz"


def split_dir(root: str, split: str) -> str:
    """``<root>/Split-<split>``: the folder of one split's gzipped TFRecord shards."""
    return os.path.join(root, f"Split-{split}")


def split_pattern(root: str, split: str) -> str:
    """Glob of the shards of one split."""
    return os.path.join(split_dir(root, split), "*" + TFRECORD_SUFFIX)


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes of a uint8 H x W x C array (C = 1 or 3): ``lsgan_tf.png``, the kind of file
    Pillow writes by default, encoded without holding the GIL while it deflates."""
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] not in (1, 3) \
            or 0 in image.shape:
        raise ValueError(f"expected uint8 H x W x 1|3, got {image.dtype} {image.shape}")
    return png.encode(image)


def _varint(value: int) -> bytes:
    """Protocol-buffer base-128 varint (negative int64 as its 64-bit two's complement)."""
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _bytes_feature(value: bytes) -> bytes:
    return _field(1, _field(1, value))                  # Feature.bytes_list{value: [v]}


def _int64_feature(value: int) -> bytes:
    return _field(3, _field(1, _varint(int(value))))    # Feature.int64_list{value: [v]} (packed)


def serialize_example(image: np.ndarray, label: int, record_id: str) -> bytes:
    """The serialized ``tf.train.Example`` of one uint8 H x W x C image, written with the
    protocol-buffer wire format directly, so that Beam workers need not import TensorFlow.

    Example{features: Features{feature: map<string, Feature>}}; the map's entries are in key
    order, as TensorFlow's own serializer writes them.
    """
    height, width, channels = np.asarray(image).shape
    features = {
        "channels": _int64_feature(channels),
        "height": _int64_feature(height),
        "id": _bytes_feature(record_id.encode("utf-8")),
        "image": _bytes_feature(encode_png(image)),
        "label": _int64_feature(label),
        "width": _int64_feature(width),
    }
    entries = b"".join(_field(1, _field(1, key.encode()) + _field(2, value))
                       for key, value in sorted(features.items()))
    return _field(1, entries)


def make_example(image: np.ndarray, label: int, record_id: str):
    """A ``tf.train.Example`` in the data contract for one uint8 H x W x C image."""
    import tensorflow as tf  # imported here so that Beam workers stay light

    return tf.train.Example.FromString(serialize_example(image, label, record_id))


def feature_spec() -> Dict[str, object]:
    """``tf.io.parse_single_example`` spec of the contract."""
    import tensorflow as tf

    return {
        "image": tf.io.FixedLenFeature([], tf.string),
        "label": tf.io.FixedLenFeature([], tf.int64, default_value=UNLABELED),
        "height": tf.io.FixedLenFeature([], tf.int64),
        "width": tf.io.FixedLenFeature([], tf.int64),
        "channels": tf.io.FixedLenFeature([], tf.int64),
        "id": tf.io.FixedLenFeature([], tf.string),
    }


def labels_text(names: List[str]) -> str:
    """The text of ``labels.txt``: one UTF-8 class name per line, line i = label i."""
    return "".join(f"{name}\n" for name in names)


def read_labels(root: str) -> List[str]:
    """Class names from ``<root>/labels.txt`` (line i names label i); [] when there is none."""
    from lsgan_tf import paths

    path = os.path.join(root, LABELS_FILE)
    if not paths.exists(path):
        return []
    return [line for line in paths.read_text(path).split("\n") if line]


def write_labels(root: str, names: List[str]) -> str:
    """Writes ``labels.txt`` (``labels_text``) under ``root`` (any ``tf.io.gfile`` path)."""
    from lsgan_tf import paths

    return paths.write_text(os.path.join(root, LABELS_FILE), labels_text(names))


def split_of(record_id: str, eval_fraction: float) -> str:
    """Stable split of a record: ``eval`` when u(id) < eval_fraction, else ``train``.

    u(id) = (first 8 bytes of SHA-256(id), big-endian) / 2**64, so the same id always lands in
    the same split, whatever the runner, the worker or the order of the input.
    """
    import hashlib

    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2.0 ** 64
    return EVAL if u < eval_fraction else TRAIN
