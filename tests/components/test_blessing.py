"""Blessing rules: thresholds, the noise-relative FD, and the baseline tolerance."""
import pytest

from components.evaluator import blessing


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
    blessed, reasons = blessing.decide({"fd": 11.5, "precision": 0.7}, thresholds, base, 0.1)
    assert not blessed and len(reasons) == 2 and "worse than baseline" in reasons[0]


@pytest.mark.parametrize("name", ["digits", "dcgan", "lsun_112", "hwdb_3740", "mog8"])
def test_each_preset_blesses_at_its_bounds_and_refuses_past_them(name):
    from lsgan_tf.presets import get_preset
    from lsgan_tf.validation import parse_thresholds

    thresholds = parse_thresholds(get_preset(name).eval.thresholds)
    assert thresholds, name
    at_bounds = {score: bounds.get("max", bounds.get("min"))
                 for score, bounds in thresholds.items()}
    assert blessing.decide(at_bounds, thresholds) == (True, [])
    for score, bounds in thresholds.items():
        worse = dict(at_bounds)
        worse[score] += 0.01 if "max" in bounds else -0.01
        blessed, reasons = blessing.decide(worse, thresholds)
        assert not blessed and len(reasons) == 1 and reasons[0].startswith(score)
