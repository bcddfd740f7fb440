"""Damaged checkpoints (issue 24): a resume lists the checkpoint files present, verifies the
newest, falls back to the newest intact one with one line naming the damaged one (its files
moved aside, never deleted), rebuilds a lost or garbage ``checkpoints/checkpoint`` state file,
refuses a folder whose every checkpoint is damaged, and never starts over at step 0 unless
asked (``fresh=True``: the previous run's files are moved to ``previous-<time>/``). A damaged
``config.json`` is one line."""
import glob
import io
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf.errors import UsageError
from lsgan_tf.training import GanTrainer, train

from damage import flip_middle, read, truncate, write
from helpers import lsgan_in_process, tiny_digits

STEPS = 6  # checkpoints at steps 2, 4 and 6 (train.checkpoint_every=2, 3 kept)
WEIGHTS = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run of ``STEPS`` steps, copied by ``run`` for each test."""
    out = str(tmp_path_factory.mktemp("trained") / "run")
    train(tiny_digits(steps=STEPS), out, stream=io.StringIO())
    return out


@pytest.fixture
def run(trained, tmp_path):
    out = str(tmp_path / "run")
    shutil.copytree(trained, out)
    return out


def ckpt(out, step, suffix=".index"):
    if suffix == ".index":
        return os.path.join(out, "checkpoints", f"ckpt-{step}.index")
    return glob.glob(os.path.join(out, "checkpoints", f"ckpt-{step}.data-*"))[0]


DAMAGE = {
    "data bit flip": lambda out, step: flip_middle(ckpt(out, step, ".data")),
    "data truncated": lambda out, step: truncate(ckpt(out, step, ".data")),
    "data deleted": lambda out, step: os.remove(ckpt(out, step, ".data")),
    "index bit flip": lambda out, step: flip_middle(ckpt(out, step)),
    "index truncated": lambda out, step: truncate(ckpt(out, step)),
    "index deleted": lambda out, step: os.remove(ckpt(out, step)),
}


def checkpoint_values(prefix):
    reader = tf.train.load_checkpoint(prefix)
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(WEIGHTS)}


def state_of(out):
    return tf.train.get_checkpoint_state(os.path.join(out, "checkpoints"))


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(run, damage):
    expected = checkpoint_values(os.path.join(run, "checkpoints", "ckpt-4"))
    damaged_files = sorted(glob.glob(os.path.join(run, "checkpoints", "ckpt-6.*")))
    DAMAGE[damage](run, 6)
    damaged_bytes = [read(path) for path in damaged_files if os.path.exists(path)]
    log = io.StringIO()
    trainer = GanTrainer(tiny_digits(steps=STEPS), run)
    assert trainer.restore(stream=log) == 4
    lines = log.getvalue().splitlines()
    assert len(lines) == 1 and "checkpoint ckpt-6 is damaged (" in lines[0]
    assert "resuming from ckpt-4" in lines[0]
    restored = checkpoint_values(trainer.checkpoint.save(os.path.join(run, "probe", "ckpt")))
    assert restored.keys() == expected.keys() and len(expected) > 10
    for key, value in expected.items():
        np.testing.assert_array_equal(restored[key], value, err_msg=key)
    # The damaged files were moved aside whole, not deleted; the state file names ckpt-4.
    moved = sorted(glob.glob(os.path.join(run, "checkpoints", "damaged-*", "ckpt-6.*")))
    assert [read(path) for path in moved] == damaged_bytes
    assert not glob.glob(os.path.join(run, "checkpoints", "ckpt-6.*"))
    assert state_of(run).model_checkpoint_path.endswith("ckpt-4")


def test_train_resumes_past_a_damaged_checkpoint_and_saves_new_ones(run):
    flip_middle(ckpt(run, 6, ".data"))
    log = io.StringIO()
    result = train(tiny_digits(steps=8), run, stream=log)
    assert "[lsgan] checkpoint ckpt-6 is damaged (" in log.getvalue()
    assert "resuming from" in log.getvalue() and "at step 4" in log.getvalue()
    assert "step 2/8" not in log.getvalue() and result.step == 8
    assert tf.train.latest_checkpoint(result.checkpoints).endswith("ckpt-8")
    checkpoint_values(os.path.join(result.checkpoints, "ckpt-6"))  # a new, intact ckpt-6
    assert len(glob.glob(os.path.join(result.checkpoints, "damaged-*", "ckpt-6.*"))) == 2


@pytest.mark.parametrize("state", ["deleted", "garbage", "empty"])
def test_a_lost_or_garbage_state_file_is_rebuilt_and_the_run_resumes(run, state):
    path = os.path.join(run, "checkpoints", "checkpoint")
    if state == "deleted":
        os.remove(path)
    else:
        write(path, b"" if state == "empty" else b"\x00\xffnot a state {{{")
    log = io.StringIO()
    result = train(tiny_digits(steps=8), run, stream=log)
    assert "rebuilt" in log.getvalue() and "at step 6" in log.getvalue()
    assert "step 2/8" not in log.getvalue() and result.step == 8
    state_now = state_of(run)
    assert state_now.model_checkpoint_path.endswith("ckpt-8")
    assert [os.path.basename(p) for p in state_now.all_model_checkpoint_paths] == [
        "ckpt-4", "ckpt-6", "ckpt-8"]


def test_gan_trainer_restore_alone_rebuilds_a_lost_state_file(run):
    os.remove(os.path.join(run, "checkpoints", "checkpoint"))
    trainer = GanTrainer(tiny_digits(steps=STEPS), run)
    assert trainer.restore(stream=io.StringIO()) == 6
    assert [os.path.basename(p) for p in state_of(run).all_model_checkpoint_paths] == [
        "ckpt-2", "ckpt-4", "ckpt-6"]
    assert trainer.manager.latest_checkpoint.endswith("ckpt-6")


@pytest.mark.parametrize("how", ["every one damaged", "state names missing files"])
def test_a_folder_without_an_intact_checkpoint_is_refused(run, how):
    checkpoints = os.path.join(run, "checkpoints")
    if how == "every one damaged":
        for step in (2, 4, 6):
            truncate(ckpt(run, step))
    else:
        for path in glob.glob(os.path.join(checkpoints, "ckpt-*")):
            os.remove(path)
    before = {path: read(path) for path in glob.glob(os.path.join(checkpoints, "*"))}
    with pytest.raises(UsageError) as refused:
        train(tiny_digits(steps=8), run, stream=io.StringIO())
    message = str(refused.value)
    assert "\n" not in message and "--fresh" in message
    assert all(f"ckpt-{step} (" in message for step in (2, 4, 6))
    assert {path: read(path) for path in glob.glob(os.path.join(checkpoints, "*"))} == before
    assert not os.path.exists(os.path.join(checkpoints, "ckpt-8.index"))


def test_intact_checkpoints_of_another_model_are_refused_and_kept(run):
    os.remove(os.path.join(run, "config.json"))  # no config to compare: the restore finds it
    before = {path: read(path) for path in glob.glob(os.path.join(run, "checkpoints", "*"))}
    with pytest.raises(UsageError, match=r"ckpt-6 does not fit this run's model.*--fresh"):
        train(tiny_digits(steps=8, **{"model.g_width": "16"}), run, stream=io.StringIO())
    assert {path: read(path) for path in glob.glob(os.path.join(run, "checkpoints", "*"))} \
        == before


def test_fresh_starts_at_step_0_and_keeps_the_previous_run(run):
    before = {os.path.relpath(path, run): read(path)
              for path in glob.glob(os.path.join(run, "**", "*"), recursive=True)
              if os.path.isfile(path)}
    log = io.StringIO()
    result = train(tiny_digits(steps=2, **{"model.g_width": "16"}), run, stream=log,
                   fresh=True)
    assert "resuming" not in log.getvalue() and "step 2/2" in log.getvalue()
    assert result.step == 2
    previous = glob.glob(os.path.join(run, "previous-*"))
    assert len(previous) == 1 and str(os.path.basename(previous[0])) in log.getvalue()
    kept = {os.path.relpath(path, previous[0]): read(path)
            for path in glob.glob(os.path.join(previous[0], "**", "*"), recursive=True)
            if os.path.isfile(path)}
    assert {"config.json", "checkpoints/ckpt-6.index", "checkpoints/checkpoint"} <= set(kept)
    for name, data in before.items():  # nothing lost: moved whole, or left where it was
        assert kept.get(name) == data or read(os.path.join(run, name)) == data, name
    assert sorted(os.path.basename(p) for p in glob.glob(
        os.path.join(run, "checkpoints", "ckpt-*.index"))) == ["ckpt-2.index"]


@pytest.mark.parametrize("text", ["", "{\"model\": ", "[1, 2]", "{\"model\": 3}", "\xff\xfe"])
def test_a_damaged_config_json_is_one_line_naming_it(run, text):
    path = os.path.join(run, "config.json")
    write(path, text.encode("latin-1"))
    with pytest.raises(UsageError) as refused:
        train(tiny_digits(steps=8), run, stream=io.StringIO())
    message = str(refused.value)
    assert "\n" not in message and path in message and "--fresh" in message


def test_lsgan_train_on_an_empty_config_json_exits_2_in_one_line(run, capsys):
    write(os.path.join(run, "config.json"), b"")
    status, _, err = lsgan_in_process(capsys)(
        "train", "--preset=digits", f"--out={run}", "--steps=8", "--set=model.g_width=8",
        "--set=model.d_width=8", "--set=model.d_dense=16", "--set=model.noise.dim=8")
    assert status == 2
    err = err.strip().splitlines()
    assert err[-1].startswith("lsgan train: ") and "config.json is empty" in err[-1]


SCRIPT = {2: 3.0, 4: 1.0, 6: 2.0, 8: 2.5}  # scores by step, lower is better: best at 4
BEST_SETTINGS = {"eval.every": "2", "train.keep_checkpoints": "5"}


def scripted(generator, step):
    return SCRIPT[step]


@pytest.fixture(scope="module")
def selected(tmp_path_factory):
    """A finished run of ``STEPS`` steps that kept its best checkpoint (step 4)."""
    out = str(tmp_path_factory.mktemp("selected") / "run")
    train(tiny_digits(steps=STEPS, **BEST_SETTINGS), out, stream=io.StringIO(),
          score_fn=scripted)
    return out


@pytest.mark.parametrize("damage", ["best checkpoint bit flip", "best.json garbage"])
def test_a_damaged_best_checkpoint_or_record_is_named_and_chosen_again(selected, tmp_path,
                                                                       damage):
    """The damage is found when the run resumes at 6; the best is chosen again from step 8."""
    out = str(tmp_path / "run")
    shutil.copytree(selected, out)
    best = os.path.join(out, "checkpoints", "best")
    if damage == "best checkpoint bit flip":
        flip_middle(glob.glob(os.path.join(best, "ckpt-4.data-*"))[0])
    else:
        write(os.path.join(out, "best.json"), b"{\"select\": ")
    log = io.StringIO()
    result = train(tiny_digits(steps=8, **BEST_SETTINGS), out, stream=log, score_fn=scripted)
    lines = [line for line in log.getvalue().splitlines()
             if " is damaged (" in line or " cannot be read (" in line]
    assert len(lines) == 1, log.getvalue()
    if damage == "best checkpoint bit flip":
        assert "best checkpoint" in lines[0] and "ckpt-4 (step 4) is damaged (" in lines[0]
        assert len(glob.glob(os.path.join(best, "damaged-*", "ckpt-4.*"))) == 2
    else:
        assert "best.json cannot be read" in lines[0]
        assert glob.glob(os.path.join(out, "best.json.damaged-*"))
    assert result.best_step == 8 and result.best_score == 2.5
    assert tf.saved_model.contains_saved_model(result.saved_model)
