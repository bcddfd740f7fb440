"""``lsgan train`` and ``lsgan generate`` end to end, as a user runs them."""
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from helpers import TINY_MODEL, as_flags, imported_modules

CLI = [sys.executable, "-m", "pipeline.cli"]


def run(*args, python=()):
    """``lsgan ARGS`` as a user's shell starts it (without the test session's log settings);
    ``python``: options of the interpreter (``-X importtime``)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    command = [sys.executable, *python] + CLI[1:] + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


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
    result = run("generate", f"--model={out / 'saved_model'}", "--n=9", "--label=3",
                 f"--out={grid}", python=["-X", "importtime"])
    assert result.returncode == 0, result.stderr[-2000:]
    modules = imported_modules(result.stderr)
    assert "tensorflow" in modules
    assert "keras" not in modules  # a SavedModel runs without it: a faster start
    image = np.asarray(Image.open(grid))
    assert image.shape == (3 * 30 + 2, 3 * 30 + 2)  # 3 x 3 tiles of 28 px, 2 px gaps
    bad = run("generate", f"--model={out / 'saved_model'}", "--label=10", f"--out={grid}")
    assert bad.returncode != 0 and "--label must be in [0, 10)" in bad.stderr


@pytest.mark.parametrize("args, line", [
    (["--set", "optim.lr=1"], "lsgan train: --set optim.lr: unknown key 'lr' in OptimConfig"),
    (["--preset=celeba"], "lsgan train: --preset=celeba: unknown preset; known presets: dcgan, "
                          "digits"),
    (["--preset=dcgan", "--set", "model.image_size=48"],
     "lsgan train: model.image_size=48: the dcgan model builds 32, 64, 128"),
    (["--preset=dcgan", "--set", "model.num_classes=2"],
     "lsgan train: model.num_classes=2: the dcgan model is unconditional"),
    (["--preset=dcgan"], "lsgan train: data.path='': data.source=tfrecord needs a prepared folder"),
    (["--bogus=1"], "lsgan train: Unknown command line flag 'bogus'"),
])
def test_bad_settings_are_one_line_and_exit_2(tmp_path, args, line):
    result = run("train", f"--out={tmp_path / 'run'}", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(line)
    assert not os.path.exists(tmp_path / "run")


def test_unknown_subcommand_and_help():
    unknown = run("fly")
    assert unknown.returncode == 2 and "unknown subcommand 'fly'" in unknown.stderr
    for name, flag in [("train", "--preset"), ("train", "--out"), ("run", "--thresholds"),
                       ("compile", "--root"), ("generate", "--model"), ("prep", "--source"),
                       ("evaluate", "--extractor")]:
        shown = run(name, "--help")
        assert shown.returncode == 0 and f"  {flag}:" in shown.stdout, (name, shown.stderr)
    full = run("train", "--helpfull")
    assert full.returncode == 0 and "--preset" in full.stdout and "--verbosity" in full.stdout


def test_resume_with_other_widths_refuses_and_keeps_config(tmp_path):
    out = tmp_path / "run"
    tiny = as_flags(TINY_MODEL + ["train.batch_size=8", "train.log_every=1"])
    first = run("train", f"--out={out}", "--steps=2", *tiny)
    assert first.returncode == 0, first.stderr[-2000:]
    before = (out / "config.json").read_bytes()
    checkpoints = sorted(os.listdir(out / "checkpoints"))
    wider = run("train", f"--out={out}", "--steps=4", *tiny, "--set=model.g_width=16")
    assert wider.returncode == 2 and "Traceback" not in wider.stderr
    (line,) = wider.stderr.splitlines()
    assert "model.g_width: 8 -> 16" in line and f"--config={out}/config.json" in line
    assert (out / "config.json").read_bytes() == before
    assert sorted(os.listdir(out / "checkpoints")) == checkpoints
    longer = run("train", f"--out={out}", "--steps=3", *tiny)  # length may change
    assert longer.returncode == 0 and "resuming from" in longer.stdout and "step 3/3" in longer.stdout


def test_config_json_repeats_a_run_exactly(tmp_path):
    first = run("train", f"--out={tmp_path / 'a'}", "--steps=3", *as_flags(
        TINY_MODEL + ["train.batch_size=8", "optim.lr_d=1e-3", "train.seed=7"]))
    assert first.returncode == 0, first.stderr[-2000:]
    again = run("train", f"--out={tmp_path / 'b'}", f"--config={tmp_path / 'a' / 'config.json'}")
    assert again.returncode == 0, again.stderr[-2000:]
    assert (tmp_path / "a" / "config.json").read_bytes() == (tmp_path / "b" / "config.json").read_bytes()
    grids = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.png"
        assert run("generate", f"--model={tmp_path / name / 'saved_model'}", "--n=8",
                   f"--out={path}").returncode == 0
        grids.append(np.asarray(Image.open(path)))
    np.testing.assert_array_equal(grids[0], grids[1])


@pytest.mark.parametrize("source", [pytest.param("digits", marks=pytest.mark.slow), "tfrecord"])
def test_stopped_and_resumed_run_ends_with_the_same_weights(source, tmp_path):
    """Data order and noise are functions of (seed, step): a run stopped after its checkpoint
    at step 3 and resumed in a new process ends bit-identical to one that never stopped."""
    import tensorflow as tf

    from lsgan_tf import data as data_lib
    from prepared import write_prepared

    sets = as_flags(TINY_MODEL + ["train.batch_size=8", "train.checkpoint_every=3",
                                  "data.shuffle_buffer=50"])
    if source == "tfrecord":
        images, labels = data_lib.load_split("digits", "train", max_records=120)
        sets.append("--data=" + write_prepared(str(tmp_path / "data"), images, labels,
                                               [str(d) for d in range(10)]))
    for out, steps in [("straight", 6), ("resumed", 3), ("resumed", 6)]:
        result = run("train", f"--out={tmp_path / out}", f"--steps={steps}", *sets)
        assert result.returncode == 0, result.stderr[-2000:]
    assert "resuming from" in result.stdout
    weights = []
    for out in ("straight", "resumed"):
        reader = tf.train.load_checkpoint(str(tmp_path / out / "checkpoints" / "ckpt-6"))
        weights.append({k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
                        if k != "_CHECKPOINTABLE_OBJECT_GRAPH" and "save_counter" not in k})
    assert weights[0].keys() == weights[1].keys() and len(weights[0]) > 30
    for key, value in weights[0].items():
        np.testing.assert_array_equal(weights[1][key], value, err_msg=key)
