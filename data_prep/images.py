"""Image decoding and resizing with Pillow, the same for every source.

* ``open_encoded``: bytes -> fully decoded ``PIL.Image``; the format is recognised by its magic
  bytes (Pillow's own checks: ``FF D8 FF`` JPEG, ``RIFF....WEBP`` WebP, ``89 50 4E 47`` PNG ...),
  optionally restricted to a list of formats. Failures raise ``BadRecord`` with one of the
  reasons below: bytes that start like a JPEG/PNG/WebP but do not decode are ``corrupt_image``,
  other unrecognised bytes ``not_an_image``; an image whose header gives a side above
  ``MAX_INPUT_SIDE`` (after JPEG draft scaling), or more pixels than Pillow's decompression-bomb
  limit (``Image.MAX_IMAGE_PIXELS`` x 2), is ``too_large`` before its pixels are decoded.
* ``crop_to_square``: shorter side resized to ``size``, then the centre square (scenes).
* ``pad_to_square``: padded to a square with a fill value, then resized (characters), with
  memory bounded by the output size (see its docstring); a side above ``MAX_INPUT_SIDE``
  (16,384 px) is ``too_large``.
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
MAX_INPUT_SIDE = 16384  # longest side pad_to_square (and the hwdb source) accepts, in pixels
_PASS_PIXELS = 1 << 22  # pixels of one padded strip in pad_to_square's horizontal pass
_MAGIC = ((b"\xff\xd8\xff", 0, "JPEG"), (b"\x89PNG\r\n\x1a\n", 0, "PNG"), (b"WEBP", 8, "WEBP"))
_MODES = {1: "L", 3: "RGB"}
# The decoders a folder of pictures is read with. Pillow would otherwise try every plugin it
# has, EPS among them (which runs Ghostscript on the file) and PDF, PSD, ICNS...
FOLDER_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")


def sniff(data: bytes) -> Optional[str]:
    """``JPEG``, ``PNG`` or ``WEBP`` from the magic bytes at the start of ``data``, else None."""
    for magic, offset, name in _MAGIC:
        if data[offset:offset + len(magic)] == magic and (name != "WEBP" or data[:4] == b"RIFF"):
            return name
    return None


def open_encoded(data: bytes, formats: Sequence[str], draft_size: Optional[int] = None,
                 channels: int = 3) -> Image.Image:
    """Decodes an encoded image, fully, or raises ``BadRecord``.

    ``formats`` (Pillow names, e.g. ``("JPEG", "WEBP", "PNG")``) are the only decoders tried;
    bytes in any other format, even one Pillow knows, are ``not_an_image``. ``draft_size`` lets JPEG decode at a reduced scale
    that still keeps both sides >= draft_size (libjpeg DCT scaling: much faster, same result
    after the later resize). ``channels`` picks the draft mode.
    """
    if not data:
        raise BadRecord(EMPTY, "no bytes")
    try:
        image = Image.open(io.BytesIO(data), formats=formats)
        if draft_size is not None and image.format == "JPEG":
            image.draft(_MODES[channels], (draft_size, draft_size))
        if max(image.size) > MAX_INPUT_SIDE:  # before the pixels are decoded
            raise BadRecord(TOO_LARGE, f"{image.width} x {image.height}, more than "
                                       f"{MAX_INPUT_SIDE} pixels on a side")
        image.load()
    except BadRecord:
        raise
    except Image.DecompressionBombError as error:
        raise BadRecord(TOO_LARGE, str(error)) from None
    except Image.UnidentifiedImageError:
        known = sniff(data)
        if known:
            raise BadRecord(CORRUPT_IMAGE, f"{known} header that does not decode") from None
        raise BadRecord(NOT_AN_IMAGE, f"unrecognised bytes {bytes(data[:12])!r}") from None
    except MemoryError:
        raise BadRecord(TOO_LARGE, "out of memory while decoding") from None
    except Exception as error:  # pylint: disable=broad-except
        # Pillow's decoders raise many kinds on hostile bytes (OSError, SyntaxError,
        # ValueError, EOFError, struct.error, IndexError...): all mean the bytes are bad.
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
    """Pads the image, centred, to a square with ``fill``, then resizes it to ``size``.

    The result is that of building the padded square and resizing it, pixel for pixel, but the
    square (side x side: 4 GiB for one 65535 x 1 character) is never built when it is larger
    than the output. Pillow resizes in two separable passes, horizontal then vertical (each
    rounded to uint8), so the same passes are run on what they need: for a wide image the
    horizontal pass on its own rows (the padding rows stay ``fill``), pasted into a
    size x side strip of ``fill`` for the vertical pass; for a tall image the horizontal pass
    on padded strips of rows (at most ``_PASS_PIXELS`` pixels each), then the same vertical
    pass. Memory beyond the input: O(size x side + _PASS_PIXELS), side <= ``MAX_INPUT_SIDE``.
    Raises ``BadRecord`` ``too_large`` for a side above ``MAX_INPUT_SIDE``.
    """
    width, height = image.size
    side = max(width, height)
    if side > MAX_INPUT_SIDE:
        raise BadRecord(TOO_LARGE, f"{width} x {height}, more than {MAX_INPUT_SIDE} pixels "
                                   "on a side")
    if width == height:
        return image if side == size else image.resize((size, size), RESAMPLE)
    fill_value = fill if image.mode in ("L", "I", "F") else (fill,) * len(image.getbands())
    left, top = (side - width) // 2, (side - height) // 2
    if side <= size:  # the square is no larger than the output: build it
        square = Image.new(image.mode, (side, side), fill_value)
        square.paste(image, (left, top))
        return square if side == size else square.resize((size, size), RESAMPLE)
    if width > height:
        rows = image.resize((size, height), RESAMPLE)  # horizontal pass: no padding across
    else:
        rows = Image.new(image.mode, (size, height), fill_value)
        step = max(1, _PASS_PIXELS // side)
        for start in range(0, height, step):
            stop = min(height, start + step)
            strip = Image.new(image.mode, (side, stop - start), fill_value)
            strip.paste(image.crop((0, start, width, stop)), (left, 0))
            rows.paste(strip.resize((size, stop - start), RESAMPLE), (0, start))
    column = Image.new(image.mode, (size, side), fill_value)
    column.paste(rows, (0, top))
    return column.resize((size, size), RESAMPLE)  # vertical pass only: the width is kept


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
