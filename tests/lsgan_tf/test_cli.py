"""``lsgan train`` and ``lsgan generate`` end to end, as a user runs them."""
import os
import subprocess
import sys

import numpy as np
from PIL import Image

CLI = [sys.executable, "-m", "pipeline.cli"]


def run(*args):
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=600)


def test_train_then_generate(tmp_path):
    out = tmp_path / "run"
    result = run("train", "--preset=digits", f"--out={out}", "--steps=6",
                 "--set", "train.batch_size=16", "--set", "train.log_every=3")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "step 6/6" in result.stdout and "tensorboard --logdir" in result.stdout
    for part in ("config.json", "samples/final.png", "saved_model/saved_model.pb", "logs"):
        assert os.path.exists(out / part), part
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(out / "logs"))
    grid = tmp_path / "grid.png"
    result = run("generate", f"--model={out / 'saved_model'}", "--n=9", "--label=3", f"--out={grid}")
    assert result.returncode == 0, result.stderr[-2000:]
    image = np.asarray(Image.open(grid))
    assert image.shape == (3 * 30 + 2, 3 * 30 + 2)  # 3 x 3 tiles of 28 px, 2 px gaps
    bad = run("generate", f"--model={out / 'saved_model'}", "--label=10", f"--out={grid}")
    assert bad.returncode != 0 and "--label must be in [0, 10)" in bad.stderr


def test_clear_errors_for_bad_flags(tmp_path):
    bad_set = run("train", "--preset=digits", f"--out={tmp_path}", "--set", "optim.lr=1")
    assert bad_set.returncode != 0 and "unknown key 'lr' in OptimConfig" in bad_set.stderr
    bad_preset = run("train", "--preset=celeba", f"--out={tmp_path}")
    assert bad_preset.returncode != 0 and "known presets: dcgan, digits" in bad_preset.stderr
    unknown = run("fly")
    assert unknown.returncode == 2 and "unknown subcommand 'fly'" in unknown.stderr
