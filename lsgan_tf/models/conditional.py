"""The paper's conditional model with the linear label map Phi(y) (docs/PAPER.md section 2).

G and D each own a ``LinearLabelMap`` Phi: onehot(y) -> ``phi_dim``.
G: concat(z, Phi(y)) -> dense (S/4)^2 x g_width, BN, ReLU -> deconv 5x5/2 g_width, BN, ReLU
   -> deconv 5x5/2 to ``channels``, sigmoid (images in [0, 1]).
D: conv 5x5/2 to phi_dim + 1 channels (257 in the paper), LReLU -> concat Phi(y) tiled
   -> conv 5x5/2 d_width (320), BN, LReLU -> flatten, concat Phi(y) -> dense d_dense (1024), BN,
   LReLU -> concat Phi(y) -> dense 1 (linear).
"""
from __future__ import annotations

from typing import List

from lsgan_tf.models.common import GanModels, MODELS, ModelSupport, WeightLayer, weight_layer


def weight_layers(m) -> List[WeightLayer]:
    """The weights of the networks below (``WeightLayer``, for ``lsgan_tf.memory_estimate``)."""
    q2, p, k, c = (m.image_size // 4) ** 2, m.phi_dim, m.num_classes, m.channels
    gw, dw, dd = m.g_width, m.d_width, m.d_dense
    return [weight_layer(k, p, True, "num_classes", "phi_dim"),
            weight_layer(m.noise.dim + p, q2 * gw, True, "noise.dim", "image_size", "g_width"),
            weight_layer(25 * gw, gw, True, "g_width"), weight_layer(25 * gw, c, True, "g_width"),
            weight_layer(k, p, False, "num_classes", "phi_dim"),
            weight_layer(25 * c, p + 1, False, "phi_dim"),
            weight_layer(25 * (2 * p + 1), dw, False, "phi_dim", "d_width"),
            weight_layer(q2 * dw + p, dd, False, "image_size", "d_width", "d_dense"),
            weight_layer(dd + p, 1, False, "d_dense")]


@MODELS.register("conditional", weights=weight_layers,
                 supports=ModelSupport(size_multiple=4, conditional=True))
def build(config) -> GanModels:
    import keras

    from lsgan_tf.models.layers import (ConcatLabelMap, LinearLabelMap, conv, deconv, dense,
                                        lrelu, maybe_bn, output_layer,
                                        score_layer)

    if config.num_classes < 1:
        raise ValueError("the conditional model needs model.num_classes >= 1")
    if config.image_size % 4:
        raise ValueError(f"model.image_size must be a multiple of 4, got {config.image_size}")
    start = config.image_size // 4

    z = keras.Input((config.noise.dim,), name="z")
    label = keras.Input((), dtype="int64", name="label")
    # Phi's bias in G only shifts the input of g_dense, which BN then removes.
    phi_g = LinearLabelMap(config.num_classes, config.phi_dim, use_bias=not config.g_batchnorm,
                           name="g_phi")(label)
    x = ConcatLabelMap()(z, phi_g)
    x = dense(start * start * config.g_width, "g_dense", not config.g_batchnorm)(x)
    x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = keras.layers.Reshape((start, start, config.g_width))(x)
    x = deconv(config.g_width, 5, 2, "g_deconv1", not config.g_batchnorm)(x)
    x = keras.layers.ReLU()(maybe_bn(x, config.g_batchnorm))
    x = deconv(config.channels, 5, 2, "g_deconv2")(x)
    generator = keras.Model([z, label], output_layer(x, "sigmoid"), name="generator")

    size = config.image_size
    image = keras.Input((size, size, config.channels), name="image")
    d_label = keras.Input((), dtype="int64", name="label")
    phi_d = LinearLabelMap(config.num_classes, config.phi_dim, name="d_phi")(d_label)
    y = lrelu(conv(config.phi_dim + 1, 5, 2, "d_conv1")(image))
    y = ConcatLabelMap()(y, phi_d)
    y = lrelu(maybe_bn(conv(config.d_width, 5, 2, "d_conv2", not config.d_batchnorm)(y), config.d_batchnorm))
    y = ConcatLabelMap()(keras.layers.Flatten()(y), phi_d)
    y = lrelu(maybe_bn(dense(config.d_dense, "d_dense", not config.d_batchnorm)(y), config.d_batchnorm))
    y = score_layer()(ConcatLabelMap()(y, phi_d))
    discriminator = keras.Model([image, d_label], y, name="discriminator")
    return GanModels(generator, discriminator, "sigmoid", conditional=True)
