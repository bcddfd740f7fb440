"""The TFX Trainer module: run_fn on an Examples-like folder, under MirroredStrategy; with
``eval.every`` the selection keys reach it and it serves the best generator."""
import json
import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from components.trainer.module import (examples_root, experiment_config, run_fn,
                                       trainer_custom_config)
from lsgan_tf import data as data_lib
from lsgan_tf.config import ConfigError, EvalConfig, resolve
from helpers import TINY_MODEL
from prepared import write_prepared

TINY = [*TINY_MODEL, "train.batch_size=8", "train.log_every=1", "train.checkpoint_every=2"]


def test_examples_root_and_config(tmp_path):
    assert examples_root([str(tmp_path / "Split-train" / "*")]) == str(tmp_path)
    with pytest.raises(ValueError, match="Split-train"):
        examples_root([str(tmp_path / "x" / "*")])
    resolved = resolve("digits", overrides=["optim.lr_d=0.001", "train.strategy=mirrored"])
    config = experiment_config(trainer_custom_config(resolved), str(tmp_path), train_steps=7)
    assert (config.train.steps, config.train.strategy, config.optim.lr_d) == (7, "mirrored", 0.001)
    assert (config.data.source, config.data.path) == ("tfrecord", str(tmp_path))
    assert config.model == resolved.model and config.optim == resolved.optim
    with pytest.raises(ValueError, match="resolved config as JSON under 'config'"):
        experiment_config({"preset": "digits"}, str(tmp_path))
    bad = trainer_custom_config(resolved)["config"].replace('"batch_size": 64', '"batch_size": 0')
    with pytest.raises(ConfigError, match="train.batch_size=0"):
        experiment_config({"config": bad}, str(tmp_path))


def test_run_fn_mirrored_over_two_cpus(tmp_path):
    images, labels = data_lib.load_split("digits", "eval")
    root = write_prepared(str(tmp_path / "examples"), images[:64], labels[:64],
                          [str(d) for d in range(10)])
    fn_args = FnArgs(
        train_files=[os.path.join(root, "Split-train", "*")],
        eval_files=[os.path.join(root, "Split-eval", "*")],
        serving_model_dir=str(tmp_path / "serving"), model_run_dir=str(tmp_path / "run"),
        train_steps=2, custom_config=trainer_custom_config(
            resolve("digits", overrides=TINY + ["train.strategy=mirrored"])))
    run_fn(fn_args)
    loaded = tf.saved_model.load(fn_args.serving_model_dir)
    out = loaded.signatures["generate"](n=tf.constant(2), seed=tf.constant(0, tf.int64),
                                        label=tf.constant(1, tf.int64))
    assert out["images"].shape == (2, 28, 28, 1)
    config = open(os.path.join(fn_args.model_run_dir, "config.json")).read()
    assert '"strategy": "mirrored"' in config
    assert tf.train.latest_checkpoint(os.path.join(fn_args.model_run_dir, "checkpoints"))
    assert os.listdir(os.path.join(fn_args.model_run_dir, "logs"))


def test_the_selection_keys_reach_the_trainer_and_no_other_eval_key(tmp_path):
    selecting = resolve("digits", overrides=["eval.every=50", "eval.select=kid",
                                             "eval.select_samples=300", "eval.num_samples=77"])
    config = experiment_config(trainer_custom_config(selecting), str(tmp_path))
    assert (config.eval.every, config.eval.select, config.eval.select_samples,
            config.eval.select_extractor) == (50, "kid", 300, "auto")
    assert config.eval.num_samples == EvalConfig().num_samples  # the evaluator's, not here
    off = trainer_custom_config(resolve("digits", overrides=["eval.select=kid"]))
    assert '"eval"' not in off["config"]  # eval.every=0: training reads no eval key


def test_run_fn_serves_the_best_generator(tmp_path, monkeypatch):
    from lsgan_tf import best_checkpoint
    from lsgan_tf.models import build_models

    class Scripted:  # fd 1 at step 2, 2 at step 4: the best is step 2's
        def __init__(self, config, stream):
            del config, stream

        def bind(self, output_activation):
            return lambda generator, step: {2: 1.0, 4: 2.0}[step]

    monkeypatch.setattr(best_checkpoint, "SelectionScorer", Scripted)
    images, labels = data_lib.load_split("digits", "eval")
    root = write_prepared(str(tmp_path / "examples"), images[:64], labels[:64],
                          [str(d) for d in range(10)])
    resolved = resolve("digits", overrides=TINY + ["eval.every=2", "optim.lr_g=0.05"])
    fn_args = FnArgs(
        train_files=[os.path.join(root, "Split-train", "*")],
        eval_files=[os.path.join(root, "Split-eval", "*")],
        serving_model_dir=str(tmp_path / "serving"), model_run_dir=str(tmp_path / "run"),
        train_steps=4, custom_config=trainer_custom_config(resolved))
    run_fn(fn_args)
    z = tf.random.stateless_uniform([8, resolved.model.noise.dim], seed=[1, 2], minval=-1.0,
                                    maxval=1.0)
    label = tf.constant(np.arange(8), tf.int64)

    def served(path):
        signature = tf.saved_model.load(path).signatures["serving_default"]
        return signature(z=z, label=label)["images"].numpy().astype(np.int32)

    generator = build_models(resolved.model).generator
    tf.train.Checkpoint(generator=generator).restore(
        os.path.join(fn_args.model_run_dir, "checkpoints", "best", "ckpt-2")).expect_partial()
    step_2 = np.clip(np.round(generator([z, label], training=False).numpy() * 255), 0, 255)
    assert np.abs(served(fn_args.serving_model_dir) - step_2).max() <= 1
    last = served(os.path.join(fn_args.model_run_dir, "saved_model_last"))
    assert np.abs(served(fn_args.serving_model_dir) - last).max() >= 8
    best = json.load(open(os.path.join(fn_args.model_run_dir, "best.json")))
    assert best["best"]["step"] == 2 and best["history"] == [[2, 1.0], [4, 2.0]]
