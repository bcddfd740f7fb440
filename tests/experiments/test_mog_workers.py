"""experiments.mog in its worker processes (``--workers 2``, each ``--one`` with 1 TensorFlow thread)
trains what ``lsgan_tf.training.train`` trains in another process, bit for bit (slow: four
processes start TensorFlow)."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from experiments import mog

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STATE = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/", "step/")
# lsgan_tf.training.train on the bench's own config, in a fresh process with one thread.
TRAIN = """
import sys
import tensorflow as tf
tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
from experiments import mog
from lsgan_tf.training import train
for scheme in sys.argv[2].split(","):
    train(mog.run_config(scheme, "ls", 0, 3, 3), f"{sys.argv[1]}/{scheme}")
"""


def checkpoint_state(folder):
    reader = tf.train.load_checkpoint(os.path.join(folder, "checkpoints"))
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(STATE)}


@pytest.mark.slow
def test_bench_workers_train_what_lsgan_train_trains(tmp_path):
    """3 steps through the bench's workers (``--one``, 1 thread) and through
    ``lsgan_tf.training.train`` (1 thread, another process) leave the same checkpoint, bit for
    bit: same initial weights, batches, noise and update, in both schemes."""
    schemes = "authors,ours"
    bench_out, train_out = tmp_path / "bench", tmp_path / "train"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    trained = subprocess.run([sys.executable, "-c", TRAIN, str(train_out), schemes], cwd=REPO,
                             env=env, capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stdout[-2000:] + trained.stderr[-3000:]
    mog.main(["--schemes", schemes, "--losses", "ls", "--seeds", "1", "--steps", "3",
              "--snapshot_every", "3", "--num_samples", "50", "--workers", "2",
              "--out", str(bench_out), "--figure_dir", str(tmp_path / "figs")])
    for scheme in schemes.split(","):
        ours = checkpoint_state(bench_out / scheme / "ls" / "seed_0")
        theirs = checkpoint_state(train_out / scheme)
        assert ours.keys() == theirs.keys() and len(ours) > 10
        assert int(ours["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 3
        for key, value in theirs.items():
            np.testing.assert_array_equal(ours[key], value, err_msg=f"{scheme} {key}")
        with open(bench_out / scheme / "ls" / "seed_0" / "config.json") as handle:
            bench_config = json.load(handle)
        with open(train_out / scheme / "config.json") as handle:
            assert json.load(handle) == bench_config
        assert bench_config["train"]["update"] == mog.SCHEMES[scheme][0]
        assert bench_config["train"]["g_noise"] == mog.SCHEMES[scheme][1]
