# bazel: size=large, tags=slow
"""The real-data smoke run (``make smoke-mnist``, called by CI): the real MNIST IDX files in
``$LSGAN_MNIST_DIR`` (default ``../shared/data/mnist``) through the whole standalone path:
``lsgan prep --source=idx`` (train = the 60,000 training images, eval = the 10,000 official
test images), ``lsgan train --preset=mnist`` for a few hundred steps with the best checkpoint
kept (``eval.every``) and exported, and FD with ``fid_inception`` (compare_gan protocol) on
a small sample. A missing data folder fails with one line naming it; it is never skipped.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.realdata
MNIST_DIR = os.environ.get("LSGAN_MNIST_DIR", os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "data", "mnist"))
STEPS, EVERY, SAMPLES = 200, 100, 300


def lsgan(*args):
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def mnist_dir():
    if not os.path.isfile(os.path.join(MNIST_DIR, "t10k-images-idx3-ubyte.gz")):
        pytest.fail(f"no MNIST IDX files in {os.path.abspath(MNIST_DIR)} (set LSGAN_MNIST_DIR "
                    "to the folder holding train-images-idx3-ubyte.gz and t10k-*)")
    return MNIST_DIR


@pytest.fixture(scope="module")
def run(mnist_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("mnist_smoke")
    prepared, out = root / "prepared", root / "run"
    lsgan("prep", "--source=idx", f"--input={mnist_dir}", f"--output={prepared}")
    console = lsgan("train", "--preset=mnist", f"--data={prepared}", f"--out={out}",
                    f"--steps={STEPS}", "--set", f"eval.every={EVERY}",
                    "--set", "eval.select_samples=500")
    return prepared, out, console


def test_prep_splits_are_the_official_ones(run):
    prepared, _, _ = run
    stats = json.loads((prepared / "stats.json").read_text())
    counts = json.dumps(stats)
    assert "60000" in counts and "10000" in counts, stats


def test_best_checkpoint_is_kept_and_exported(run):
    _, out, console = run
    best = json.loads((out / "best.json").read_text())
    steps = [step for step, _ in best["history"]]
    assert steps == list(range(EVERY, STEPS + 1, EVERY))
    scores = dict(best["history"])
    assert best["best"]["score"] == min(scores.values())
    assert scores[best["best"]["step"]] == best["best"]["score"]
    assert best["last"]["step"] == STEPS
    assert (out / "saved_model" / "saved_model.pb").exists()
    assert (out / "saved_model_last" / "saved_model.pb").exists()
    assert "eval step" in console


def test_fid_inception_scores_the_exported_generator(run):
    from lsgan_tf.metrics.evaluate import evaluate_generator

    prepared, out, _ = run
    result = evaluate_generator(str(out / "saved_model"), str(prepared), "eval",
                                extractor="fid_inception", num_samples=SAMPLES,
                                max_real=SAMPLES, reference=False)
    fid = result["scores"]["fd"]
    print(f"mnist smoke: FID (compare_gan protocol, {SAMPLES} vs {SAMPLES}) after {STEPS} "
          f"steps = {fid:.1f}")
    assert np.isfinite(fid) and 0 < fid < 1000  # 397 measured after 200 steps (300 vs 300)
    assert result["extractor"]["protocol"] == "compare_gan"
