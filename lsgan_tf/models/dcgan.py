"""DCGAN family for 32, 64 or 128-pixel images, with batch-norm switches for the stability runs.

G: z -> dense 4x4x(g_width 2^(n-1)), BN, ReLU -> (n - 1) deconvs 5x5/2 halving the width (BN,
   ReLU) -> deconv 5x5/2 to ``channels``, tanh; n = log2(image_size / 4).
D: conv 5x5/2 d_width, LReLU -> (n - 1) convs 5x5/2 doubling the width (BN, LReLU) -> dense 1.
``g_batchnorm=False`` drops BN from G; ``d_batchnorm=False`` from D.
"""
from __future__ import annotations

from typing import List

from lsgan_tf.models.common import GanModels, MODELS, ModelSupport, WeightLayer, weight_layer

SIZES = (32, 64, 128)


def weight_layers(m) -> List[WeightLayer]:
    """The weights of the networks below (``WeightLayer``, for ``lsgan_tf.memory_estimate``): n =
    log2(image_size / 4) stride-2 layers each way."""
    n = max(1, (max(m.image_size, 4) // 4).bit_length() - 1)
    top, dw, c = m.g_width * 2 ** (n - 1), m.d_width, m.channels
    layers = [weight_layer(m.noise.dim, 16 * top, True, "noise.dim", "g_width")]
    layers += [weight_layer(25 * (top >> i), top >> (i + 1), True, "g_width")
               for i in range(n - 1)]
    layers += [weight_layer(25 * (top >> (n - 1)), c, True, "g_width"),
               weight_layer(25 * c, dw, False, "d_width")]
    layers += [weight_layer(25 * dw << (i - 1), dw << i, False, "d_width") for i in range(1, n)]
    return layers + [weight_layer(16 * (dw << (n - 1)), 1, False, "d_width")]


@MODELS.register("dcgan", weights=weight_layers,
                 supports=ModelSupport(image_sizes=SIZES, conditional=False))
def build(config) -> GanModels:
    import keras

    from lsgan_tf.models.layers import (conv, deconv, dense, lrelu, maybe_bn, output_layer,
                                        score_layer)

    if config.image_size not in SIZES:
        raise ValueError(f"dcgan supports model.image_size in {SIZES}, got {config.image_size}")
    n = {32: 3, 64: 4, 128: 5}[config.image_size]
    top = config.g_width * 2 ** (n - 1)
    z = keras.Input((config.noise.dim,), name="z")
    x = dense(4 * 4 * top, "g_dense", not config.g_batchnorm)(z)
    x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = keras.layers.Reshape((4, 4, top))(x)
    for i in range(n - 1):
        x = deconv(top // 2 ** (i + 1), 5, 2, f"g_deconv{i + 1}", not config.g_batchnorm)(x)
        x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = deconv(config.channels, 5, 2, f"g_deconv{n}")(x)
    generator = keras.Model(z, output_layer(x, "tanh"), name="generator")

    image = keras.Input((config.image_size, config.image_size, config.channels), name="image")
    y = lrelu(conv(config.d_width, 5, 2, "d_conv1")(image))
    for i in range(1, n):
        y = lrelu(maybe_bn(conv(config.d_width * 2 ** i, 5, 2, f"d_conv{i + 1}", not config.d_batchnorm)(y),
                           config.d_batchnorm))
    y = score_layer()(keras.layers.Flatten()(y))
    discriminator = keras.Model(image, y, name="discriminator")
    return GanModels(generator, discriminator, "tanh", conditional=False)
