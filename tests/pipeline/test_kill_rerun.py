"""Kill ``lsgan run`` during the Trainer, run it again on the same root (issue 13): the second
run finishes, the ExampleGen's output is reused from the cache, and ML Metadata keeps the killed
Trainer execution beside the new one. While the first run lives, a second ``lsgan run`` on the
root is refused at once (``pipeline.local_root``)."""
import glob
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import TINY_MODEL, as_flags
from pipeline_helpers import executions

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SETTINGS = as_flags(TINY_MODEL + ["train.steps=600", "train.batch_size=16", "train.log_every=50",
                                  "train.checkpoint_every=100"]) + [
    "--num_samples=300", "--thresholds=fd<=1e9"]


def start_run(root):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", "--preset=digits",
                             f"--root={root}", *SETTINGS], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_for_training(root, process, seconds=600):
    """Returns once the Trainer has written a checkpoint (it is mid-training)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if glob.glob(os.path.join(root, "pipeline", "Trainer", "**", "ckpt-*.index"),
                     recursive=True):
            return
        assert process.poll() is None, process.stdout.read()[-3000:]
        time.sleep(0.2)
    raise AssertionError("the Trainer wrote no checkpoint in time")


@pytest.mark.slow
def test_killed_during_the_trainer_then_rerun_finishes_reusing_the_example_gen(tmp_path):
    root = str(tmp_path / "root")
    first = start_run(root)
    try:
        wait_for_training(root, first)
        refused = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--preset=digits",
                                  f"--root={root}"], cwd=REPO, capture_output=True, text=True,
                                 timeout=120)
        assert refused.returncode == 2
        assert f"another `lsgan run` is using --root={root} (pid {first.pid}" in refused.stderr
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.stdout.close()
    killed = executions(root)
    assert killed["LsganExampleGen"] == ["COMPLETE"]
    assert killed["Trainer"] == ["RUNNING"] and "Pusher" not in killed

    second = start_run(root)
    try:
        output, _ = second.communicate(timeout=900)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
    assert second.returncode == 0, output[-3000:]
    assert "blessed" in output
    states = executions(root)
    assert states["LsganExampleGen"] == ["COMPLETE", "CACHED"]
    assert states["Trainer"] == ["RUNNING", "COMPLETE"]
    assert states["GanEvaluator"] == ["COMPLETE"] and states["Pusher"] == ["COMPLETE"]
    assert len(os.listdir(os.path.join(root, "serving", "lsgan_digits"))) == 1
