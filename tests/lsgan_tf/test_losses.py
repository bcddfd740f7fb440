"""Losses against their formulas computed by hand, and gradients against the seed formulas."""
import math

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import losses
from lsgan_tf.config import LossConfig

D_REAL = [0.5, 2.0]
D_FAKE = [-1.0, 0.3]


def softplus(t):
    return math.log1p(math.exp(t))


@pytest.mark.parametrize("name, expected", [
    # (a, b, c) = (0, 1, 1): real 1/2 mean(0.25, 1) = 0.3125; fake 1/2 mean(1, 0.09) = 0.2725;
    # G 1/2 mean(4, 0.49) = 1.1225.
    ("ls", (0.585, 1.1225, 0.3125, 0.2725)),
    # (a, b, c) = (-1, 1, 0): fake 1/2 mean(0, 1.69) = 0.4225; G 1/2 mean(1, 0.09) = 0.2725.
    ("pearson", (0.735, 0.2725, 0.3125, 0.4225)),
])
def test_least_squares_codings_by_hand(name, expected):
    result = losses.get_loss(LossConfig(type=name))(D_REAL, D_FAKE)
    np.testing.assert_allclose([float(v) for v in result[:4]], expected, rtol=1e-6)


def test_least_squares_custom_labels_use_config():
    result = losses.get_loss(LossConfig(type="least_squares", a=0.5, b=2.0, c=-1.0))(D_REAL, D_FAKE)
    real = 0.5 * ((0.5 - 2) ** 2 + (2 - 2) ** 2) / 2
    fake = 0.5 * ((-1 - 0.5) ** 2 + (0.3 - 0.5) ** 2) / 2
    gen = 0.5 * ((-1 + 1) ** 2 + (0.3 + 1) ** 2) / 2
    np.testing.assert_allclose([float(result.d_loss), float(result.g_loss)], [real + fake, gen],
                               rtol=1e-6)


def test_regular_gan_losses_by_hand():
    real = (softplus(-0.5) + softplus(-2.0)) / 2          # -E log sigma(D(x))
    fake = (softplus(-1.0) + softplus(0.3)) / 2           # -E log(1 - sigma(D(G(z))))
    ns = (softplus(1.0) + softplus(-0.3)) / 2             # -E log sigma(D(G(z)))
    mm = losses.get_loss(LossConfig(type="minimax"))(D_REAL, D_FAKE)
    nsl = losses.get_loss(LossConfig(type="ns"))(D_REAL, D_FAKE)
    np.testing.assert_allclose([float(mm.d_loss), float(mm.g_loss)], [real + fake, -fake], rtol=1e-6)
    np.testing.assert_allclose([float(nsl.d_loss), float(nsl.g_loss)], [real + fake, ns], rtol=1e-6)
    for result in (mm, nsl):  # L_D's terms: on real rows, on fake rows
        np.testing.assert_allclose([float(result.d_loss_real), float(result.d_loss_fake)],
                                   [real, fake], rtol=1e-6)


def test_unknown_loss_names_the_known_ones():
    with pytest.raises(KeyError, match="known losss?: .*ls.*pearson"):
        losses.get_loss(LossConfig(type="hinge"))


@pytest.mark.parametrize("a, b, c", [losses.LS_LABELS, losses.PEARSON_LABELS])
def test_gradients_match_seed_formulas(a, b, c):
    """For a linear D(x) = w.x: dL_D/dw = E[(D(x)-b) x] + E[(D(G(z))-a) G(z)] and
    dL_G/dG(z)_i = (1/N) (D(G(z)_i) - c) w."""
    rng = np.random.default_rng(0)
    real = rng.normal(size=(6, 3)).astype(np.float32)
    fake = tf.Variable(rng.normal(size=(6, 3)).astype(np.float32))
    w = tf.Variable(rng.normal(size=(3,)).astype(np.float32))
    loss_fn = losses.least_squares_from_labels(a, b, c)
    with tf.GradientTape(persistent=True) as tape:
        d_real, d_fake = tf.linalg.matvec(real, w), tf.linalg.matvec(fake, w)
        result = loss_fn(d_real, d_fake)
    dr, df = d_real.numpy(), d_fake.numpy()
    expected_dw = ((dr - b)[:, None] * real).mean(0) + ((df - a)[:, None] * fake.numpy()).mean(0)
    np.testing.assert_allclose(tape.gradient(result.d_loss, w).numpy(), expected_dw, rtol=1e-5)
    expected_dfake = (df - c)[:, None] * w.numpy()[None, :] / len(df)
    np.testing.assert_allclose(tape.gradient(result.g_loss, fake).numpy(), expected_dfake,
                               rtol=1e-5)
