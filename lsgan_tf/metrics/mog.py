"""Scores for 2-D mixtures of Gaussians (the paper's ``mog8`` ring), three rules side by side.

For samples x_1..x_N (all N samples count in every denominator; a non-finite sample is in no
mode, not on the ring and in no sector), modes with centres c_1..c_K and standard deviation s:

(a) Modes within ``num_std`` std (PacGAN's rule, ``mode_metrics``):

* a sample is high quality when its distance to the nearest centre is <= ``num_std`` * s
  (3 std by default; for an isotropic 2-D Gaussian that keeps 1 - exp(-4.5) = 98.9 % of it);
* n_k = number of high-quality samples whose nearest centre is c_k;
* a mode is covered when n_k >= max(1, ``min_share`` * N / K): at least that share of the count a
  uniform mixture would put there (the default 0.2 is PacGAN's rule: 20 of 2,500 samples
  for 25 modes);
* ``mode_kl`` = KL(p || uniform) = sum_k p_k log(p_k K), p_k = n_k / sum_k n_k: 0 when the
  high-quality samples are spread evenly, log(K) when they all sit in one mode (and, by
  convention, log(K) when there is no high-quality sample at all).

Sectors (rules b and c): the K centres lie on a circle around the origin; sector k holds the
points whose angle atan2(y, x) is nearest (on the circle) to the angle of c_k. For the 8
evenly spaced centres of ``mog8`` these are the 45-degree sectors centred on the centres.

(b) The ring rule (``ring_metrics``), r = the ring's radius (default: mean ||c_k||, 1 for
``mog8``), w = ``width`` (0.1):

* ``ring_share`` = #{i : | ||x_i|| - r | <= w} / N, the share of samples on the ring;
* m_k = number of those on-ring samples in sector k;
* sector k is covered when m_k >= ``min_share`` * N / K (0.2: a fifth of its uniform share);
  ``sectors_covered`` = number of covered sectors (of K).

(c) Collapse (``collapse_metrics``): with a_k = number of all (finite) samples in sector k, by
angle alone, and a_(1) >= a_(2) >= ... sorted, ``top_sector_share`` = (a_(1) + ... +
a_(``top``)) / N; the snapshot is ``collapsed`` when ``top_sector_share`` >= ``threshold``
(2 sectors holding >= 80 % of the samples by default: "2 sectors or fewer hold 80 %").
Over a run's snapshots (``collapse_summary``): the number of collapsed snapshots after step 0,
whether there was any (a collapse episode) and whether the last snapshot is collapsed.
"""
from __future__ import annotations

import math
from typing import Dict, Iterable, Optional, Tuple

import numpy as np


def _check(points, centres) -> Tuple[np.ndarray, np.ndarray]:
    x = np.asarray(points, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1] or len(x) == 0:
        raise ValueError(f"need points [N > 0, D] and centres [K, D], got {x.shape}, {c.shape}")
    return x, c


def mode_metrics(points: np.ndarray, centres: np.ndarray, std: float,
                 num_std: float = 3.0, min_share: float = 0.2) -> Dict[str, float]:
    """Rule (a): {'modes_covered', 'num_modes', 'high_quality_share', 'mode_kl'} (module doc)."""
    x, c = _check(points, centres)
    num_modes = len(c)
    finite = np.all(np.isfinite(x), axis=1)
    dist = np.full((len(x), num_modes), np.inf)
    dist[finite] = np.sqrt(((x[finite, None, :] - c[None, :, :]) ** 2).sum(-1))
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


def sectors(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """int [N]: the sector of each 2-D point (index of the centre nearest in angle), -1 for a
    non-finite point."""
    x, c = _check(points, centres)
    if x.shape[1] != 2:
        raise ValueError(f"sectors need 2-D points, got {x.shape}")
    finite = np.all(np.isfinite(x), axis=1)
    angle = np.arctan2(x[finite, 1], x[finite, 0])
    centre_angle = np.arctan2(c[:, 1], c[:, 0])
    gap = np.angle(np.exp(1j * (angle[:, None] - centre_angle[None, :])))  # wrapped to (-pi, pi]
    out = np.full(len(x), -1, np.int64)
    out[finite] = np.abs(gap).argmin(axis=1)
    return out


def ring_metrics(points: np.ndarray, centres: np.ndarray, radius: Optional[float] = None,
                 width: float = 0.1, min_share: float = 0.2) -> Dict[str, float]:
    """Rule (b): {'ring_share', 'sectors_covered', 'num_sectors'} (module doc)."""
    x, c = _check(points, centres)
    r = float(np.linalg.norm(c, axis=1).mean()) if radius is None else float(radius)
    with np.errstate(invalid="ignore"):
        on_ring = np.abs(np.linalg.norm(x, axis=1) - r) <= width  # NaN -> False
    sector = sectors(x, c)
    counts = np.bincount(sector[on_ring], minlength=len(c))
    return {
        "ring_share": float(on_ring.mean()),
        "sectors_covered": int((counts >= min_share * len(x) / len(c)).sum()),
        "num_sectors": len(c),
    }


def collapse_metrics(points: np.ndarray, centres: np.ndarray, top: int = 2,
                     threshold: float = 0.8) -> Dict[str, float]:
    """Rule (c) for one snapshot: {'top_sector_share', 'collapsed'} (module doc)."""
    x, c = _check(points, centres)
    sector = sectors(x, c)
    counts = np.sort(np.bincount(sector[sector >= 0], minlength=len(c)))[::-1]
    share = float(counts[:top].sum() / len(x))
    return {"top_sector_share": share, "collapsed": bool(share >= threshold)}


def collapse_summary(snapshots: Iterable[Tuple[int, bool]]) -> Dict[str, object]:
    """Rule (c) over a run, from its (step, collapsed) snapshots: {'collapsed_snapshots' (count
    after step 0), 'collapse_episode' (any of them), 'collapsed_at_end' (the last snapshot)}."""
    ordered = sorted(snapshots)
    after = [bool(flag) for step, flag in ordered if step > 0]
    return {"collapsed_snapshots": int(sum(after)), "collapse_episode": bool(any(after)),
            "collapsed_at_end": bool(ordered[-1][1]) if ordered else False}


def ring_scores(points: np.ndarray, centres: np.ndarray, std: float) -> Dict[str, float]:
    """The three rules on one set of samples: ``mode_metrics`` (3 std), ``ring_metrics`` and
    ``collapse_metrics`` with their defaults, in one dict."""
    return {**mode_metrics(points, centres, std), **ring_metrics(points, centres),
            **collapse_metrics(points, centres)}
