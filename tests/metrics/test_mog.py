"""Mode scores for the 8-Gaussian ring."""
import math

import numpy as np
import pytest

from lsgan_tf.builtin_data import MOG_STD, mog8_centres, mog8_sample
from lsgan_tf.metrics.mog import mode_metrics

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
