"""Kernel Inception Distance (Binkowski et al. 2018): unbiased MMD^2 with a cubic polynomial
kernel, averaged over random subsets.

Kernel, for features of dimension d:   k(x, y) = (x . y / d + 1)^3

Unbiased MMD^2 between X = {x_1..x_m} and Y = {y_1..y_n}:

    MMD^2_u = 1/(m(m-1)) sum_{i != j} k(x_i, x_j) + 1/(n(n-1)) sum_{i != j} k(y_i, y_j)
              - 2/(m n) sum_{i, j} k(x_i, y_j)

KID = mean of MMD^2_u over ``num_subsets`` pairs of subsets of ``subset_size`` points drawn
without replacement from each set (subset_size is lowered to the smaller set's size when a set
is smaller); the std over those subsets is returned next to it (0 when both sets have the
same size, at most ``subset_size``: every subset is then the whole set). MMD^2_u can be
slightly negative when the two sets come from the same distribution (its expectation is 0).
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def polynomial_kernel(x: np.ndarray, y: np.ndarray, degree: int = 3,
                      gamma: float | None = None, coef0: float = 1.0) -> np.ndarray:
    """k(x_i, y_j) = (gamma x_i . y_j + coef0)^degree, gamma = 1 / d by default; [m, n]."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    base = x @ y.T
    base *= gamma
    base += coef0
    result = base.copy()
    for _ in range(degree - 1):  # repeated products: much faster than ** on large matrices
        result *= base
    return result


def mmd2_unbiased(x: np.ndarray, y: np.ndarray, **kernel_args) -> float:
    """The unbiased MMD^2 estimate above between x [m, d] and y [n, d] (m, n >= 2)."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"MMD^2_u needs at least 2 points per set, got {m} and {n}")
    k_xx = polynomial_kernel(x, x, **kernel_args)
    k_yy = polynomial_kernel(y, y, **kernel_args)
    k_xy = polynomial_kernel(x, y, **kernel_args)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(term_xx + term_yy - 2.0 * k_xy.sum() / (m * n))


def kernel_inception_distance(features1: np.ndarray, features2: np.ndarray,
                              num_subsets: int = 100, subset_size: int = 1000,
                              seed: int = 0) -> Tuple[float, float]:
    """(mean, std) of MMD^2_u over random subsets of the two feature sets (see module doc)."""
    f1 = np.asarray(features1, dtype=np.float64)
    f2 = np.asarray(features2, dtype=np.float64)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1]:
        raise ValueError(f"need features [N, D] with the same D, got {f1.shape} and {f2.shape}")
    size = min(subset_size, len(f1), len(f2))
    if size == len(f1) == len(f2):  # every subset would be the whole of both sets
        return mmd2_unbiased(f1, f2), 0.0
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for s in range(num_subsets):
        a = f1[rng.choice(len(f1), size, replace=False)]
        b = f2[rng.choice(len(f2), size, replace=False)]
        values[s] = mmd2_unbiased(a, b)
    return float(values.mean()), float(values.std())
