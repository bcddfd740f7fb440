"""Scores for the 8-Gaussian ring: modes within 3 std, the ring rule, collapse."""
import math

import numpy as np
import pytest

from lsgan_tf.builtin_data import MOG_STD, mog8_centres, mog8_sample
from lsgan_tf.metrics.mog import (collapse_metrics, collapse_summary, mode_metrics, ring_metrics,
                                 ring_scores, sectors)

CENTRES = mog8_centres()


def at_modes(counts):
    return np.concatenate([np.repeat(CENTRES[k:k + 1], c, axis=0) for k, c in enumerate(counts)])


def test_evenly_spread_samples():
    got = mode_metrics(at_modes([10] * 8), CENTRES, MOG_STD)
    assert got == {"modes_covered": 8, "num_modes": 8, "high_quality_share": 1.0, "mode_kl": 0.0}


def test_two_modes_give_kl_log4():
    got = mode_metrics(at_modes([40, 40, 0, 0, 0, 0, 0, 0]), CENTRES, MOG_STD)
    assert got["modes_covered"] == 2
    assert got["mode_kl"] == pytest.approx(math.log(4))


def test_a_mode_needs_a_fifth_of_its_uniform_share():
    # 100 samples: uniform share 12.5, so a mode needs >= 2.5 samples
    got = mode_metrics(at_modes([97, 3, 0, 0, 0, 0, 0, 0]), CENTRES, MOG_STD)
    assert got["modes_covered"] == 2
    got = mode_metrics(at_modes([98, 2, 0, 0, 0, 0, 0, 0]), CENTRES, MOG_STD)
    assert got["modes_covered"] == 1
    assert got["mode_kl"] == pytest.approx(0.98 * math.log(0.98 * 8) + 0.02 * math.log(0.02 * 8))


def test_high_quality_means_within_three_std():
    direction = np.array([[0.0, 1.0]])  # tangent to the ring at mode 0
    near = CENTRES[0] + 2.9 * MOG_STD * direction
    far = CENTRES[0] + 3.1 * MOG_STD * direction
    got = mode_metrics(np.concatenate([near, far, far, far]), CENTRES, MOG_STD)
    assert got["high_quality_share"] == 0.25
    nothing = mode_metrics(far, CENTRES, MOG_STD)
    assert nothing["modes_covered"] == 0 and nothing["mode_kl"] == pytest.approx(math.log(8))


def test_real_ring_sample():
    got = mode_metrics(mog8_sample(20000, seed=0), CENTRES, MOG_STD)
    assert got["modes_covered"] == 8
    # P(radius <= 3 std) of a 2-D isotropic Gaussian = 1 - exp(-9 / 2); binomial std 0.0007
    assert got["high_quality_share"] == pytest.approx(1 - math.exp(-4.5), abs=0.003)
    assert got["mode_kl"] < 0.005


# The ring rule and the collapse rule, on hand-made point sets.

def on_circle(radius, degrees, count=1):
    angle = np.deg2rad(degrees)
    return np.repeat([[radius * np.cos(angle), radius * np.sin(angle)]], count, axis=0)


def test_sectors_are_45_degrees_centred_on_the_centres():
    points = np.concatenate([on_circle(1.0, d) for d in (0, 22, 23, 180, -44, 337, 338)]
                            + [[[np.nan, 0.0]]])
    assert sectors(points, CENTRES).tolist() == [0, 0, 1, 4, 7, 7, 0, -1]


def test_ring_rule_by_hand():
    # N = 80, so a sector is covered with >= 0.2 * 80 / 8 = 2 on-ring samples.
    points = np.concatenate([
        on_circle(1.0, 0, 70),     # sector 0, on the ring
        on_circle(0.95, 90, 2),    # sector 2, |0.95 - 1| = 0.05: on the ring, 2 >= 2
        on_circle(1.09, 180, 1),   # sector 4, on the ring, but 1 < 2
        on_circle(1.11, 270, 2),   # sector 6, 0.11 off the ring
        np.zeros((5, 2)),          # the origin: off the ring (angle 0: sector 0)
    ])
    got = ring_metrics(points, CENTRES)
    assert got == {"ring_share": 73 / 80, "sectors_covered": 2, "num_sectors": 8}
    # collapse: by angle sector 0 holds 75, sectors 2 and 6 hold 2: top two 77 / 80
    got = collapse_metrics(points, CENTRES)
    assert got == {"top_sector_share": 77 / 80, "collapsed": True}


def test_collapse_threshold_is_80_percent_of_all_samples():
    exactly = np.concatenate([on_circle(1.0, 45, 41), on_circle(0.3, 180, 39),
                              on_circle(2.0, 270, 20)])
    assert collapse_metrics(exactly, CENTRES) == {"top_sector_share": 0.8, "collapsed": True}
    below = np.concatenate([on_circle(1.0, 45, 40), on_circle(0.3, 180, 39),
                            on_circle(2.0, 270, 21)])
    assert collapse_metrics(below, CENTRES) == {"top_sector_share": 0.79, "collapsed": False}
    spread = at_modes([10] * 8)
    assert collapse_metrics(spread, CENTRES) == {"top_sector_share": 0.25, "collapsed": False}


def test_non_finite_samples_count_in_n_but_nowhere_else():
    points = np.concatenate([at_modes([2, 0, 0, 0, 0, 0, 0, 0]), np.full((2, 2), np.nan)])
    assert ring_metrics(points, CENTRES)["ring_share"] == 0.5
    assert collapse_metrics(points, CENTRES)["top_sector_share"] == 0.5
    got = mode_metrics(points, CENTRES, MOG_STD)
    assert got["high_quality_share"] == 0.5 and got["modes_covered"] == 1


def test_collapse_summary_ignores_step_0():
    got = collapse_summary([(1000, True), (0, True), (500, False), (1500, False)])
    assert got == {"collapsed_snapshots": 1, "collapse_episode": True, "collapsed_at_end": False}
    got = collapse_summary([(0, True), (500, False)])
    assert got == {"collapsed_snapshots": 0, "collapse_episode": False, "collapsed_at_end": False}
    assert collapse_summary([(0, False), (500, True)])["collapsed_at_end"]


def test_real_ring_sample_under_all_three_rules():
    got = ring_scores(mog8_sample(20000, seed=0), CENTRES, MOG_STD)
    assert got["modes_covered"] == 8 and got["ring_share"] == 1.0
    assert got["sectors_covered"] == 8 and not got["collapsed"]
    assert got["top_sector_share"] == pytest.approx(0.25, abs=0.01)
