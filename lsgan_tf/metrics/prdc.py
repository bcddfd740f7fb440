"""Precision, recall, density and coverage on k-nearest-neighbour manifolds
(Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models").

Real features X = {x_1..x_N}, fake features Y = {y_1..y_M}; NND_k(x_i) is the distance from x_i
to its k-th nearest neighbour among the other points of its own set; B(x, r) the closed ball.

    precision = 1/M sum_j 1[ exists i: y_j in B(x_i, NND_k(x_i)) ]
    recall    = 1/N sum_i 1[ exists j: x_i in B(y_j, NND_k(y_j)) ]
    density   = 1/(k M) sum_j sum_i 1[ y_j in B(x_i, NND_k(x_i)) ]
    coverage  = 1/N sum_i 1[ exists j: y_j in B(x_i, NND_k(x_i)) ]

Distances are Euclidean, computed in float64 in blocks so memory stays bounded for large sets.
"""
from __future__ import annotations

from typing import Dict, Iterator, Optional, Tuple

import numpy as np

_BLOCK_ELEMENTS = 1 << 22  # float64 entries per block of the distance matrix (32 MiB)


def _blocks(n_rows: int, n_cols: int) -> Iterator[Tuple[int, int]]:
    step = max(1, _BLOCK_ELEMENTS // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield start, min(n_rows, start + step)


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances [len(a), len(b)] (float64, clipped at 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    sq = a @ b.T
    sq *= -2.0
    sq += (a * a).sum(1)[:, None]
    sq += (b * b).sum(1)[None, :]
    return np.maximum(sq, 0.0, out=sq)


def knn_radii(features: np.ndarray, k: int) -> np.ndarray:
    """NND_k: distance from each point to its k-th nearest other point of the same set."""
    x = np.asarray(features, dtype=np.float64)
    if len(x) <= k:
        raise ValueError(f"k={k} nearest neighbours need more than {k} points, got {len(x)}")
    if x.shape[1] <= 3:  # a k-d tree is far faster than all pairs for points in 2-D or 3-D
        from scipy.spatial import cKDTree

        distances, _ = cKDTree(x).query(x, k=k + 1)  # includes the point itself at distance 0
        return distances[:, k]
    radii_sq = np.empty(len(x))
    for start, stop in _blocks(len(x), len(x)):
        dist = squared_distances(x[start:stop], x)
        dist[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        radii_sq[start:stop] = np.partition(dist, k - 1, axis=1)[:, k - 1]
    return np.sqrt(radii_sq)


def prdc(real_features: np.ndarray, fake_features: np.ndarray, k: int = 5,
         real_radii: Optional[np.ndarray] = None) -> Dict[str, float]:
    """{'precision', 'recall', 'density', 'coverage'} as defined in the module docstring;
    ``real_radii`` = ``knn_radii(real_features, k)`` when already computed."""
    real = np.asarray(real_features, dtype=np.float64)
    fake = np.asarray(fake_features, dtype=np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"need features [N, D] with the same D, got {real.shape} and {fake.shape}")
    real_radii_sq = (knn_radii(real, k) if real_radii is None else real_radii) ** 2
    fake_radii_sq = knn_radii(fake, k) ** 2
    fake_in_real = np.zeros(len(fake), dtype=bool)      # precision
    fake_ball_counts = np.zeros(len(fake))               # density
    real_covered = np.zeros(len(real), dtype=bool)       # coverage
    real_in_fake = np.zeros(len(real), dtype=bool)       # recall
    for start, stop in _blocks(len(real), len(fake)):
        dist_sq = squared_distances(real[start:stop], fake)         # [b, M]
        inside_real = dist_sq <= real_radii_sq[start:stop, None]
        fake_in_real |= inside_real.any(axis=0)
        fake_ball_counts += inside_real.sum(axis=0)
        real_covered[start:stop] = inside_real.any(axis=1)
        real_in_fake[start:stop] = (dist_sq <= fake_radii_sq[None, :]).any(axis=1)
    return {
        "precision": float(fake_in_real.mean()),
        "recall": float(real_in_fake.mean()),
        "density": float(fake_ball_counts.sum() / (k * len(fake))),
        "coverage": float(real_covered.mean()),
    }
