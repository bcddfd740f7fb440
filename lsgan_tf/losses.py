"""GAN objectives on raw discriminator outputs (D ends in a linear unit, no sigmoid).

Every loss has the signature ``loss(d_real, d_fake) -> GanLoss`` where ``d_real`` = D(x) and
``d_fake`` = D(G(z)) are unbounded tensors of any shape [batch, ...]; the returned parts are means
over all their elements.

Least squares (Mao et al. 2017, eq. 2), labels a (fake, for D), b (real, for D), c (fake, for G):
    L_D = 1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    L_G = 1/2 E[(D(G(z)) - c)^2]
  ``ls``: (a, b, c) = (0, 1, 1);  ``pearson``: (-1, 1, 0), where b - c = 1 and b - a = 2 make
  L_G minimise the Pearson chi-square divergence between p_d + p_g and 2 p_g.

Regular GAN (Goodfellow et al. 2014), with sigma the logistic sigmoid:
    L_D = -E[log sigma(D(x))] - E[log(1 - sigma(D(G(z))))]
  ``minimax``:          L_G = E[log(1 - sigma(D(G(z))))]
  ``ns`` (non-saturating): L_G = -E[log sigma(D(G(z)))]
  computed stably as softplus terms: -log sigma(t) = softplus(-t), -log(1 - sigma(t)) = softplus(t).
"""
from __future__ import annotations

from typing import Any, Callable, NamedTuple

from lsgan_tf.registry import LOSSES

# TensorFlow is imported inside the functions: registering the losses must not load it.


class GanLoss(NamedTuple):
    """The parts of a GAN objective (scalar ``tf.Tensor``s): the D loss (and its real / fake
    terms) and the G loss."""
    d_loss: Any
    g_loss: Any
    d_loss_real: Any
    d_loss_fake: Any


LossFn = Callable[[Any, Any], GanLoss]


def least_squares(d_real, d_fake, a: float, b: float, c: float) -> GanLoss:
    """L_D = 1/2 E[(D(x)-b)^2] + 1/2 E[(D(G(z))-a)^2];  L_G = 1/2 E[(D(G(z))-c)^2]."""
    import tensorflow as tf

    d_real = tf.convert_to_tensor(d_real, tf.float32)
    d_fake = tf.convert_to_tensor(d_fake, tf.float32)
    real_term = 0.5 * tf.reduce_mean(tf.square(d_real - b))
    fake_term = 0.5 * tf.reduce_mean(tf.square(d_fake - a))
    g_loss = 0.5 * tf.reduce_mean(tf.square(d_fake - c))
    return GanLoss(real_term + fake_term, g_loss, real_term, fake_term)


def least_squares_from_labels(a: float, b: float, c: float) -> LossFn:
    """The least-squares loss with fixed labels (a, b, c)."""
    def loss(d_real, d_fake) -> GanLoss:
        return least_squares(d_real, d_fake, a, b, c)
    loss.labels = (a, b, c)
    return loss


LS_LABELS = (0.0, 1.0, 1.0)
PEARSON_LABELS = (-1.0, 1.0, 0.0)


@LOSSES.register("ls")
def ls_loss(config=None) -> LossFn:
    """Least squares with (a, b, c) = (0, 1, 1)."""
    return least_squares_from_labels(*LS_LABELS)


@LOSSES.register("pearson")
def pearson_loss(config=None) -> LossFn:
    """Least squares with (a, b, c) = (-1, 1, 0): the Pearson chi-square coding."""
    return least_squares_from_labels(*PEARSON_LABELS)


@LOSSES.register("least_squares")
def custom_least_squares_loss(config) -> LossFn:
    """Least squares with the labels ``config.a``, ``config.b``, ``config.c``."""
    return least_squares_from_labels(config.a, config.b, config.c)


def _regular_d_terms(d_real, d_fake):
    import tensorflow as tf

    d_real = tf.convert_to_tensor(d_real, tf.float32)
    d_fake = tf.convert_to_tensor(d_fake, tf.float32)
    real_term = tf.reduce_mean(tf.nn.softplus(-d_real))   # -E[log sigma(D(x))]
    fake_term = tf.reduce_mean(tf.nn.softplus(d_fake))    # -E[log(1 - sigma(D(G(z))))]
    return d_fake, real_term, fake_term


def minimax(d_real, d_fake) -> GanLoss:
    """Regular GAN, minimax G: L_G = E[log(1 - sigma(D(G(z))))] = -E[softplus(D(G(z)))]."""
    d_fake, real_term, fake_term = _regular_d_terms(d_real, d_fake)
    return GanLoss(real_term + fake_term, -fake_term, real_term, fake_term)


def non_saturating(d_real, d_fake) -> GanLoss:
    """Regular GAN, non-saturating G: L_G = -E[log sigma(D(G(z)))] = E[softplus(-D(G(z)))]."""
    import tensorflow as tf

    d_fake, real_term, fake_term = _regular_d_terms(d_real, d_fake)
    return GanLoss(real_term + fake_term, tf.reduce_mean(tf.nn.softplus(-d_fake)),
                   real_term, fake_term)


@LOSSES.register("minimax")
def minimax_loss(config=None) -> LossFn:
    return minimax


@LOSSES.register("ns")
def ns_loss(config=None) -> LossFn:
    return non_saturating


def get_loss(config) -> LossFn:
    """The loss function named by a ``LossConfig``."""
    return LOSSES.get(config.type)(config)
