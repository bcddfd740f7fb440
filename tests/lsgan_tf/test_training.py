"""The training loop: steps change weights, strategies agree, runs resume, NaN stops."""
import dataclasses
import io
import os

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset
from lsgan_tf.training import GanTrainer, TrainingDiverged, train

from helpers import tiny_digits

SMALL_MODELS = {
    "conditional": ["model.g_width=8", "model.d_width=8", "model.d_dense=16", "model.phi_dim=4"],
    "dcgan": ["model.type=dcgan", "model.image_size=32", "model.channels=3", "model.num_classes=0",
              "model.g_width=4", "model.d_width=4"],
    "lsun_112": ["model.type=lsun_112", "model.image_size=112", "model.channels=3",
                 "model.num_classes=0", "model.g_width=8", "model.d_width=4",
                 "model.noise.dim=16"],
    "mog_mlp": ["model.type=mog_mlp", "model.num_classes=0", "model.hidden=16"],
}


def synthetic_batch(config, conditional, batch=4):
    rng = np.random.default_rng(0)
    m = config.model
    shape = (batch, 2) if m.type == "mog_mlp" else (batch, m.image_size, m.image_size, m.channels)
    return {"real": tf.constant(rng.uniform(-1, 1, shape), tf.float32),
            "label": tf.constant(rng.integers(0, max(1, m.num_classes), batch), tf.int64),
            "z_d": tf.constant(rng.uniform(-1, 1, (batch, m.noise.dim)), tf.float32),
            "z_g": tf.constant(rng.uniform(-1, 1, (batch, m.noise.dim)), tf.float32)}


@pytest.mark.parametrize("model, loss", [(m, "ls") for m in SMALL_MODELS] +
                         [("mog_mlp", loss) for loss in ("pearson", "ns", "minimax")])
def test_one_step_changes_both_networks(model, loss, tmp_path):
    config = config_lib.apply_overrides(get_preset("digits"), SMALL_MODELS[model] + [f"loss.type={loss}"])
    trainer = GanTrainer(config, str(tmp_path))
    before_g = [w.numpy().copy() for w in trainer.models.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in trainer.models.discriminator.trainable_weights]
    metrics = trainer.make_step_fn()(synthetic_batch(config, trainer.models.conditional))
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert int(trainer.step.numpy()) == 1
    for before, model_ in ((before_g, trainer.models.generator),
                           (before_d, trainer.models.discriminator)):
        changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model_.trainable_weights)]
        assert all(changed), f"{model_.name}: some weights did not move"


def test_mirrored_over_two_cpus_matches_default(tmp_path):
    assert len(tf.config.list_logical_devices("CPU")) == 2
    results = {}
    for strategy in ("default", "mirrored"):
        config = tiny_digits(steps=3, **{"train.strategy": strategy})
        train(config, str(tmp_path / strategy), stream=io.StringIO())
        reader = tf.train.load_checkpoint(str(tmp_path / strategy / "checkpoints"))
        results[strategy] = {k: reader.get_tensor(k) for k in reader.get_variable_to_shape_map()
                             if k.startswith(("generator/", "discriminator/"))}
    assert results["default"].keys() == results["mirrored"].keys() and results["default"]
    for key, value in results["default"].items():
        np.testing.assert_allclose(results["mirrored"][key], value, rtol=1e-4, atol=1e-5,
                                   err_msg=key)


def test_run_stopped_and_started_again_resumes_at_its_step(tmp_path):
    out = str(tmp_path / "run")
    train(tiny_digits(steps=4), out, stream=io.StringIO())
    log = io.StringIO()
    result = train(tiny_digits(steps=6), out, stream=log)
    assert "at step 4" in log.getvalue()
    assert "step 2/6" not in log.getvalue() and "step 6/6" in log.getvalue()
    assert result.step == 6
    assert tf.train.latest_checkpoint(result.checkpoints).endswith("ckpt-6")
    assert os.path.exists(os.path.join(out, "config.json"))
    assert tf.saved_model.contains_saved_model(result.saved_model)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    train(tiny_digits(steps=2), out, stream=io.StringIO())
    diverging = tiny_digits(steps=5, **{"optim.lr_d": "1e30", "optim.lr_g": "1e30"})
    with pytest.raises(TrainingDiverged, match=r"diverged at step 3: .*ckpt-2"):
        train(diverging, out, stream=io.StringIO())
    assert tf.train.latest_checkpoint(os.path.join(out, "checkpoints")).endswith("ckpt-2")


def test_ema_generator_is_exported(tmp_path):
    result = train(tiny_digits(steps=2, **{"train.ema_decay": "0.5"}), str(tmp_path / "r"),
                   stream=io.StringIO())
    reader = tf.train.load_checkpoint(result.checkpoints)
    assert any(k.startswith("ema_generator/") for k in reader.get_variable_to_shape_map())


def test_progress_lines_and_scalars_also_come_by_wall_time(tmp_path, monkeypatch):
    from lsgan_tf import training

    monkeypatch.setattr(training, "PROGRESS_SECONDS", 0.0)  # every step is "10 s later"
    log = io.StringIO()
    result = train(tiny_digits(steps=3, **{"train.log_every": "100"}), str(tmp_path / "r"),
                   stream=log)
    assert [line.split()[2] for line in log.getvalue().splitlines() if " step " in line] == [
        "1/3", "2/3", "3/3"]
    steps = set()
    for name in os.listdir(result.logs):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(result.logs, name)):
            if any(value.tag == "d_loss" for value in event.summary.value):
                steps.add(event.step)
    assert steps == {1, 2, 3}


def test_progress_is_due_after_its_interval(monkeypatch):
    from lsgan_tf import training

    clock = [100.0]
    monkeypatch.setattr(training.time, "time", lambda: clock[0])
    progress = training.Progress(10, 0, 8, io.StringIO(), every_seconds=10.0)
    clock[0] = 109.9
    assert not progress.due()
    clock[0] = 110.0
    assert progress.due()
    progress.update(3, {"d_loss": 1.0})
    assert not progress.due()
