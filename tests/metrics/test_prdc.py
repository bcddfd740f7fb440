"""Precision / recall / density / coverage against a hand-worked example and the definitions."""
import numpy as np
import pytest
from scipy.spatial.distance import cdist

from lsgan_tf.metrics.prdc import knn_radii, prdc

# Real {0, 1, 3, 7}, fake {0.5, 2.5, 20, 21}, k = 1.
# Real radii (nearest other real): 1, 1, 2, 4.  Fake radii: 2, 2, 1, 1.
# precision: 0.5 in B(0, 1), 2.5 in B(3, 2); 20 and 21 in no real ball     -> 2/4
# recall:    0, 1 in B(0.5, 2); 3 in B(2.5, 2); 7 in no fake ball          -> 3/4
# density:   0.5 in 2 real balls, 2.5 in 1, 20 and 21 in none: 3 / (1 * 4) -> 0.75
# coverage:  nearest fakes 0.5, 0.5, 2.5 within radii 1, 1, 2; 7's (2.5) is 4.5 > 4 -> 3/4
REAL_1D = np.array([[0.0], [1.0], [3.0], [7.0]])
FAKE_1D = np.array([[0.5], [2.5], [20.0], [21.0]])
EXPECTED = {"precision": 0.5, "recall": 0.75, "density": 0.75, "coverage": 0.75}


def test_hand_worked_example():
    np.testing.assert_allclose(knn_radii(REAL_1D, 1), [1, 1, 2, 4])
    assert prdc(REAL_1D, FAKE_1D, k=1) == pytest.approx(EXPECTED)


def test_hand_worked_example_in_many_dimensions():
    # The same points on a line in 8-D (all pairs are computed instead of a k-d tree query),
    # rotated so no coordinate is special.
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    pad = np.zeros((4, 7))
    real = np.hstack([REAL_1D, pad]) @ q.T
    fake = np.hstack([FAKE_1D, pad]) @ q.T
    assert prdc(real, fake, k=1) == pytest.approx(EXPECTED)


def reference_prdc(real, fake, k):
    """The definitions written out with full distance matrices."""
    rr, ff, rf = cdist(real, real), cdist(fake, fake), cdist(real, fake)
    real_r = np.sort(rr, axis=1)[:, k]   # column 0 is the point itself
    fake_r = np.sort(ff, axis=1)[:, k]
    inside = rf <= real_r[:, None]
    return {"precision": inside.any(0).mean(),
            "recall": (rf <= fake_r[None, :]).any(1).mean(),
            "density": inside.sum() / (k * len(fake)),
            "coverage": (rf.min(1) <= real_r).mean()}


@pytest.mark.parametrize("dim", [2, 8])
def test_matches_definitions_on_random_sets(dim):
    rng = np.random.default_rng(dim)
    real = rng.normal(size=(2500, dim))
    fake = rng.normal(0.3, 1.2, size=(2000, dim))  # 5M distances: computed in 2 blocks
    got, expected = prdc(real, fake, k=5), reference_prdc(real, fake, 5)
    assert got == pytest.approx(expected, abs=1e-12)
    assert 0.3 < got["precision"] < 1.0 and 0.3 < got["recall"] < 1.0


def test_identical_and_disjoint_sets():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 6))
    same = prdc(x, x, k=5)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["density"] >= 1.0  # each point lies in its own ball and in its neighbours'
    far = prdc(x, x + 100.0, k=5)
    assert far == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


def test_too_few_points():
    with pytest.raises(ValueError, match="more than 5 points"):
        prdc(np.zeros((5, 2)), np.zeros((10, 2)), k=5)
