"""The 2-D networks of the mixture-of-Gaussians experiment.

G: z (256-d N(0, I)) -> dense ``hidden`` tanh -> dense ``hidden`` tanh -> dense 2 (linear).
D: point -> dense ``hidden`` tanh -> dense ``hidden`` tanh -> dense 1 (linear).
Weights start Glorot-uniform (Keras' default, as in the MLPs of the GAN stability literature):
N(0, 0.02), right for the convolutional models, leaves these MLPs mapping all of z to almost
one point, and G then needs tens of thousands of steps to spread out.
"""
from __future__ import annotations

import keras

from lsgan_tf.models.common import GanModels, MODELS

POINT_DIM = 2


def _mlp(inputs, hidden: int, out: int, prefix: str):
    x = inputs
    for i in range(2):
        x = keras.layers.Dense(hidden, activation="tanh", name=f"{prefix}_dense{i + 1}")(x)
    return keras.layers.Dense(out, name=f"{prefix}_out")(x)


@MODELS.register("mog_mlp")
def build(config) -> GanModels:
    z = keras.Input((config.noise.dim,), name="z")
    generator = keras.Model(z, _mlp(z, config.hidden, POINT_DIM, "g"), name="generator")
    point = keras.Input((POINT_DIM,), name="point")
    discriminator = keras.Model(point, _mlp(point, config.hidden, 1, "d"), name="discriminator")
    return GanModels(generator, discriminator, "linear", conditional=False)
