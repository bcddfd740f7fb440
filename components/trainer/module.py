"""The TFX Trainer module: ``run_fn`` trains an ``lsgan_tf`` preset on the Examples artifact.

``fn_args.custom_config`` keys:
  ``preset``     preset name (``lsgan_tf.presets``), required;
  ``overrides``  list of ``a.b=value`` strings applied after the preset (``--set`` syntax);
  ``strategy``   ``train.strategy`` (default, one_device, mirrored, multi_worker, tpu).
``fn_args.train_steps`` (TrainArgs.num_steps), when set, becomes ``train.steps``. The data is
the Examples artifact whose ``Split-train`` shards are ``fn_args.train_files``. Checkpoints,
TensorBoard logs and sample grids go to ``fn_args.model_run_dir``; the generator SavedModel to
``fn_args.serving_model_dir``. The training itself is ``lsgan_tf.training.train``, the same
loop as ``lsgan train``.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List

from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset
from lsgan_tf.training import train


def examples_root(train_files: List[str]) -> str:
    """``<root>`` of the Examples artifact from TFX's pattern ``<root>/Split-train/*``."""
    if not train_files:
        raise ValueError("the Trainer got no train files: is the Examples artifact empty?")
    split_dir = os.path.dirname(train_files[0])
    if not os.path.basename(split_dir).startswith("Split-"):
        raise ValueError(f"expected <root>/Split-train/* as train files, got {train_files[0]!r}")
    return os.path.dirname(split_dir)


def experiment_config(custom_config: Dict[str, Any], data_root: str,
                      train_steps: int = 0) -> config_lib.ExperimentConfig:
    """Preset, data, steps, strategy, then overrides, from the Trainer's arguments."""
    if not custom_config or "preset" not in custom_config:
        raise ValueError("custom_config must name a 'preset' (e.g. {'preset': 'digits'})")
    config = get_preset(custom_config["preset"])
    data = config.data if config.data.source == "mog8" else dataclasses.replace(
        config.data, source="tfrecord", path=data_root)
    sets = []
    if train_steps:
        sets.append(f"train.steps={train_steps}")
    if custom_config.get("strategy"):
        sets.append(f"train.strategy={custom_config['strategy']}")
    config = dataclasses.replace(config, data=data)
    return config_lib.apply_overrides(config, sets + list(custom_config.get("overrides", [])))


# TFX Trainer will call this function.
def run_fn(fn_args) -> None:
    """Trains and exports the generator to ``fn_args.serving_model_dir``."""
    config = experiment_config(fn_args.custom_config, examples_root(fn_args.train_files),
                               fn_args.train_steps or 0)
    result = train(config, fn_args.model_run_dir, export_dir=fn_args.serving_model_dir)
    print(f"[lsgan] Trainer: generator exported to {result.saved_model}", flush=True)
