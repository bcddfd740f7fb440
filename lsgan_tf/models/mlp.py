"""The 2-D networks of the mixture-of-Gaussians experiment.

G: z (256-d N(0, I)) -> dense ``hidden`` tanh -> dense ``hidden`` tanh -> dense 2 (linear).
D: point -> dense ``hidden`` tanh -> dense ``hidden`` tanh -> dense 1 (linear).
Kernels start orthogonal with gain 1.4, biases at 0, as in the authors' MoG script: N(0, 0.02),
right for the convolutional models, leaves these tanh MLPs almost linear and mapping all of z
to nearly one point, and D then cannot see the modes for tens of thousands of steps.
"""
from __future__ import annotations

from typing import List

from lsgan_tf.models.common import (POINTS, GanModels, MODELS, ModelSupport, WeightLayer,
                                    weight_layer)

POINT_DIM = 2
INIT_GAIN = 1.4


def _dense(units: int, name: str, activation=None, dtype=None):
    import keras

    return keras.layers.Dense(units, activation=activation, name=name, dtype=dtype,
                              kernel_initializer=keras.initializers.Orthogonal(gain=INIT_GAIN))


def _mlp(inputs, hidden: int, out: int, prefix: str):
    x = inputs
    for i in range(2):
        x = _dense(hidden, f"{prefix}_dense{i + 1}", "tanh")(x)
    return _dense(out, f"{prefix}_out", dtype="float32")(x)  # float32 under mixed precision


def weight_layers(m) -> List[WeightLayer]:
    """The weights of the networks below (``WeightLayer``, for ``lsgan_tf.memory_estimate``)."""
    h = m.hidden
    return [weight_layer(m.noise.dim, h, True, "noise.dim", "hidden"),
            weight_layer(h, h, True, "hidden"),
            weight_layer(h, 2, True, "hidden"), weight_layer(2, h, False, "hidden"),
            weight_layer(h, h, False, "hidden"), weight_layer(h, 1, False, "hidden")]


@MODELS.register("mog_mlp", weights=weight_layers,
                 supports=ModelSupport(outputs=POINTS, conditional=False))
def build(config) -> GanModels:
    import keras

    z = keras.Input((config.noise.dim,), name="z")
    generator = keras.Model(z, _mlp(z, config.hidden, POINT_DIM, "g"), name="generator")
    point = keras.Input((POINT_DIM,), name="point")
    discriminator = keras.Model(point, _mlp(point, config.hidden, 1, "d"), name="discriminator")
    return GanModels(generator, discriminator, "linear", conditional=False)
