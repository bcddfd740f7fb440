"""Keras layers and settings shared by the paper's networks (docs/PAPER.md section 2).

Builders import this module inside their ``build`` function (it imports Keras, hence
TensorFlow), so that registering a model stays cheap.

Under a mixed-precision policy (``lsgan_tf.precision``) the layers compute in 16 bits except
G's output activation and D's score layer, which compute in float32.

Weights start from N(0, 0.02), batch norm uses momentum 0.9 and epsilon 1e-5 (the authors'
code; a model may pass others, as ``infogan`` passes compare_gan's), "same" padding
throughout. Batch norm is synchronised across replicas so that a ``MirroredStrategy`` run
normalises over the same global batch as a single-device run.
"""
from __future__ import annotations

import keras
from keras import ops


def init() -> keras.initializers.Initializer:
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def batch_norm(name=None, momentum: float = 0.9, epsilon: float = 1e-5) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon, synchronized=True,
                                           name=name)


# A layer followed by batch norm gets no bias (``use_bias=False``): BN subtracts the batch mean,
# so such a bias has a zero gradient and never trains.

def dense(units, name=None, use_bias=True) -> keras.layers.Layer:
    return keras.layers.Dense(units, kernel_initializer=init(), use_bias=use_bias, name=name)


def deconv(filters, kernel, stride, name=None, use_bias=True) -> keras.layers.Layer:
    return keras.layers.Conv2DTranspose(filters, kernel, strides=stride, padding="same",
                                        kernel_initializer=init(), use_bias=use_bias, name=name)


def conv(filters, kernel, stride, name=None, use_bias=True) -> keras.layers.Layer:
    return keras.layers.Conv2D(filters, kernel, strides=stride, padding="same",
                               kernel_initializer=init(), use_bias=use_bias, name=name)


def lrelu(x):
    return keras.layers.LeakyReLU(negative_slope=0.2)(x)


class LinearLabelMap(keras.layers.Layer):
    """Phi(y) = onehot(y) W + b: the paper's linear map from a class id to a ``dim`` vector.

    Computed as a row lookup ``W[y] + b``, which equals the one-hot product without building a
    [batch, num_classes] matrix (3,740 classes for HWDB).
    """

    def __init__(self, num_classes: int, dim: int, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.dim = dim
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(self.num_classes, self.dim), initializer=init(),
                                      name="kernel")
        self.bias = (self.add_weight(shape=(self.dim,), initializer="zeros", name="bias")
                     if self.use_bias else None)

    def call(self, labels):
        phi = ops.take(self.kernel, ops.cast(labels, "int32"), axis=0)
        return phi + self.bias if self.use_bias else phi

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.dim,)


class ConcatLabelMap(keras.layers.Layer):
    """Concatenates Phi(y) to features: [b, d] -> [b, d + k]; [b, h, w, c] -> [b, h, w, c + k]
    with Phi(y) tiled over the spatial positions."""

    def call(self, features, phi):
        if len(features.shape) == 4:
            height, width = features.shape[1], features.shape[2]
            phi = ops.tile(phi[:, None, None, :], (1, height, width, 1))
        return ops.concatenate([features, ops.cast(phi, features.dtype)], axis=-1)

    def compute_output_shape(self, features_shape, phi_shape):
        return tuple(features_shape[:-1]) + (features_shape[-1] + phi_shape[-1],)


def output_layer(x, activation: str):
    """G's output activation, computed in float32 under a mixed-precision policy."""
    return keras.layers.Activation(activation, name="output", dtype="float32")(x)


def score_layer(name: str = "d_out") -> keras.layers.Layer:
    """D's last layer (one raw score per sample), computed in float32 under a mixed-precision
    policy so that the losses are float32."""
    return keras.layers.Dense(1, kernel_initializer=init(), name=name, dtype="float32")


def maybe_bn(x, enabled: bool, name=None, **settings):
    """Batch norm of ``x`` when ``enabled`` (``settings``: ``batch_norm``'s momentum, epsilon)."""
    return batch_norm(name, **settings)(x) if enabled else x
