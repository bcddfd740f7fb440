"""compare_gan's InfoGAN-style networks for 28 x 28 MNIST / Fashion-MNIST (Lucic et al. 2018,
"Are GANs Created Equal?"), registered as ``infogan``.

What compare_gan does (google/compare_gan, the TF1 code of the paper: branch v1,
``compare_gan/src/gans/abstract_gan.py``, ``AbstractGAN.generator`` / ``.discriminator``, the
same in the later ``compare_gan/architectures/infogan.py``; layers in
``compare_gan/src/gans/ops.py``), with S = 28:

G: z -> linear 1024, BN, lrelu -> linear (S/4)^2 x 128 = 7x7x128, BN, lrelu -> reshape
   -> deconv 4x4/2 to 64 (14x14), BN, lrelu -> deconv 4x4/2 to c_dim (28x28), sigmoid.
D: conv 4x4/2 to 64 (14x14), lrelu -> conv 4x4/2 to 128 (7x7), BN, lrelu -> flatten (6272)
   -> linear 1024, BN, lrelu -> linear 1 (``out_logit``; compare_gan's ``out`` is its sigmoid).
   BN in D is the ``discriminator_batchnorm`` switch (True, LSGAN's default, ``params.py``).

  * lrelu is ``ops.lrelu``: max(x, 0.2 x), in G as well as in D (G has no plain ReLU);
    ``models.layers.lrelu`` is the same, LeakyReLU(0.2).
  * "SAME" padding; every ``ops.linear`` / ``conv2d`` / ``deconv2d`` adds a bias (zeros).
    Kernels start from N(0, 0.02) (``linear``, ``deconv2d``) and truncated N(0, 0.02) (D's
    ``conv2d``).
  * BN is ``tf.contrib.layers.batch_norm(decay=0.999, epsilon=0.001, scale=True)`` (centre
    too); samples and evaluation use its moving averages (compare_gan's ``fake_images`` is
    built with ``is_training=False``).
  * z: ``z_dim`` 64 (``gan_lib.create_gan``: "the same batch size and latent space dimension
    for all GANs", batch 64, z_dim 64), U(-1, 1) (``AbstractGAN.z_generator``).
  * Reals: PNG decoded to [0, 1] (``gan_lib.unpack_png_image``: x / 255), G's sigmoid range.

Differences here, none changing the training step:
  * BN: epsilon 1e-3 as compare_gan, but the moving averages' momentum is 0.9 (the other
    models'), not 0.999. Training normalises with the batch's statistics whatever the momentum;
    the moving averages only serve samples, evaluation and the export. At 0.999 they are still
    74% their initial values (mean 0, variance 1) after 300 steps, 5% after 3,000, and samples
    drawn with them are a flat grey until then (seen on MNIST at 300 steps); at 0.9 they track
    the last ~10 batches, so short runs and ``eval.every`` selection score what G makes.
    compare_gan evaluated at 4,687-step checkpoints and at 18,750 steps, where the two agree
    up to 0.999's smoother average. ``BN`` below holds the settings.
  * A layer followed by BN has no bias (the rule of every model here, ``models.layers``): BN
    subtracts the batch mean (the moving mean at inference), so compare_gan's bias there has a
    zero gradient and never moves from 0. Parameters are compare_gan's minus those biases:
    1024 + 6272 + 64 in G, 128 + 1024 in D (with BN; with ``g_batchnorm`` / ``d_batchnorm``
    False the biases are back).
  * D returns the raw logit: our losses take raw scores. compare_gan's least-squares loss
    (``src/gans/LSGAN.py``, ``gans/loss_lib.least_squares``) is taken on the sigmoid
    ``out``, (sigmoid(D) - 1)^2 and sigmoid(D)^2, whereas ``loss.type=ls`` here is Mao et
    al.'s on the linear output.

``ModelConfig`` fields -> widths (the ``mnist`` / ``fashion_mnist`` presets give compare_gan's):
  G: linear 16 ``g_width`` (1024) -> linear (S/4)^2 x 2 ``g_width`` (7x7x128) -> deconv
     ``g_width`` (64) -> deconv ``channels`` (1); ``g_width`` = 64.
  D: conv ``d_width`` (64) -> conv 2 ``d_width`` (128) -> linear ``d_dense`` (1024) -> 1;
     ``d_width`` = 64, ``d_dense`` = 1024.
  ``noise`` = uniform, 64; ``g_batchnorm`` / ``d_batchnorm`` switch BN off in G / D.
Layer names are compare_gan's (``g_fc1`` ... ``g_dc4``, ``d_conv1`` ... ``d_fc4``).
"""
from __future__ import annotations

from typing import List

from lsgan_tf.models.common import GanModels, MODELS, ModelSupport, WeightLayer, weight_layer

SIZES = (28,)
# compare_gan's ops.batch_norm: tf.contrib.layers.batch_norm(decay=0.999, epsilon=0.001); the
# momentum of the moving averages is 0.9 here (module docstring, "Differences").
BN = {"momentum": 0.9, "epsilon": 1e-3}


def weight_layers(m) -> List[WeightLayer]:
    """The weights of the networks below (``WeightLayer``, for ``lsgan_tf.memory_estimate``)."""
    q2, gw, dw, dd, c = (m.image_size // 4) ** 2, m.g_width, m.d_width, m.d_dense, m.channels
    return [weight_layer(m.noise.dim, 16 * gw, True, "noise.dim", "g_width"),
            weight_layer(16 * gw, q2 * 2 * gw, True, "g_width", "image_size"),
            weight_layer(16 * 2 * gw, gw, True, "g_width"),
            weight_layer(16 * gw, c, True, "g_width"),
            weight_layer(16 * c, dw, False, "d_width"),
            weight_layer(16 * dw, 2 * dw, False, "d_width"),
            weight_layer(q2 * 2 * dw, dd, False, "image_size", "d_width", "d_dense"),
            weight_layer(dd, 1, False, "d_dense")]


@MODELS.register("infogan", weights=weight_layers,
                 supports=ModelSupport(image_sizes=SIZES, channels=(1, 3),
                                                  conditional=False))
def build(config) -> GanModels:
    import keras

    from lsgan_tf.models.layers import deconv, dense, lrelu, maybe_bn, output_layer, score_layer

    if config.image_size not in SIZES:
        raise ValueError(f"infogan builds model.image_size in {SIZES}, got {config.image_size}")
    quarter = config.image_size // 4
    g_bn, d_bn, gw = config.g_batchnorm, config.d_batchnorm, config.g_width

    z = keras.Input((config.noise.dim,), name="z")
    x = dense(16 * gw, "g_fc1", not g_bn)(z)
    x = lrelu(maybe_bn(x, g_bn, "g_bn1", **BN))
    x = dense(quarter * quarter * 2 * gw, "g_fc2", not g_bn)(x)
    x = lrelu(maybe_bn(x, g_bn, "g_bn2", **BN))
    x = keras.layers.Reshape((quarter, quarter, 2 * gw), name="g_reshape")(x)
    x = deconv(gw, 4, 2, "g_dc3", not g_bn)(x)
    x = lrelu(maybe_bn(x, g_bn, "g_bn3", **BN))
    x = deconv(config.channels, 4, 2, "g_dc4")(x)
    generator = keras.Model(z, output_layer(x, "sigmoid"), name="generator")

    def conv(filters, name, use_bias=True):  # ops.conv2d: truncated N(0, 0.02)
        return keras.layers.Conv2D(
            filters, 4, strides=2, padding="same", use_bias=use_bias, name=name,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    size = config.image_size
    image = keras.Input((size, size, config.channels), name="image")
    y = lrelu(conv(config.d_width, "d_conv1")(image))
    y = conv(2 * config.d_width, "d_conv2", not d_bn)(y)
    y = lrelu(maybe_bn(y, d_bn, "d_bn2", **BN))
    y = keras.layers.Flatten(name="d_flatten")(y)
    y = dense(config.d_dense, "d_fc3", not d_bn)(y)
    y = lrelu(maybe_bn(y, d_bn, "d_bn3", **BN))
    y = score_layer("d_fc4")(y)
    discriminator = keras.Model(image, y, name="discriminator")
    return GanModels(generator, discriminator, "sigmoid", conditional=False)
