"""The TFX Trainer module: ``run_fn`` trains the resolved config on the Examples artifact.

``fn_args.custom_config["config"]`` is the JSON of the resolved ``ExperimentConfig``
(``lsgan_tf.config.resolve``, done by ``lsgan run`` / ``lsgan compile`` before the pipeline is
built) without its ``eval`` part, which goes to the GanEvaluator, except, with ``eval.every``
> 0, the in-training selection keys (``SELECTION_KEYS``, and ``eval.inception_path`` when the
selection uses ``inception``); the other ``eval`` keys reach the Trainer as their defaults.
So the Trainer's cache key changes exactly when a value that training reads changes, and
re-scoring never retrains. The data is the Examples artifact whose ``Split-train`` shards are
``fn_args.train_files``: ``data.source`` becomes ``tfrecord`` and ``data.path`` its root.
``fn_args.train_steps`` (``TrainArgs``), when set, replaces ``train.steps``. Checkpoints,
TensorBoard logs, samples and ``config.json`` go to ``fn_args.model_run_dir``; the generator
SavedModel to ``fn_args.serving_model_dir``: with ``eval.every`` > 0 the best generator (so
the evaluator scores and blesses the best one), the last one then in
``model_run_dir/saved_model_last`` and the scores in ``model_run_dir/best.json``. The
training itself is ``lsgan_tf.training.train``, the same loop as ``lsgan train``.

Under a ``TF_CONFIG`` (a Kubeflow or Vertex training job with several replicas, and
``train.strategy=multi_worker``) every replica runs ``run_fn``; only the chief writes those
folders (``training.train``). SIGTERM saves a checkpoint in ``model_run_dir`` and exits with
``training.EXIT_PREEMPTED`` (143); a lost peer (``lsgan_tf.peers.PeerLost``) is one line naming
it and the chief's last checkpoint, and exit status ``peers.EXIT_PEER_LOST`` (1): the job's
retry resumes from that checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Any, Dict, List

from lsgan_tf import config as config_lib
from lsgan_tf.peers import EXIT_PEER_LOST, PeerLost
from lsgan_tf.training import EXIT_PREEMPTED, Preempted, train

CONFIG_KEY = "config"
# What training reads of ``eval`` (``lsgan_tf.best_checkpoint``), when ``eval.every`` > 0.
SELECTION_KEYS = ("every", "select", "select_samples", "select_extractor")


def examples_root(train_files: List[str]) -> str:
    """``<root>`` of the Examples artifact from TFX's pattern ``<root>/Split-train/*``."""
    if not train_files:
        raise ValueError("the Trainer got no train files: is the Examples artifact empty?")
    split_dir = os.path.dirname(train_files[0])
    if not os.path.basename(split_dir).startswith("Split-"):
        raise ValueError(f"expected <root>/Split-train/* as train files, got {train_files[0]!r}")
    return os.path.dirname(split_dir)


def trainer_custom_config(config: config_lib.ExperimentConfig) -> Dict[str, Any]:
    """What the pipeline gives the Trainer: the resolved config as JSON, less ``eval`` but for
    the selection keys that training reads when ``eval.every`` > 0."""
    values = config_lib.to_dict(config)
    evaluation = values.pop("eval")
    if config.eval.every:
        keys = SELECTION_KEYS + (("inception_path",)
                                 if config.eval.select_extractor == "inception" else ())
        values["eval"] = {key: evaluation[key] for key in keys}
    return {CONFIG_KEY: json.dumps(values, indent=2, sort_keys=True)}


def experiment_config(custom_config: Dict[str, Any], data_root: str,
                      train_steps: int = 0) -> config_lib.ExperimentConfig:
    """The pipeline's resolved config, reading the Examples at ``data_root``."""
    if not custom_config or CONFIG_KEY not in custom_config:
        raise ValueError("custom_config must hold the resolved config as JSON under 'config' "
                         "(components.trainer.module.trainer_custom_config)")
    config = config_lib.from_json(custom_config[CONFIG_KEY])
    config = dataclasses.replace(config, data=dataclasses.replace(
        config.data, source="tfrecord", path=data_root))
    if train_steps:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train,
                                                                       steps=train_steps))
    return config_lib.validate(config, needs_data_path=True)


# TFX Trainer will call this function.
def run_fn(fn_args) -> None:
    """Trains and exports the generator (the best one with ``eval.every`` > 0) to
    ``fn_args.serving_model_dir``."""
    config = experiment_config(fn_args.custom_config, examples_root(fn_args.train_files),
                               fn_args.train_steps or 0)
    try:
        result = train(config, fn_args.model_run_dir, export_dir=fn_args.serving_model_dir)
    except Preempted as stop:
        print(f"[lsgan] Trainer: {stop}", file=sys.stderr, flush=True)
        sys.exit(EXIT_PREEMPTED)
    except PeerLost as lost:
        print(f"[lsgan] Trainer: {lost}", file=sys.stderr, flush=True)
        sys.exit(EXIT_PEER_LOST)
    if result.chief:
        best = "" if result.best_step is None else (
            f" (the best, {config.eval.select} {result.best_score:.4g} at step "
            f"{result.best_step}; the last is in {result.saved_model_last})")
        print(f"[lsgan] Trainer: generator exported to {result.saved_model}{best}", flush=True)
