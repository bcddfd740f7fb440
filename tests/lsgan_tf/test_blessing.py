"""Blessing rules: thresholds, the noise-relative FD, and the baseline tolerance."""
import pytest

from lsgan_tf import blessing


def test_thresholds_min_and_max():
    scores = {"fd": 2.0, "precision": 0.6}
    assert blessing.decide(scores, {"fd": {"max": 2.0}, "precision": {"min": 0.6}}) == (True, [])
    blessed, reasons = blessing.decide(scores, {"fd": {"max": 1.5}, "precision": {"min": 0.7}})
    assert not blessed and reasons == ["fd = 2 > max 1.5", "precision = 0.6 < min 0.7"]
    blessed, reasons = blessing.decide(scores, {"recall": {"min": 0.1}})
    assert not blessed and reasons[0].startswith("recall: not scored")
    with pytest.raises(ValueError, match="unknown bound"):
        blessing.decide(scores, {"fd": {"below": 1}})


def test_fd_noise_ratio_is_derived():
    result = {"scores": {"fd": 3.0}, "reference": {"noise": {"fd": 60.0}}}
    assert blessing.derived_scores(result)["fd_noise_ratio"] == pytest.approx(0.05)
    assert "fd_noise_ratio" not in blessing.derived_scores({"scores": {"fd": 3.0}})


def test_baseline_tolerance():
    thresholds = {"precision": {"min": 0.1}}
    base = {"fd": 10.0, "precision": 0.8}
    assert blessing.decide({"fd": 10.9, "precision": 0.73}, thresholds, base, 0.1)[0]
    # exactly at the tolerance still blesses: fd <= 10 (1 + 0.1), precision >= 0.8 (1 - 0.1)
    assert blessing.decide({"fd": 11.0, "precision": 0.72}, thresholds, base, 0.1) == (True, [])
    blessed, reasons = blessing.decide({"fd": 11.5, "precision": 0.7}, thresholds, base, 0.1)
    assert not blessed and reasons == ["fd = 11.5 worse than baseline 10 (+10%)",
                                       "precision = 0.7 worse than baseline 0.8 (-10%)"]
    # an unthresholded score other than fd is not compared; nor is a score the baseline lacks
    assert blessing.decide({"fd": 10.0, "precision": 0.8, "recall": 0.0}, thresholds,
                           {**base, "recall": 0.9}, 0.0) == (True, [])
    assert blessing.decide({"fd": 10.0, "precision": 0.1}, thresholds, {"fd": 10.0}, 0.0) \
        == (True, [])


def test_a_thresholded_fd_is_compared_with_the_baseline_once():
    blessed, reasons = blessing.decide({"fd": 12.0}, {"fd": {"max": 100.0}}, {"fd": 10.0}, 0.0)
    assert not blessed and reasons == ["fd = 12 worse than baseline 10 (+0%)"]


# The blessing rule of every preset (README: "each preset has its own"; lsun_112 and dcgan
# take EvalConfig's image default).
IMAGE_DEFAULT = {"fd_noise_ratio": {"max": 0.25}, "precision": {"min": 0.3}}
PRESET_RULES = {
    "digits": {"fd_noise_ratio": {"max": 0.2}, "precision": {"min": 0.5},
               "label_accuracy": {"min": 0.6}},
    "hwdb_3740": {"fd_noise_ratio": {"max": 0.3}, "precision": {"min": 0.3}},
    "lsun_112": IMAGE_DEFAULT,
    "dcgan": IMAGE_DEFAULT,
    "mog8": {"modes_covered": {"min": 6.0}, "high_quality_share": {"min": 0.5}},
    "mnist": {"fd": {"max": 40.0}, "precision": {"min": 0.3}},
    "fashion_mnist": {"fd": {"max": 40.0}, "precision": {"min": 0.3}},
}


def test_every_registered_preset_states_its_rules_here():
    from lsgan_tf.registry import PRESETS

    assert sorted(PRESET_RULES) == PRESETS.names()


@pytest.mark.parametrize("name", sorted(PRESET_RULES))
def test_each_preset_blesses_at_its_bounds_and_refuses_past_them(name):
    from lsgan_tf.presets import get_preset
    from lsgan_tf.validation import parse_thresholds

    thresholds = parse_thresholds(get_preset(name).eval.thresholds)
    assert thresholds == PRESET_RULES[name]
    at_bounds = {score: bounds.get("max", bounds.get("min"))
                 for score, bounds in thresholds.items()}
    assert blessing.decide(at_bounds, thresholds) == (True, [])
    for score, bounds in thresholds.items():
        worse = dict(at_bounds)
        worse[score] += 0.01 if "max" in bounds else -0.01
        blessed, reasons = blessing.decide(worse, thresholds)
        assert not blessed and len(reasons) == 1 and reasons[0].startswith(score)
