"""``encode(image)``: PNG bytes of a uint8 H x W x C image (C = 1 or 3), with numpy and zlib.

The file Pillow writes by default, made so that threads can encode side by side: 8-bit grey or
RGB, not interlaced, each row filtered with the type (None, Sub, Up, Average, Paeth) whose
bytes, read as signed, have the smallest sum of absolute values (the adaptive heuristic of the
PNG specification, 12.8, and of libpng), deflated by zlib at level 6 with the filtered
strategy. Pillow holds the GIL while it encodes into memory; here the filtering is numpy and
the deflate zlib's, which release it, so threads of a Beam worker
(``--direct_running_mode=multi_threading``) can encode on every core.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_TYPES = {1: 0, 3: 2}  # channels -> PNG colour type (grey, RGB)


def _chunk(kind: bytes, data: bytes) -> bytes:
    """Length, type, data and the CRC-32 of type and data."""
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind))))


def filtered_rows(image: np.ndarray) -> np.ndarray:
    """uint8 [H, 1 + W C]: each row's filter type, then the row filtered with it."""
    height, width, channels = image.shape
    x = image.reshape(height, width * channels).astype(np.int16)
    left, up, up_left = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    left[:, channels:] = x[:, :-channels]
    up[1:] = x[:-1]
    up_left[1:, channels:] = x[:-1, :-channels]
    guess = left + up - up_left
    to_left, to_up, to_up_left = (np.abs(guess - p) for p in (left, up, up_left))
    paeth = np.where((to_left <= to_up) & (to_left <= to_up_left), left,
                     np.where(to_up <= to_up_left, up, up_left))
    candidates = np.stack([x, x - left, x - up, x - (left + up) // 2, x - paeth]
                          ).astype(np.uint8)  # filter types 0-4, modulo 256
    cost = np.abs(candidates.view(np.int8).astype(np.int32)).sum(axis=2)
    best = cost.argmin(axis=0)
    return np.concatenate([best.astype(np.uint8)[:, None], candidates[best, np.arange(height)]],
                          axis=1)


def encode(image: np.ndarray) -> bytes:
    """The PNG file of ``image`` (uint8 [H, W, 1 | 3], H and W at least 1)."""
    height, width, channels = image.shape
    deflate = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS, 8, zlib.Z_FILTERED)
    data = deflate.compress(filtered_rows(image).tobytes()) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, COLOR_TYPES[channels], 0, 0, 0)
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data)
            + _chunk(b"IEND", b""))
