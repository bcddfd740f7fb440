"""Writers of small files in the true formats, for tests, examples and benchmarks.

* LSUN-style LMDB: 40-hex-digit keys, values the encoded image (JPEG, WebP, PNG) or any bytes.
* CASIA-HWDB ``.gnt``: samples from (character or tag bytes, H x W uint8 pixels).
* MNIST-style IDX, gzipped when the name ends in ``.gz``.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import struct
from typing import Iterable, List, Mapping, Sequence, Tuple, Union

import lmdb
import numpy as np
from PIL import Image

from data_prep.sources.hwdb import HEADER

# Plain open(): these write local test fixtures, never a remote input (see data_prep.files).


def lsun_key(index: int) -> str:
    """A 40-hex-digit key like LSUN's (SHA-1 of the index)."""
    return hashlib.sha1(str(index).encode("ascii")).hexdigest()


def encode_image(pixels: np.ndarray, image_format: str, quality: int = 75) -> bytes:
    """``pixels`` (uint8 H x W or H x W x 3) encoded as JPEG, WEBP or PNG."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(pixels, np.uint8)).save(buffer, format=image_format,
                                                       quality=quality)
    return buffer.getvalue()


def write_lmdb(path: str, values: Mapping[Union[str, bytes], bytes]) -> None:
    """An LMDB directory at ``path`` holding ``values`` (keys as ASCII)."""
    size = sum(len(value) + 512 for value in values.values())
    env = lmdb.open(path, map_size=2 * size + (1 << 20))
    with env.begin(write=True) as txn:
        for key, value in values.items():
            txn.put(key.encode("ascii") if isinstance(key, str) else key, value)
    env.close()


def write_lsun_lmdb(path: str, images: Sequence[np.ndarray],
                    formats: Sequence[str] = ("JPEG", "WEBP"), quality: int = 75) -> List[str]:
    """An LSUN-style LMDB of ``images``, image i encoded as ``formats[i % len(formats)]``
    under ``lsun_key(i)``; returns the keys in image order."""
    keys = [lsun_key(i) for i in range(len(images))]
    write_lmdb(path, {key: encode_image(image, formats[i % len(formats)], quality)
                      for i, (key, image) in enumerate(zip(keys, images))})
    return keys


def gnt_tag(character: str) -> bytes:
    """The 2-byte tag of a character: its GBK code, or an ASCII symbol followed by 0."""
    if len(character) == 1 and ord(character) < 0x80:
        return bytes([ord(character), 0])
    tag = character.encode("gbk")
    if len(tag) != 2:
        raise ValueError(f"{character!r} has no 2-byte GBK code")
    return tag


def gnt_sample(character_or_tag: Union[str, bytes], pixels: np.ndarray) -> bytes:
    """One ``.gnt`` sample: size, tag, width, height, pixels (H x W uint8, background 255)."""
    pixels = np.asarray(pixels, np.uint8)
    tag = (character_or_tag if isinstance(character_or_tag, bytes)
           else gnt_tag(character_or_tag))
    height, width = pixels.shape
    return HEADER.pack(HEADER.size + width * height, tag, width, height) + pixels.tobytes()


def write_gnt(path: str, samples: Iterable[Tuple[Union[str, bytes], np.ndarray]]) -> List[int]:
    """A ``.gnt`` file of ``samples`` (character or raw tag, pixels); returns their offsets."""
    offsets, offset = [], 0
    with open(path, "wb") as handle:
        for character_or_tag, pixels in samples:
            data = gnt_sample(character_or_tag, pixels)
            handle.write(data)
            offsets.append(offset)
            offset += len(data)
    return offsets


def write_idx(path: str, array: np.ndarray) -> None:
    """A uint8 IDX file of ``array`` (images [N, rows, cols] or labels [N]); gzipped for .gz."""
    array = np.asarray(array, np.uint8)
    data = (struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
            + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes())
    with (gzip.open(path, "wb") if path.endswith(".gz") else open(path, "wb")) as handle:
        handle.write(data)
