"""KID: the kernel, the unbiased MMD^2 against sums written out, and a population value."""
import math

import numpy as np
import pytest

from lsgan_tf.metrics.kid import kernel_inception_distance, mmd2_unbiased, polynomial_kernel


def test_polynomial_kernel_is_cubic_in_scaled_dot_product():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    expected = [[(np.dot(a, b) / 5 + 1) ** 3 for b in y] for a in x]
    np.testing.assert_allclose(polynomial_kernel(x, y), expected, rtol=1e-12)


def test_mmd2_unbiased_matches_the_double_sums():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(7, 3)) + 0.5

    def k(a, b):
        return (np.dot(a, b) / 3 + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(k(a, b) for a in x for b in y) / (m * n)
    assert mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-12)


def feature_map_1d(v):
    """(v y + 1)^3 = phi(v) . phi(y) with phi(v) = (1, sqrt3 v, sqrt3 v^2, v^3) in 1-D."""
    v = np.asarray(v, dtype=np.float64)[:, 0]
    return np.stack([np.ones_like(v), math.sqrt(3) * v, math.sqrt(3) * v ** 2, v ** 3], axis=1)


def test_mmd2_unbiased_matches_explicit_feature_map():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(40, 1)), rng.normal(1.0, 2.0, size=(30, 1))
    px, py = feature_map_1d(x), feature_map_1d(y)
    m, n = len(x), len(y)
    sx, sy = px.sum(0), py.sum(0)
    expected = ((sx @ sx - (px * px).sum()) / (m * (m - 1))
                + (sy @ sy - (py * py).sum()) / (n * (n - 1)) - 2 * sx @ sy / (m * n))
    assert mmd2_unbiased(x, y) == pytest.approx(expected, rel=1e-10)


def test_kid_estimates_the_population_mmd2_of_two_gaussians():
    # X ~ N(0, 1), Y ~ N(mu, 1): MMD^2 = ||E phi(X) - E phi(Y)||^2 = 3 mu^2 + 3 mu^4
    # + (mu^3 + 3 mu)^2, from E Y = mu, E Y^2 = 1 + mu^2, E Y^3 = mu^3 + 3 mu (and E X^k)
    mu = 0.5
    exact = 3 * mu ** 2 + 3 * mu ** 4 + (mu ** 3 + 3 * mu) ** 2
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20000, 1)), rng.normal(mu, 1.0, size=(20000, 1))
    mean, std = kernel_inception_distance(x, y, num_subsets=50, subset_size=1000, seed=0)
    assert mean == pytest.approx(exact, rel=0.05)
    assert 0 < std < 0.5 * exact


def test_kid_of_one_distribution_is_near_zero_and_seeded():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(3000, 16)), rng.normal(size=(3000, 16))
    mean, std = kernel_inception_distance(x, y, num_subsets=20, subset_size=500, seed=7)
    assert abs(mean) < 3 * std / math.sqrt(20) + 1e-3
    assert kernel_inception_distance(x, y, 20, 500, seed=7) == (mean, std)
    assert kernel_inception_distance(x, y, 20, 500, seed=8) != (mean, std)


def test_small_sets_use_the_whole_sets():
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)) + 1
    assert kernel_inception_distance(x, y, subset_size=1000) == (mmd2_unbiased(x, y), 0.0)
    mean, std = kernel_inception_distance(x, y[:40], num_subsets=10, subset_size=1000)
    assert std > 0 and mean > 0  # subsets of 40 from the 50


def test_kid_shape_errors():
    with pytest.raises(ValueError, match="same D"):
        kernel_inception_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="at least 2"):
        mmd2_unbiased(np.zeros((1, 3)), np.zeros((5, 3)))
