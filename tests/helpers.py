"""Tiny settings shared by every test that trains, exports or runs a model: one list of
small-model overrides (``TINY_MODEL``), so a model's test size changes in one place.

``tests/`` is on ``sys.path`` (``tests/conftest.py``), so any test imports this as ``helpers``.
"""
from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset

# Small widths for every built-in model (a key a model does not read is ignored by it).
TINY_MODEL = ["model.g_width=8", "model.d_width=8", "model.d_dense=16", "model.phi_dim=4",
              "model.noise.dim=8", "model.hidden=16"]
# A pipeline run on digits in a minute: a few steps, a small evaluation, a lenient tolerance.
TINY_PIPELINE = TINY_MODEL + ["train.steps=4", "train.batch_size=16", "train.log_every=2",
                              "eval.num_samples=300", "eval.tolerance=10"]


def as_flags(sets):
    """``["a=1"]`` -> ``["--set=a=1"]``: overrides as ``lsgan`` command-line flags."""
    return [f"--set={item}" for item in sets]


def imported_modules(stderr: str) -> set:
    """The modules a ``python -X importtime`` run imported, read from its stderr."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def tiny_digits(steps=4, **overrides):
    """The digits preset with ``TINY_MODEL``, a small batch and one step per call (tests that
    follow single steps), for fast training tests."""
    sets = [*TINY_MODEL, f"train.steps={steps}", "train.batch_size=8", "train.log_every=2",
            "train.sample_every=1000", "train.checkpoint_every=2", "train.steps_per_loop=1"]
    sets += [f"{k}={v}" for k, v in overrides.items()]
    return config_lib.apply_overrides(get_preset("digits"), sets)


def tiny_sets(model_type):
    """Overrides that make ``model_type`` the digits preset's model at the smallest
    configuration its ``ModelSupport`` states it builds, with ``TINY_MODEL`` widths: the
    first listed image size (else the smallest multiple of ``size_multiple`` >= 16), the first
    listed channel count, 3 classes when conditional (else 0), and ``data.source=tfrecord``
    (no data checks: the caller feeds its own batches)."""
    from lsgan_tf.models.common import POINTS, ModelSupport
    from lsgan_tf.registry import MODELS

    support = MODELS.info(model_type).get("supports") or ModelSupport()
    if support.outputs == POINTS:
        size, channels = 0, 0
    else:
        multiple = support.size_multiple
        size = support.image_sizes[0] if support.image_sizes else multiple * -(-16 // multiple)
        channels = support.channels[0]
    return [*TINY_MODEL, f"model.type={model_type}", f"model.image_size={size}",
            f"model.channels={channels}", f"model.num_classes={3 if support.conditional else 0}",
            "data.source=tfrecord"]


def synthetic_batch(config, size=4):
    """A training batch of ``size`` rows for ``config``'s model, from seed 0: ``real`` in
    [-1, 1] (points [size, 2] for ``mog_mlp``, else images), labels below ``num_classes``, and
    ``z_d``, ``z_g`` in [-1, 1]."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    m = config.model
    shape = (size, 2) if m.type == "mog_mlp" else (size, m.image_size, m.image_size, m.channels)
    return {"real": tf.constant(rng.uniform(-1, 1, shape), tf.float32),
            "label": tf.constant(rng.integers(0, max(1, m.num_classes), size), tf.int64),
            "z_d": tf.constant(rng.uniform(-1, 1, (size, m.noise.dim)), tf.float32),
            "z_g": tf.constant(rng.uniform(-1, 1, (size, m.noise.dim)), tf.float32)}
