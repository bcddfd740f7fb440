"""``train.precision``: which floating-point type the networks compute in.

``float32``; ``bfloat16`` or ``float16`` (Keras' ``mixed_bfloat16`` / ``mixed_float16``
policies: layers compute in the 16-bit type, variables, batch-norm statistics, the EMA copy
and the optimisers' state stay float32; the generator's output layer and the discriminator's
score layer compute in float32, so the losses are float32; ``float16`` adds dynamic loss
scaling, ``keras.optimizers.LossScaleOptimizer``); or ``auto``, which picks per machine
(``resolve``):
  bfloat16 on TPUs and on CPUs with AVX512_BF16 or AMX (their matrix units run bfloat16),
  float16 on GPUs of compute capability 7.0 or more (tensor cores),
  float32 otherwise.
Checkpoints hold float32 variables in every precision, so a run may resume in another one.
"""
from __future__ import annotations

import contextlib
from typing import Iterator, Optional, Sequence

FLOAT32, BFLOAT16, FLOAT16, AUTO = "float32", "bfloat16", "float16", "auto"
PRECISIONS = (AUTO, FLOAT32, BFLOAT16, FLOAT16)
KERAS_POLICIES = {FLOAT32: "float32", BFLOAT16: "mixed_bfloat16", FLOAT16: "mixed_float16"}
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
MIN_FLOAT16_CAPABILITY = (7, 0)


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> Sequence[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; none where it cannot be read)."""
    try:
        with open(cpuinfo) as handle:  # a local system file, never an artifact path
            for line in handle:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].split()
    except OSError:
        pass
    return ()


def choose(strategy_name: str, gpu_capability: Optional[tuple], flags: Sequence[str]) -> str:
    """``auto``'s rule on a description of the machine: the strategy's name, the first GPU's
    compute capability (``None`` without a GPU) and the CPU flags."""
    if strategy_name == "tpu":
        return BFLOAT16
    if gpu_capability is not None:
        return FLOAT16 if tuple(gpu_capability) >= MIN_FLOAT16_CAPABILITY else FLOAT32
    return BFLOAT16 if any(flag in flags for flag in CPU_BF16_FLAGS) else FLOAT32


def resolve(precision: str, strategy_name: str = "default") -> str:
    """``float32``, ``bfloat16`` or ``float16``: ``precision`` itself, or ``auto``'s pick for
    this machine."""
    if precision != AUTO:
        return precision
    import tensorflow as tf

    capability = None
    gpus = tf.config.list_physical_devices("GPU")
    if gpus and strategy_name != "tpu":
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = details.get("compute_capability", (0, 0))
    return choose(strategy_name, capability, cpu_flags())


@contextlib.contextmanager
def keras_policy(precision: str) -> Iterator[None]:
    """Keras' global dtype policy for ``precision`` (resolved) while the models are built, the
    previous policy afterwards."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(KERAS_POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
