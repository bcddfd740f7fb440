"""The score names, once: which scores exist, which way each is better, which a rule may use.

Scores come from ``lsgan_tf.metrics.evaluate`` (``fd``, ``kid``, ``kid_std``, ``precision``,
``recall``, ``density``, ``coverage``; with labels ``classifier_score``, ``classes_covered``,
``label_accuracy``; for 2-D points ``modes_covered``, ``num_modes``, ``high_quality_share``,
``mode_kl``) and from ``lsgan_tf.blessing.derived_scores`` (``fd_noise_ratio`` = fd(model) /
fd(uniform noise), which needs the evaluator's noise reference).

  ``LOWER_IS_BETTER`` / ``HIGHER_IS_BETTER``: the scores with a direction (``direction``);
  ``SCORES``: every name a blessing threshold may bound (``eval.thresholds``);
  ``SELECTABLE``: the scores that may pick the best checkpoint during training
  (``eval.select``): those with a direction that training computes (not ``fd_noise_ratio``).
``kid_std`` and ``num_modes`` have no direction. Imports nothing: validation reads it before
TensorFlow loads.
"""
from __future__ import annotations

LOWER_IS_BETTER = ("fd", "kid", "mode_kl", "fd_noise_ratio")
HIGHER_IS_BETTER = ("precision", "recall", "density", "coverage", "classifier_score",
                    "classes_covered", "label_accuracy", "modes_covered", "high_quality_share")
UNDIRECTED = ("kid_std", "num_modes")
SCORES = LOWER_IS_BETTER + HIGHER_IS_BETTER + UNDIRECTED
NEEDS_NOISE_REFERENCE = ("fd_noise_ratio",)
SELECTABLE = tuple(name for name in LOWER_IS_BETTER + HIGHER_IS_BETTER
                   if name not in NEEDS_NOISE_REFERENCE)


def direction(name: str) -> str:
    """``lower`` or ``higher``: which way the score ``name`` is better (``ValueError`` for one
    without a direction)."""
    if name in LOWER_IS_BETTER:
        return "lower"
    if name in HIGHER_IS_BETTER:
        return "higher"
    raise ValueError(f"score {name!r} has no better direction; scores with one: "
                     f"{', '.join(LOWER_IS_BETTER + HIGHER_IS_BETTER)}")
