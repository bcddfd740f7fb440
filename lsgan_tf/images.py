"""Sample grids: uint8 images [n, H, W, C] tiled into one PNG."""
from __future__ import annotations

import io
import math
from typing import Optional

import numpy as np
from PIL import Image

from lsgan_tf import paths


def to_uint8(samples: np.ndarray, output_activation: str) -> np.ndarray:
    """Model-range samples to uint8: sigmoid [0, 1] -> round(255 x); tanh [-1, 1] ->
    round(127.5 (x + 1)); clipped to 0..255."""
    samples = np.asarray(samples, np.float32)
    if output_activation == "sigmoid":
        scaled = samples * 255.0
    elif output_activation == "tanh":
        scaled = (samples + 1.0) * 127.5
    else:
        raise ValueError(f"no image range for output activation {output_activation!r}")
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def grid(images: np.ndarray, ncol: Optional[int] = None, pad: int = 2) -> np.ndarray:
    """Tiles uint8 [n, H, W, C] into one uint8 [rows (H + pad) + pad, ...] image, row-major,
    ``ncol`` columns (default ceil(sqrt(n))), background 0 between tiles."""
    images = np.asarray(images)
    if images.ndim != 4 or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 [n, H, W, C], got {images.dtype} {images.shape}")
    n, height, width, channels = images.shape
    ncol = ncol or max(1, math.ceil(math.sqrt(n)))
    nrow = math.ceil(n / ncol)
    out = np.zeros((nrow * (height + pad) + pad, ncol * (width + pad) + pad, channels), np.uint8)
    for index, image in enumerate(images):
        r, c = divmod(index, ncol)
        top, left = pad + r * (height + pad), pad + c * (width + pad)
        out[top:top + height, left:left + width] = image
    return out


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def save_grid(images: np.ndarray, path: str, ncol: Optional[int] = None) -> str:
    """Writes ``grid(images, ncol)`` as a PNG at ``path`` (any ``tf.io.gfile`` path, folders
    created) and returns it."""
    tiled = grid(images, ncol)
    image = Image.fromarray(tiled[:, :, 0] if tiled.shape[2] == 1 else tiled)
    return paths.write_bytes(paths.absolute(path), png_bytes(image))
