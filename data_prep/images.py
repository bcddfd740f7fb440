"""Image decoding and resizing with Pillow, the same for every source.

* ``open_encoded``: bytes -> fully decoded ``PIL.Image``; the format is recognised by its magic
  bytes (Pillow's own checks: ``FF D8 FF`` JPEG, ``RIFF....WEBP`` WebP, ``89 50 4E 47`` PNG ...),
  optionally restricted to a list of formats. Failures raise ``BadRecord`` with one of the
  reasons below: bytes that start like a JPEG/PNG/WebP but do not decode are ``corrupt_image``,
  other unrecognised bytes ``not_an_image``.
* ``crop_to_square``: shorter side resized to ``size``, then the centre square (scenes).
* ``pad_to_square``: padded to a square with a fill value, then resized (characters).
* ``to_array``: uint8 H x W x C with C = 1 (grayscale) or 3 (RGB).
"""
from __future__ import annotations

import io
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from data_prep.records import BadRecord

EMPTY = "empty"
NOT_AN_IMAGE = "not_an_image"
CORRUPT_IMAGE = "corrupt_image"
ZERO_SIZE = "zero_size"
TOO_LARGE = "too_large"

RESAMPLE = Image.Resampling.BILINEAR
_MAGIC = ((b"\xff\xd8\xff", 0, "JPEG"), (b"\x89PNG\r\n\x1a\n", 0, "PNG"), (b"WEBP", 8, "WEBP"))
_MODES = {1: "L", 3: "RGB"}


def sniff(data: bytes) -> Optional[str]:
    """``JPEG``, ``PNG`` or ``WEBP`` from the magic bytes at the start of ``data``, else None."""
    for magic, offset, name in _MAGIC:
        if data[offset:offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    return None


def open_encoded(data: bytes, formats: Optional[Sequence[str]] = None,
                 draft_size: Optional[int] = None, channels: int = 3) -> Image.Image:
    """Decodes an encoded image, fully, or raises ``BadRecord``.

    ``formats`` (Pillow names, e.g. ``("JPEG", "WEBP", "PNG")``) restricts the decoders tried;
    None tries every format Pillow knows. ``draft_size`` lets JPEG decode at a reduced scale
    that still keeps both sides >= draft_size (libjpeg DCT scaling: much faster, same result
    after the later resize). ``channels`` picks the draft mode.
    """
    if not data:
        raise BadRecord(EMPTY, "no bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
        if draft_size is not None and image.format == "JPEG":
            image.draft(_MODES[channels], (draft_size, draft_size))
        image.load()
    except Image.DecompressionBombError as error:
        raise BadRecord(TOO_LARGE, str(error)) from None
    except Image.UnidentifiedImageError:
        known = sniff(data)
        if known:
            raise BadRecord(CORRUPT_IMAGE, f"{known} header that does not decode") from None
        raise BadRecord(NOT_AN_IMAGE, f"unrecognised bytes {bytes(data[:12])!r}") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise BadRecord(CORRUPT_IMAGE, f"{type(error).__name__}: {error}") from None
    if image.width == 0 or image.height == 0:
        raise BadRecord(ZERO_SIZE, f"{image.width} x {image.height}")
    return image


def crop_to_square(image: Image.Image, size: int) -> Image.Image:
    """Resizes the shorter side to ``size`` and keeps the centred ``size`` x ``size`` square."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) / 2.0, (height - side) / 2.0
    return image.resize((size, size), RESAMPLE, box=(left, top, left + side, top + side))


def pad_to_square(image: Image.Image, size: int, fill: int = 255) -> Image.Image:
    """Pads the image, centred, to a square with ``fill``, then resizes it to ``size``."""
    width, height = image.size
    side = max(width, height)
    if width != height:
        fill_value = fill if image.mode in ("L", "I", "F") else (fill,) * len(image.getbands())
        square = Image.new(image.mode, (side, side), fill_value)
        square.paste(image, ((side - width) // 2, (side - height) // 2))
        image = square
    return image if side == size else image.resize((size, size), RESAMPLE)


def to_array(image: Image.Image, channels: int) -> np.ndarray:
    """uint8 H x W x C array of the image converted to grayscale (C = 1) or RGB (C = 3)."""
    mode = _MODES[channels]
    if image.mode != mode:
        image = image.convert(mode)
    array = np.asarray(image, dtype=np.uint8)
    return array[:, :, None] if channels == 1 else array


def from_array(pixels: np.ndarray) -> Image.Image:
    """A ``PIL.Image`` of a uint8 H x W or H x W x 1|3 array."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    return Image.fromarray(pixels)
