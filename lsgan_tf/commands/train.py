"""``lsgan train``: train a preset standalone (no TFX, no Beam) and export the generator.

  lsgan train --preset=digits --out=runs/digits [--data=DIR] [--steps=N] [--set k=v ...]

``--data`` points at a prepared directory (``lsgan prep`` output); without it the preset's own
data is used. Running again with the same ``--out`` resumes from the latest checkpoint.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time

from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "digits", "Experiment preset (lsgan_tf.presets).")
flags.DEFINE_multi_string("set", [], "Override a config field: --set optim.lr_d=1e-4.")
flags.DEFINE_string("data", None, "Prepared data directory (Split-train/, Split-eval/, labels.txt).")
flags.DEFINE_string("out", None, "Output directory of the run.")
flags.DEFINE_integer("steps", None, "Training steps (overrides train.steps).")
flags.mark_flag_as_required("out")


def build_config(preset: str, overrides, data=None, steps=None):
    """Preset, then ``--data`` and ``--steps``, then ``--set`` overrides, in that order."""
    from lsgan_tf import config as config_lib
    from lsgan_tf.presets import get_preset

    config = get_preset(preset)
    if data:
        config = dataclasses.replace(config, data=dataclasses.replace(
            config.data, source="tfrecord", path=os.path.abspath(data)))
    if steps is not None:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=steps))
    return config_lib.apply_overrides(config, overrides)


def print_summary(result, seconds: float) -> None:
    out = os.path.abspath(result.out_dir)
    print("\n[lsgan] training finished", flush=True)
    print(f"  steps         {result.step} in {seconds:.0f}s")
    print(f"  last losses   " + ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()))
    if result.samples:
        print(f"  sample grid   {os.path.abspath(result.samples)}")
    print(f"  saved model   {os.path.abspath(result.saved_model)}")
    print(f"  checkpoints   {os.path.abspath(result.checkpoints)}")
    print(f"  config        {os.path.join(out, 'config.json')}")
    print(f"  tensorboard   tensorboard --logdir {os.path.abspath(result.logs)}")


def main(argv) -> None:
    from lsgan_tf.config import ConfigError
    from lsgan_tf.data import DataError
    from lsgan_tf.training import TrainingDiverged, train

    if len(argv) > 1:
        sys.exit(f"lsgan train: unexpected arguments {argv[1:]}")
    try:
        config = build_config(FLAGS.preset, FLAGS.set, FLAGS.data, FLAGS.steps)
        start = time.time()
        result = train(config, FLAGS.out)
    except (ConfigError, DataError, KeyError, TrainingDiverged) as error:
        sys.exit(f"lsgan train: {error}")
    print_summary(result, time.time() - start)
