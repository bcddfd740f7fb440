"""Frechet distance against closed forms and an independent matrix square root."""
import numpy as np
import pytest
import scipy.linalg

from lsgan_tf.metrics.frechet import (fit_gaussian, frechet_distance,
                                      frechet_distance_features, trace_sqrt_product)


def random_spd(rng, dim, scale=1.0):
    a = rng.normal(size=(dim, dim))
    return scale * (a @ a.T / dim + 0.1 * np.eye(dim))


def test_diagonal_covariances_match_closed_form():
    rng = np.random.default_rng(0)
    mu1, mu2 = rng.normal(size=16), rng.normal(size=16)
    s1, s2 = rng.uniform(0.1, 3.0, 16), rng.uniform(0.1, 3.0, 16)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected,
                                                                                 rel=1e-10)


def test_one_dimension_is_mean_gap_plus_std_gap_squared():
    # N(1, 2^2) vs N(4, 5^2): (1 - 4)^2 + (2 - 5)^2 = 18
    assert frechet_distance([1.0], [[4.0]], [4.0], [[25.0]]) == pytest.approx(18.0, rel=1e-12)


def test_commuting_covariances_match_closed_form():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    a, b = rng.uniform(0.05, 4.0, 8), rng.uniform(0.05, 4.0, 8)
    sigma1, sigma2 = q @ np.diag(a) @ q.T, q @ np.diag(b) @ q.T
    mu1, mu2 = rng.normal(size=8), rng.normal(size=8)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)


def test_general_covariances_match_scipy_sqrtm():
    rng = np.random.default_rng(2)
    sigma1, sigma2 = random_spd(rng, 12), random_spd(rng, 12, 3.0)
    mu1, mu2 = rng.normal(size=12), rng.normal(size=12)
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2)
                - 2 * np.trace(covmean))
    assert trace_sqrt_product(sigma1, sigma2) == pytest.approx(np.trace(covmean), rel=1e-9)
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(expected, rel=1e-9)


def test_equal_sets_give_zero_even_when_covariance_is_singular():
    rng = np.random.default_rng(3)
    features = rng.normal(size=(500, 64)) * 10.0
    assert frechet_distance_features(features, features) < 1e-8
    few = rng.normal(size=(20, 64))  # 20 samples in 64-d: covariance of rank 19
    assert frechet_distance_features(few, few) < 1e-8
    other = rng.normal(size=(20, 64)) + 1.0
    value = frechet_distance_features(few, other)
    assert np.isfinite(value) and value > 64.0  # the mean gap alone is 64


def test_fit_gaussian_and_sample_estimate_of_known_gaussians():
    rng = np.random.default_rng(4)
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, -1.0, 0.5])
    sigma1, sigma2 = random_spd(rng, 3), random_spd(rng, 3, 2.0)
    x = rng.multivariate_normal(mu1, sigma1, size=100_000)
    y = rng.multivariate_normal(mu2, sigma2, size=100_000)
    mean, cov = fit_gaussian(x)
    np.testing.assert_allclose(mean, x.mean(0))
    np.testing.assert_allclose(cov, np.cov(x, rowvar=False))
    exact = frechet_distance(mu1, sigma1, mu2, sigma2)
    assert frechet_distance_features(x, y) == pytest.approx(exact, rel=0.02)


def test_shape_errors():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="N >= 2"):
        fit_gaussian(np.zeros((1, 4)))
