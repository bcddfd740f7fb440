"""What every model builder shares: ``GanModels`` (what a builder returns), ``ModelSupport``
(what a builder states it can build, checked by ``config.validate()`` before TensorFlow loads),
``WeightLayer`` (what a builder states its weights are, for the memory estimate:
``@MODELS.register(name, weights=FUNCTION)``, FUNCTION(model config) -> [WeightLayer]) and
``build_models``. Nothing here imports Keras; the layers are in ``models.layers``.
"""
from __future__ import annotations

import dataclasses
from typing import Any, List, NamedTuple, Tuple

from lsgan_tf.registry import MODELS

IMAGES = "images"
POINTS = "points"


class GanModels(NamedTuple):
    """A generator, its discriminator (``keras.Model`` both), and the generator's output range.

    ``output_activation`` is ``tanh`` (samples in [-1, 1]), ``sigmoid`` ([0, 1]) or ``linear``
    (2-D points, no image range); ``conditional`` says whether both take a ``label`` input.
    """
    generator: Any
    discriminator: Any
    output_activation: str
    conditional: bool


class WeightLayer(NamedTuple):
    """One layer's weights as a model states them for ``lsgan_tf.memory_estimate``: kernel and
    one bias or batch-norm offset per unit (a lower estimate of what Keras builds), the
    ``model.*`` settings its size grows with, and whether G owns it."""
    weights: int
    keys: Tuple[str, ...]
    generator: bool


def weight_layer(fan_in: int, units: int, generator: bool, *keys: str) -> WeightLayer:
    """A dense or convolution layer: fan_in x units kernel weights + units; ``keys`` are
    ``model.`` fields (``"g_width"``)."""
    return WeightLayer(fan_in * units + units, tuple(f"model.{key}" for key in keys), generator)


@dataclasses.dataclass(frozen=True)
class ModelSupport:
    """The configurations a registered model builds, stated with ``@MODELS.register(name,
    supports=ModelSupport(...))``.

    Attributes:
      outputs: ``images`` or ``points`` (2-D samples such as ``mog8``).
      image_sizes: the ``model.image_size`` values it builds (empty: any positive multiple of
        ``size_multiple``).
      size_multiple: see ``image_sizes``.
      channels: the ``model.channels`` values it builds.
      conditional: True: it takes labels and needs ``model.num_classes >= 1``; False: it
        ignores labels and ``model.num_classes`` must be 0.
    """
    outputs: str = IMAGES
    image_sizes: Tuple[int, ...] = ()
    size_multiple: int = 1
    channels: Tuple[int, ...] = (1, 3)
    conditional: bool = False

    def problems(self, name: str, model) -> List[Tuple[str, Any, str]]:
        """(key, value, what is allowed) for each field of ``model`` this model cannot build."""
        found = []
        if self.outputs == IMAGES:
            if self.image_sizes and model.image_size not in self.image_sizes:
                allowed = ", ".join(str(s) for s in self.image_sizes)
                found.append(("model.image_size", model.image_size,
                              f"the {name} model builds {allowed}"))
            elif model.image_size < 1 or model.image_size % self.size_multiple:
                found.append(("model.image_size", model.image_size,
                              f"the {name} model builds positive multiples of "
                              f"{self.size_multiple}"))
            if model.channels not in self.channels:
                allowed = " or ".join(str(c) for c in self.channels)
                found.append(("model.channels", model.channels,
                              f"the {name} model builds {allowed} channels"))
        if self.conditional and model.num_classes < 1:
            found.append(("model.num_classes", model.num_classes,
                          f"the {name} model is conditional and needs at least 1 class"))
        if not self.conditional and model.num_classes != 0:
            found.append(("model.num_classes", model.num_classes,
                          f"the {name} model is unconditional: use 0, or a conditional "
                          f"model ({', '.join(conditional_models())})"))
        return found


def conditional_models() -> List[str]:
    """Registered models that state ``conditional=True``."""
    return [name for name in MODELS.names()
            if getattr(MODELS.info(name).get("supports"), "conditional", False)]


def build_models(config) -> GanModels:
    """Builds the models of a ``ModelConfig`` from the registry entry ``config.type``."""
    return MODELS.get(config.type)(config)
