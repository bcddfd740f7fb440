"""The least-squares optimum: D*(x) = (b p_d + a p_g) / (p_d + p_g), and with b - c = 1,
b - a = 2 the extended G criterion 2 C(G) = sum (2 p_g - (p_d + p_g))^2 / (p_d + p_g)."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import losses

# Eight samples each, so that means over samples are expectations under p_d and p_g exactly.
REAL_POINTS = [0, 0, 0, 0, 1, 1, 2, 2]      # p_d = (1/2, 1/4, 1/4, 0)
FAKE_POINTS = [0, 1, 2, 2, 3, 3, 3, 3]      # p_g = (1/8, 1/8, 1/4, 1/2)
P_D = np.array([0.5, 0.25, 0.25, 0.0])
P_G = np.array([0.125, 0.125, 0.25, 0.5])


def train_table_discriminator(a, b, c, steps=400):
    """D is a free value per point, trained by gradient descent on the least-squares L_D."""
    table = tf.Variable(np.zeros(4, np.float32))
    loss_fn = losses.least_squares_from_labels(a, b, c)
    optimizer = keras.optimizers.SGD(learning_rate=2.0)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            d_loss = loss_fn(tf.gather(table, REAL_POINTS), tf.gather(table, FAKE_POINTS)).d_loss
        optimizer.apply_gradients([(tape.gradient(d_loss, table), table)])
    return table.numpy()


@pytest.mark.parametrize("a, b, c", [losses.LS_LABELS, losses.PEARSON_LABELS])
def test_trained_discriminator_reaches_the_optimum(a, b, c):
    d_star = (b * P_D + a * P_G) / (P_D + P_G)
    np.testing.assert_allclose(train_table_discriminator(a, b, c), d_star, atol=1e-4)


def test_pearson_coding_gives_pearson_chi_square():
    a, b, c = losses.PEARSON_LABELS
    assert b - c == 1 and b - a == 2
    table = train_table_discriminator(a, b, c)
    d_real, d_fake = table[REAL_POINTS], table[FAKE_POINTS]
    # Extended G criterion: 1/2 E_pd[(D*(x) - c)^2] + 1/2 E_pg[(D*(x) - c)^2].
    criterion = float(losses.least_squares(d_real, d_fake, a=c, b=c, c=c).d_loss)
    pearson = np.sum((2 * P_G - (P_D + P_G)) ** 2 / (P_D + P_G))
    np.testing.assert_allclose(2 * criterion, pearson, rtol=1e-4)
