"""The paper's scene model for 112 x 112 x 3 LSUN images (docs/PAPER.md section 2).

G: z -> dense 7x7x256, BN, ReLU -> deconv 3x3/2 256 -> 3x3/1 256 -> 3x3/2 256 -> 3x3/1 256
   -> 3x3/2 128 -> 3x3/2 64 (each BN, ReLU) -> deconv 3x3/1 to 3 channels, tanh.
D: conv 5x5/2 64, LReLU(0.2) -> conv 5x5/2 128, 256, 512 (each BN, LReLU) -> dense 1 (linear).
``g_width`` (256) and ``d_width`` (64) scale the widths; ``g_batchnorm``/``d_batchnorm`` switch BN.
"""
from __future__ import annotations

from typing import List

from lsgan_tf.models.common import GanModels, MODELS, ModelSupport, WeightLayer, weight_layer


def weight_layers(m) -> List[WeightLayer]:
    """The weights of the networks below (``WeightLayer``, for ``lsgan_tf.memory_estimate``)."""
    w, dw, c = m.g_width, m.d_width, m.channels
    widths = [w, w, w, w, w, w // 2, w // 4, c]
    layers = [weight_layer(m.noise.dim, 49 * w, True, "noise.dim", "g_width")]
    layers += [weight_layer(9 * widths[i], widths[i + 1], True, "g_width") for i in range(7)]
    layers += [weight_layer(25 * c, dw, False, "d_width")]
    layers += [weight_layer(25 * dw * mult, 2 * dw * mult, False, "d_width") for mult in (1, 2, 4)]
    return layers + [weight_layer(49 * 8 * dw, 1, False, "d_width")]


@MODELS.register("lsun_112", weights=weight_layers,
                 supports=ModelSupport(image_sizes=(112,), conditional=False))
def build(config) -> GanModels:
    import keras

    from lsgan_tf.models.layers import (conv, deconv, dense, lrelu, maybe_bn, output_layer,
                                        score_layer)

    if config.image_size != 112:
        raise ValueError(f"lsun_112 makes 112 x 112 images, got model.image_size={config.image_size}")
    w = config.g_width
    z = keras.Input((config.noise.dim,), name="z")
    x = dense(7 * 7 * w, "g_dense", not config.g_batchnorm)(z)
    x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = keras.layers.Reshape((7, 7, w))(x)
    for i, (filters, stride) in enumerate([(w, 2), (w, 1), (w, 2), (w, 1), (w // 2, 2), (w // 4, 2)]):
        x = deconv(filters, 3, stride, f"g_deconv{i + 1}", not config.g_batchnorm)(x)
        x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = deconv(config.channels, 3, 1, "g_deconv7")(x)
    generator = keras.Model(z, output_layer(x, "tanh"), name="generator")

    dw = config.d_width
    image = keras.Input((112, 112, config.channels), name="image")
    y = lrelu(conv(dw, 5, 2, "d_conv1")(image))
    for i, mult in enumerate([2, 4, 8]):
        y = lrelu(maybe_bn(conv(dw * mult, 5, 2, f"d_conv{i + 2}", not config.d_batchnorm)(y), config.d_batchnorm))
    y = score_layer()(keras.layers.Flatten()(y))
    discriminator = keras.Model(image, y, name="discriminator")
    return GanModels(generator, discriminator, "tanh", conditional=False)
