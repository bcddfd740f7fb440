"""SIGTERM (what Kubernetes and preemptible VMs send) during ``lsgan train``: a checkpoint at the
current step, one line, exit code 143; the same command resumes from exactly that step and ends
with the weights of a run that was never interrupted (bit for bit: the data order and the noise
are functions of (seed, step))."""
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf.training import EXIT_PREEMPTED

from helpers import TINY_MODEL, as_flags

CLI = [sys.executable, "-m", "pipeline.cli"]
STEPS = 400
SETTINGS = [*TINY_MODEL, "train.batch_size=8", "train.log_every=1", "train.sample_every=1000",
            "train.checkpoint_every=1000"]
STATE = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/", "step/")


class Run:
    """One ``lsgan ARGS`` process (or ``command ARGS``), its output in files (no pipe to
    fill), without the test session's TF_CPP_MIN_LOG_LEVEL and TF_CONFIG (``env`` adds)."""

    def __init__(self, args, log_dir, name, env=None, command=tuple(CLI)):
        self.stdout_path = os.path.join(log_dir, f"{name}.out")
        self.stderr_path = os.path.join(log_dir, f"{name}.err")
        child_env = {k: v for k, v in os.environ.items()
                     if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_CONFIG")}
        child_env.update(env or {})
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.process = subprocess.Popen([*command, *args], stdout=out, stderr=err,
                                            env=child_env)

    def stdout(self):
        with open(self.stdout_path) as handle:
            return handle.read()

    def stderr(self):
        with open(self.stderr_path) as handle:
            return handle.read()

    def wait_for_step(self, at_least, timeout=300.0):
        """Waits for a progress line ``step K/...`` with K >= at_least; returns K."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            steps = [int(k) for k in re.findall(r"step (\d+)/\d+", self.stdout())]
            if steps and steps[-1] >= at_least:
                return steps[-1]
            assert self.process.poll() is None, f"exited early:\n{self.stderr()[-3000:]}"
            time.sleep(0.05)
        raise AssertionError(f"no step {at_least} within {timeout}s:\n{self.stdout()[-2000:]}")

    def wait(self, timeout=600):
        return self.process.wait(timeout=timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def train_args(out, steps, extra=()):
    return ["train", "--preset=digits", f"--out={out}", f"--steps={steps}",
            *as_flags(SETTINGS), *extra]


def checkpoint_state(checkpoints):
    reader = tf.train.load_checkpoint(checkpoints)
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(STATE)}


@pytest.mark.slow
def test_sigterm_saves_the_current_step_and_the_rerun_ends_bit_identical(tmp_path):
    stopped, whole = tmp_path / "stopped", tmp_path / "whole"
    runs = []
    try:
        runs.append(Run(train_args(whole, STEPS), tmp_path, "whole"))
        interrupted = Run(train_args(stopped, STEPS), tmp_path, "stopped")
        runs.append(interrupted)
        seen = interrupted.wait_for_step(3)
        interrupted.process.send_signal(signal.SIGTERM)
        assert interrupted.wait(timeout=120) == EXIT_PREEMPTED == 143
        line = [text for text in interrupted.stderr().splitlines() if "preempted" in text]
        match = re.fullmatch(r"lsgan train: preempted \(SIGTERM\) at step (\d+): checkpoint "
                             r"saved to (\S+); run the same command again to resume from step "
                             r"\1", line[0] if line else "")
        assert match, interrupted.stderr()[-3000:]
        step = int(match.group(1))
        assert seen <= step < STEPS
        assert match.group(2) == str(stopped / "checkpoints" / f"ckpt-{step}")
        assert tf.train.latest_checkpoint(str(stopped / "checkpoints")) == match.group(2)
        assert int(checkpoint_state(match.group(2))["step/.ATTRIBUTES/VARIABLE_VALUE"]) == step
        assert not (stopped / "saved_model").exists()

        resumed = Run(train_args(stopped, STEPS), tmp_path, "resumed")
        runs.append(resumed)
        assert resumed.wait() == 0, resumed.stderr()[-3000:]
        assert f"at step {step}\n" in resumed.stdout()
        first_step = re.search(r"step (\d+)/", resumed.stdout())
        assert int(first_step.group(1)) == step + 1
        assert runs[0].wait() == 0, runs[0].stderr()[-3000:]
    finally:
        for run in runs:
            run.kill()
    resumed_state = checkpoint_state(str(stopped / "checkpoints"))
    whole_state = checkpoint_state(str(whole / "checkpoints"))
    assert resumed_state.keys() == whole_state.keys() and len(whole_state) > 10
    for key, value in whole_state.items():
        np.testing.assert_array_equal(resumed_state[key], value, err_msg=key)
    assert int(whole_state["step/.ATTRIBUTES/VARIABLE_VALUE"]) == STEPS
