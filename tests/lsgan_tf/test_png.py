"""``lsgan_tf.png``: files that Pillow and TensorFlow decode to the same pixels, each row with
the filter the PNG specification's heuristic picks (written out here pixel by pixel)."""
import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from lsgan_tf import png


def reference_filters(row, previous, bpp):
    """The five filtered versions of one row (PNG specification, 9.2), byte by byte."""
    def paeth(a, b, c):
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c

    out = {kind: [] for kind in range(5)}
    for i, x in enumerate(row):
        a = row[i - bpp] if i >= bpp else 0
        b = previous[i]
        c = previous[i - bpp] if i >= bpp else 0
        for kind, predictor in enumerate((0, a, b, (a + b) // 2, paeth(a, b, c))):
            out[kind].append((x - predictor) % 256)
    return out


def cost(values):
    return sum(abs(v - 256 if v > 127 else v) for v in values)


def test_each_row_gets_the_filter_of_least_sum_of_absolute_signed_bytes():
    rng = np.random.default_rng(1)
    smooth = np.cumsum(rng.integers(-3, 4, (9, 7, 3)), axis=1) + 100
    image = np.clip(smooth + np.arange(9)[:, None, None] * 5, 0, 255).astype(np.uint8)
    image[4] = image[3]        # Up is exact
    image[6] = 0               # None and Sub tie at zero cost: the first type (None) wins
    average = image[8].reshape(-1)  # each byte the mean of its left and upper neighbours
    for i, up in enumerate(image[7].reshape(-1).astype(int)):
        average[i] = ((int(average[i - 3]) if i >= 3 else 0) + up) // 2
    rows = image.reshape(9, -1).astype(int).tolist()
    filtered = png.filtered_rows(image)
    for y, row in enumerate(rows):
        candidates = reference_filters(row, rows[y - 1] if y else [0] * len(row), bpp=3)
        costs = [cost(candidates[kind]) for kind in range(5)]
        best = costs.index(min(costs))
        assert filtered[y, 0] == best, (y, costs)
        assert filtered[y, 1:].tolist() == candidates[best]
    assert set(filtered[:, 0]) == {0, 1, 2, 3, 4}
    assert (filtered[4, 0], filtered[6, 0], filtered[8, 0]) == (2, 0, 3)


@pytest.mark.parametrize("shape", [(1, 1, 1), (1, 9, 3), (9, 1, 1), (28, 28, 1), (17, 33, 3)])
def test_pillow_and_tensorflow_decode_the_same_pixels(shape):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, shape, dtype=np.uint8)
    ramp = (np.add.outer(np.arange(shape[0]), 3 * np.arange(shape[1]))[..., None]
            % 256).repeat(shape[2], axis=2).astype(np.uint8)
    for image in (noise, ramp):
        data = png.encode(image)
        decoded = np.asarray(Image.open(io.BytesIO(data)))
        np.testing.assert_array_equal(decoded.reshape(shape), image)
        np.testing.assert_array_equal(tf.io.decode_png(data).numpy(), image)
        assert Image.open(io.BytesIO(data)).mode == ("L" if shape[2] == 1 else "RGB")
