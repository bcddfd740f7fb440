"""A lower estimate of the memory a run needs, against this machine's (``check_memory``).

``memory_parts`` counts what a run surely holds at once (the variables with the optimiser's
slots, one batch, the shuffle buffer's slots, the evaluator's samples); the weights come from
the model's own statement (``model_layers``: each built-in model registers a ``weights``
function, checked against Keras' count by tests/lsgan_tf/test_config_bounds.py). Activations
and TensorFlow's own memory come on top, so a run refused here surely does not fit; one that
passes may still not. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, NamedTuple, Optional

from lsgan_tf.dotted import flatten
from lsgan_tf.errors import ConfigError
from lsgan_tf.models.common import WeightLayer

if TYPE_CHECKING:
    from lsgan_tf.config import ExperimentConfig

GIB = 2 ** 30
# TensorFlow 2.16's shuffle dataset allocates one std::vector<Tensor> (24 bytes) per slot of
# its buffer when it starts, whatever the data (measured: 3 x 10^7 slots, 0.7 GB).
SHUFFLE_SLOT_BYTES = 24
# Variables per weight in a checkpoint: the weight and the optimiser's slots (Adam's two
# moments, RMSProp's one average).
OPTIMIZER_SLOTS = {"adam": 2, "rmsprop": 1}


def model_layers(model) -> List[WeightLayer]:
    """The weights a ``ModelConfig``'s model states (``@MODELS.register(..., weights=...)``,
    ``lsgan_tf.models.common.WeightLayer``); none for a plugin model that states none."""
    from lsgan_tf.registry import MODELS

    estimate = MODELS.info(model.type).get("weights")
    return estimate(model) if estimate else []


def parameter_count(model) -> int:
    """Weights of G and D for a ``ModelConfig`` (``model_layers``)."""
    return sum(layer.weights for layer in model_layers(model))


class MemoryPart(NamedTuple):
    bytes: int
    keys: str  # "key=value, ..." of the settings it grows with
    what: str


def memory_parts(config: ExperimentConfig) -> List[List[MemoryPart]]:
    """A lower estimate of the host memory a run holds at once, by phase (training, the
    evaluator), each a list of parts:

      * the variables, all in host memory while a checkpoint is written: every weight
        (``model_layers``) with the optimiser's slots, and G's moving average with
        ``train.ema_decay`` (float32, 4 bytes);
      * the global batch as the input pipeline makes it (every worker makes it whole, then
        keeps its rows): float32 images (or 2-D points) and the two float32 noise arrays;
      * the shuffle buffer's slots (``SHUFFLE_SLOT_BYTES``);
      * the evaluator: ``eval.num_samples`` generated and as many real samples (uint8).

    Activations, TensorFlow's own memory and the data's records come on top."""
    m, train = config.model, config.train
    layers = model_layers(m)
    weights = sum(layer.weights for layer in layers)
    g_weights = sum(layer.weights for layer in layers if layer.generator)
    variables = 4 * (weights * (1 + OPTIMIZER_SLOTS.get(config.optim.optimizer, 2))
                     + (g_weights if train.ema_decay else 0))
    flat = flatten(config)
    largest = max(layers, key=lambda layer: layer.weights, default=None)
    model_keys = ", ".join(f"{key}={flat[key]}" for key in (largest.keys if largest else ()))
    pixels = m.image_size ** 2 * m.channels if m.image_size and m.channels else 2
    training = [
        MemoryPart(variables, model_keys, f"{weights:.3g} weights with their optimizer "
                   "slots"),
        MemoryPart(train.batch_size * (4 * pixels + 8 * m.noise.dim),
                   f"train.batch_size={train.batch_size}", "one batch of samples and noise"),
        MemoryPart(SHUFFLE_SLOT_BYTES * config.data.shuffle_buffer,
                   f"data.shuffle_buffer={config.data.shuffle_buffer}",
                   "the shuffle buffer's slots")]
    evaluation = [MemoryPart(2 * config.eval.num_samples * pixels,
                             f"eval.num_samples={config.eval.num_samples}",
                             "generated and real samples to score")]
    return [training, evaluation]


def machine_memory() -> Optional[int]:
    """Bytes of memory this machine has (physical memory, or a lower cgroup limit on this
    process's container); None when unknown."""
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None
    for limit_file in ("/sys/fs/cgroup/memory.max",
                       "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(limit_file) as handle:  # a kernel file, not an artifact
                text = handle.read().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total if total > 0 else None


def check_memory(config: ExperimentConfig) -> None:
    """Refuses a run whose lower memory estimate (``memory_parts``) exceeds
    ``machine_memory()``, naming the settings of its largest part."""
    have = machine_memory()
    if have is None:
        return
    for parts in memory_parts(config):
        need = sum(part.bytes for part in parts)
        if need > have:
            part = max(parts, key=lambda p: p.bytes)
            raise ConfigError(f"{part.keys}: the run needs at least {need / GIB:.1f} GiB of "
                              f"memory ({part.what}: {part.bytes / GIB:.1f} GiB), this "
                              f"machine has {have / GIB:.1f} GiB")
