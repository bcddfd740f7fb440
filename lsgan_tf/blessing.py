"""Whether a candidate generator is blessed: thresholds, and no regression against a baseline.

``thresholds`` maps a score to bounds, ``{"fd_noise_ratio": {"max": 0.25}, "precision":
{"min": 0.5}}`` (``lsgan_tf.validation.parse_thresholds`` of the config's ``eval.thresholds``);
every bound must hold. Scores are those of ``lsgan_tf.metrics.evaluate`` plus
``fd_noise_ratio`` = fd(model) / fd(uniform noise) from the same evaluation (scale-free: 0 is
the real data's level, 1 is noise). With a baseline (the last blessed model, scored the same
way), every thresholded score and ``fd`` must not be worse than the baseline's by more than
``tolerance`` (relative): lower-is-better s <= s_base (1 + tol) + 1e-9, higher-is-better
s >= s_base (1 - tol) - 1e-9 (directions: ``lsgan_tf.scores``). The pipeline's GanEvaluator
(``components/evaluator``) applies this rule; it is library logic, usable without TFX.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional, Tuple

from lsgan_tf.scores import LOWER_IS_BETTER


def derived_scores(result: Mapping) -> Dict[str, float]:
    """The evaluation's scores plus ``fd_noise_ratio`` when a noise reference was scored."""
    scores = dict(result["scores"])
    noise_fd = result.get("reference", {}).get("noise", {}).get("fd")
    if "fd" in scores and noise_fd:
        scores["fd_noise_ratio"] = scores["fd"] / noise_fd
    return scores


def check_thresholds(scores: Mapping[str, float],
                     thresholds: Mapping[str, Mapping[str, float]]) -> List[str]:
    """The failed bounds, as readable lines (empty: all hold)."""
    failures = []
    for name, bounds in thresholds.items():
        unknown = set(bounds) - {"min", "max"}
        if unknown:
            raise ValueError(f"threshold {name!r}: unknown bound(s) {sorted(unknown)}; use min/max")
        if name not in scores:
            failures.append(f"{name}: not scored (known: {', '.join(sorted(scores))})")
            continue
        value = scores[name]
        if "min" in bounds and not value >= bounds["min"]:
            failures.append(f"{name} = {value:.4g} < min {bounds['min']}")
        if "max" in bounds and not value <= bounds["max"]:
            failures.append(f"{name} = {value:.4g} > max {bounds['max']}")
    return failures


def check_baseline(scores: Mapping[str, float], baseline: Mapping[str, float],
                   names, tolerance: float) -> List[str]:
    """Scores worse than the baseline's by more than ``tolerance`` (relative)."""
    failures = []
    for name in names:
        if name not in scores or name not in baseline:
            continue
        value, base = scores[name], baseline[name]
        if name in LOWER_IS_BETTER:
            limit = base * (1 + tolerance) + 1e-9
            if value > limit:
                failures.append(f"{name} = {value:.4g} worse than baseline {base:.4g} (+{tolerance:.0%})")
        else:
            limit = base * (1 - tolerance) - 1e-9
            if value < limit:
                failures.append(f"{name} = {value:.4g} worse than baseline {base:.4g} (-{tolerance:.0%})")
    return failures


def decide(scores: Mapping[str, float], thresholds: Mapping[str, Mapping[str, float]],
           baseline: Optional[Mapping[str, float]] = None,
           tolerance: float = 0.1) -> Tuple[bool, List[str]]:
    """(blessed, reasons it was not) for a candidate's scores."""
    failures = check_thresholds(scores, thresholds)
    if baseline is not None:
        # fd once, even when it is also thresholded
        failures += check_baseline(scores, baseline, dict.fromkeys(["fd", *thresholds]),
                                   tolerance)
    return not failures, failures
