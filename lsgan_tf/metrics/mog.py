"""Scores for 2-D mixtures of Gaussians (the paper's ``mog8`` ring).

For samples x_1..x_N, modes with centres c_1..c_K and standard deviation s:

* a sample is high quality when its distance to the nearest centre is <= ``num_std`` * s
  (3 std by default; for an isotropic 2-D Gaussian that keeps 1 - exp(-4.5) = 98.9 % of it);
* n_k = number of high-quality samples whose nearest centre is c_k;
* a mode is covered when n_k >= max(1, ``min_share`` * N / K): at least that share of the count a
  uniform mixture would put there (the default 0.2 is PacGAN's rule: 20 of 2,500 samples
  for 25 modes);
* ``mode_kl`` = KL(p || uniform) = sum_k p_k log(p_k K), p_k = n_k / sum_k n_k: 0 when the
  high-quality samples are spread evenly, log(K) when they all sit in one mode (and, by
  convention, log(K) when there is no high-quality sample at all).
"""
from __future__ import annotations

import math
from typing import Dict

import numpy as np


def mode_metrics(points: np.ndarray, centres: np.ndarray, std: float,
                 num_std: float = 3.0, min_share: float = 0.2) -> Dict[str, float]:
    """{'modes_covered', 'num_modes', 'high_quality_share', 'mode_kl'} (see module doc)."""
    x = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1] or len(x) == 0:
        raise ValueError(f"need points [N > 0, D] and centres [K, D], got {x.shape}, {c.shape}")
    num_modes = len(c)
    dist = np.sqrt(((x[:, None, :] - c[None, :, :]) ** 2).sum(-1))
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(x)), nearest] <= num_std * std
    counts = np.bincount(nearest[good], minlength=num_modes)
    covered = int((counts >= max(1.0, min_share * len(x) / num_modes)).sum())
    if counts.sum() == 0:
        kl = math.log(num_modes)
    else:
        p = counts / counts.sum()
        nz = p > 0
        kl = float((p[nz] * np.log(p[nz] * num_modes)).sum())
    return {
        "modes_covered": covered,
        "num_modes": num_modes,
        "high_quality_share": float(good.mean()),
        "mode_kl": kl,
    }
