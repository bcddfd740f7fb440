"""Frechet distance between Gaussians fitted to two feature sets (FID when the features are
Inception-v3 pool features).

For X ~ N(mu1, S1) and Y ~ N(mu2, S2):

    FD = ||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))

``tr((S1 S2)^(1/2))`` is computed without a general (non-symmetric) matrix square root: S1 S2 has
the same eigenvalues as the symmetric positive semi-definite M = S1^(1/2) S2 S1^(1/2) (AB and BA
share their eigenvalues, with A = S1^(1/2), B = S1^(1/2) S2), so

    tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(M)),

with S1^(1/2) from the symmetric eigendecomposition of S1. Eigenvalues that round-off pushes
below zero are clipped to zero. This stays real and finite for singular covariances (fewer
samples than feature dimensions), where ``scipy.linalg.sqrtm`` needs an eps offset.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def fit_gaussian(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """(mean [D], covariance [D, D]) of features [N, D], float64, covariance with 1 / (N - 1)."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need features [N >= 2, D], got shape {x.shape}")
    return x.mean(axis=0), np.cov(x, rowvar=False).reshape(x.shape[1], x.shape[1])


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix (negative round-off eigenvalues -> 0)."""
    sym = 0.5 * (matrix + matrix.T)
    eigvals, eigvecs = np.linalg.eigh(sym)
    return (eigvecs * np.sqrt(np.clip(eigvals, 0.0, None))) @ eigvecs.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((S1 S2)^(1/2)) = sum_i sqrt(lambda_i(S1^(1/2) S2 S1^(1/2))) for symmetric PSD S1, S2."""
    root1 = _psd_sqrt(np.asarray(sigma1, dtype=np.float64))
    middle = root1 @ np.asarray(sigma2, dtype=np.float64) @ root1
    eigvals = np.linalg.eigvalsh(0.5 * (middle + middle.T))
    return float(np.sqrt(np.clip(eigvals, 0.0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray,
                     mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)), clipped at 0 (round-off)."""
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    dim = mu1.shape[0]
    if mu2.shape != (dim,) or sigma1.shape != (dim, dim) or sigma2.shape != (dim, dim):
        raise ValueError(f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, "
                         f"mu2 {mu2.shape}, sigma2 {sigma2.shape}")
    diff = mu1 - mu2
    value = (diff @ diff + np.trace(sigma1) + np.trace(sigma2)
             - 2.0 * trace_sqrt_product(sigma1, sigma2))
    return float(max(value, 0.0))


def frechet_distance_features(features1: np.ndarray, features2: np.ndarray) -> float:
    """Frechet distance between Gaussians fitted (``fit_gaussian``) to two feature sets."""
    mu1, sigma1 = fit_gaussian(features1)
    mu2, sigma2 = fit_gaussian(features2)
    return frechet_distance(mu1, sigma1, mu2, sigma2)
