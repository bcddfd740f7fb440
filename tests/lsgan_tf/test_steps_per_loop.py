# bazel: size=medium, timeout=long
"""train.steps_per_loop: K steps per tf.function call give the weights of K = 1, bit for bit,
and a call never crosses a log, sample or checkpoint boundary."""
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from helpers import TINY_MODEL, as_flags

from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset
from lsgan_tf.training import steps_in_call

STATE = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/", "step/")


def train_cfg(**values):
    sets = [f"train.{k}={v}" for k, v in values.items()]
    return config_lib.apply_overrides(get_preset("digits"), sets).train


@pytest.mark.parametrize("step, values, expected", [
    (0, dict(steps_per_loop=10, log_every=100, sample_every=500, checkpoint_every=500), 10),
    (95, dict(steps_per_loop=10, log_every=100, sample_every=500, checkpoint_every=500), 5),
    (100, dict(steps_per_loop=10, log_every=100, sample_every=500, checkpoint_every=500), 10),
    (0, dict(steps_per_loop=1000, log_every=300, sample_every=200, checkpoint_every=500), 200),
    (200, dict(steps_per_loop=1000, log_every=300, sample_every=200, checkpoint_every=500), 100),
    (1990, dict(steps_per_loop=100, log_every=7, sample_every=2000, checkpoint_every=2000,
                steps=1995), 5),
    (5, dict(steps_per_loop=1, log_every=100, sample_every=500, checkpoint_every=500), 1),
])
def test_a_call_stops_at_the_next_boundary(step, values, expected):
    assert steps_in_call(step, train_cfg(**values)) == expected


def test_bad_steps_per_loop_is_a_one_line_refusal():
    with pytest.raises(config_lib.ConfigError, match=r"^train.steps_per_loop=0: must be >= 1$"):
        config_lib.validate(config_lib.apply_overrides(get_preset("digits"),
                                                       ["train.steps_per_loop=0"]))


def run_train(out, steps_per_loop, log_dir):
    """``lsgan train`` in its own process (two trainings in one process need not match bit
    for bit); returns its checkpointed state."""
    sets = [*TINY_MODEL, "train.batch_size=8", "train.log_every=20", "train.sample_every=1000",
            "train.checkpoint_every=20", f"train.steps_per_loop={steps_per_loop}",
            "train.precision=float32"]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    with open(os.path.join(log_dir, f"k{steps_per_loop}.log"), "w") as log:
        done = subprocess.run([sys.executable, "-m", "pipeline.cli", "train", "--preset=digits",
                               f"--out={out}", "--steps=20", *as_flags(sets)],
                              stdout=log, stderr=subprocess.STDOUT, env=env, timeout=600)
    assert done.returncode == 0, open(log.name).read()[-3000:]
    reader = tf.train.load_checkpoint(os.path.join(out, "checkpoints"))
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(STATE)}


def test_ten_steps_per_call_give_the_weights_of_one(tmp_path):
    one = run_train(str(tmp_path / "k1"), 1, str(tmp_path))
    ten = run_train(str(tmp_path / "k10"), 10, str(tmp_path))
    assert one.keys() == ten.keys() and len(one) > 10
    assert int(one["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 20
    for key, value in one.items():
        np.testing.assert_array_equal(ten[key], value, err_msg=key)
