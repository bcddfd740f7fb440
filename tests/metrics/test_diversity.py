"""Pixel diversity against values worked out by hand."""
import numpy as np
import pytest

from lsgan_tf.metrics.diversity import diversity_ratio, pixel_spread


def test_pixel_spread_by_hand():
    # two 1x2 images: pixel 0 takes 0 and 4 (std 2), pixel 1 takes 10 and 10 (std 0) -> mean 1
    images = np.array([[[0, 10]], [[4, 10]]], dtype=np.uint8)
    assert pixel_spread(images) == pytest.approx(1.0)


def test_ratio_is_zero_for_identical_samples_and_one_for_the_data_itself():
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, size=(50, 8, 8, 1), dtype=np.uint8)
    blank = np.full((40, 8, 8, 1), 255, dtype=np.uint8)
    assert diversity_ratio(blank, real) == 0.0
    assert diversity_ratio(real, real) == pytest.approx(1.0)
    # half the contrast around the same mean: half the spread
    half = (real.astype(np.float64) - 127.5) / 2 + 127.5
    assert diversity_ratio(half, real) == pytest.approx(0.5)


def test_refuses_sets_it_cannot_compare():
    with pytest.raises(ValueError, match="at least 2 images"):
        pixel_spread(np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="all the same"):
        diversity_ratio(np.zeros((3, 2)), np.ones((3, 2)))
