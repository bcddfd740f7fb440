"""Classifier score (the Inception Score of Salimans et al. 2016 with any classifier).

For class probabilities p(y|x_i) of N samples, p(y) = 1/N sum_i p(y|x_i) and

    score = exp( 1/N sum_i KL(p(y|x_i) || p(y)) ),   KL(p || q) = sum_y p(y) log(p(y) / q(y))

(0 log 0 = 0). It lies in [1, C]: 1 when every sample gets the same distribution, C when each
sample is classified with certainty and the classes are used equally often. With
``num_splits`` > 1 the samples are cut into that many consecutive parts, p(y) is taken per
part, and the mean and std over the parts are returned.

Classes covered, a collapse measure: with n_y the number of the N samples whose most likely
class is y, the classes with n_y / N >= min_share / C (default: a fifth of the uniform share,
the rule of the mixture-of-Gaussians sectors in ``lsgan_tf.metrics.mog``). A generator that
collapsed onto a few classes covers few; real data with balanced classes covers all C.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np


def _score(probs: np.ndarray) -> float:
    marginal = probs.mean(axis=0, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(probs > 0, probs * (np.log(probs) - np.log(marginal)), 0.0)
    return float(np.exp(terms.sum(axis=1).mean()))


def classifier_score(probs: np.ndarray, num_splits: int = 1) -> Tuple[float, float]:
    """(mean, std) of exp(E_x KL(p(y|x) || p(y))) over ``num_splits`` parts of probs [N, C]."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) < num_splits or num_splits < 1:
        raise ValueError(f"need probs [N >= num_splits, C], got {p.shape}, splits {num_splits}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError("each row of probs must be a probability distribution")
    p = p / p.sum(axis=1, keepdims=True)
    scores = [_score(part) for part in np.array_split(p, num_splits)]
    return float(np.mean(scores)), float(np.std(scores))


def label_accuracy(probs: np.ndarray, labels: np.ndarray) -> float:
    """Share of samples whose argmax class equals the label they were generated for."""
    return float(np.mean(np.argmax(probs, axis=1) == np.asarray(labels)))


def classes_covered(probs: np.ndarray, min_share: float = 0.2) -> int:
    """How many of the C classes are the argmax of at least ``min_share`` / C of the rows of
    probs [N, C] (module doc)."""
    p = np.asarray(probs)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"need probs [N >= 1, C], got {p.shape}")
    counts = np.bincount(np.argmax(p, axis=1), minlength=p.shape[1])
    return int(np.sum(counts / len(p) >= min_share / p.shape[1]))
