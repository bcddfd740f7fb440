"""The TFX Trainer module: run_fn on an Examples-like folder, under MirroredStrategy."""
import os

import pytest
import tensorflow as tf
from tfx.components.trainer.fn_args_utils import FnArgs

from components.trainer.module import (examples_root, experiment_config, run_fn,
                                       trainer_custom_config)
from lsgan_tf import data as data_lib
from lsgan_tf.config import ConfigError, resolve
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
