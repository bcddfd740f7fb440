"""The training loop: steps change weights for every model x loss, strategies agree, runs
resume, NaN stops, the EMA of G is the moving average and is what is exported."""
import io
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf.config import ConfigError
from lsgan_tf.presets import get_preset
from lsgan_tf.registry import LOSSES, MODELS
from lsgan_tf.training import GanTrainer, TrainingDiverged, train

from helpers import synthetic_batch, tiny_digits, tiny_sets


def small_config(model, loss):
    """``model`` at its smallest stated configuration with ``loss``, checked by the validation
    that ``lsgan train`` runs (``config.validate``); a combination it refuses is skipped."""
    config = config_lib.apply_overrides(get_preset("digits"),
                                        tiny_sets(model) + [f"loss.type={loss}"])
    try:
        return config_lib.validate(config)
    except ConfigError as error:
        pytest.skip(f"{model} x {loss}: {error}")


# Every registered model x every registered loss: a new plugin is covered when it registers.
# `make test` runs every model with the default loss and every loss on the cheapest model;
# the other pairs (a 112-pixel model with each loss is slow) run with the slow tests.
DEFAULT_LOSS, CHEAPEST_MODEL = config_lib.LossConfig().type, "mog_mlp"
MODEL_LOSS = [pytest.param(model, loss, marks=() if DEFAULT_LOSS == loss or model == CHEAPEST_MODEL
                           else pytest.mark.slow)
              for model in MODELS.names() for loss in LOSSES.names()]


@pytest.mark.parametrize("model, loss", MODEL_LOSS)
def test_one_step_changes_both_networks(model, loss, tmp_path):
    config = small_config(model, loss)
    trainer = GanTrainer(config, str(tmp_path))
    before_g = [w.numpy().copy() for w in trainer.task.models.generator.trainable_weights]
    before_d = [w.numpy().copy() for w in trainer.task.models.discriminator.trainable_weights]
    metrics = trainer.make_step_fn()(synthetic_batch(config))
    assert all(np.isfinite(float(v)) for v in metrics.values())
    assert int(trainer.step.numpy()) == 1
    for before, model_ in ((before_g, trainer.task.models.generator),
                           (before_d, trainer.task.models.discriminator)):
        changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model_.trainable_weights)]
        assert all(changed), f"{model_.name}: some weights did not move"


def test_mirrored_over_two_cpus_matches_default(tmp_path):
    assert len(tf.config.list_logical_devices("CPU")) == 2
    results = {}
    for strategy in ("default", "mirrored"):
        config = tiny_digits(steps=3, **{"train.strategy": strategy,
                                         "train.precision": "float32"})
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


def test_run_json_says_what_the_config_resolved_to_on_this_machine(tmp_path):
    """``train.precision=auto`` and the default strategy, as this process resolved them."""
    from lsgan_tf.precision import resolve

    out = tmp_path / "run"
    train(tiny_digits(steps=2, **{"train.precision": "auto"}), str(out), stream=io.StringIO())
    info = json.loads((out / "run.json").read_text())
    assert info == {"precision": resolve("auto", "default"), "replicas": 1, "workers": 1,
                    "strategy": tf.distribute.get_strategy().__class__.__name__,
                    "tensorflow": tf.__version__}


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    train(tiny_digits(steps=2), out, stream=io.StringIO())
    diverging = tiny_digits(steps=5, **{"optim.lr_d": "1e30", "optim.lr_g": "1e30"})
    with pytest.raises(TrainingDiverged, match=r"diverged at step 3: .*ckpt-2"):
        train(diverging, out, stream=io.StringIO())
    assert tf.train.latest_checkpoint(os.path.join(out, "checkpoints")).endswith("ckpt-2")
    several = tiny_digits(steps=5, **{"optim.lr_d": "1e30", "optim.lr_g": "1e30",
                                      "train.steps_per_loop": "2"})
    with pytest.raises(TrainingDiverged, match=r"diverged at steps 3-4: .*ckpt-2"):
        train(several, out, stream=io.StringIO())  # NaN in a call of 2 steps


def test_ema_is_the_moving_average_of_the_generator_weights(tmp_path):
    """ema_0 = w_0 (the initial G), ema_t = d ema_(t-1) + (1 - d) w_t after each step t, over
    every weight of G (BatchNorm statistics too); computed here from the raw weights."""
    decay = 0.75
    config = tiny_digits(**{"train.ema_decay": str(decay), "optim.lr_g": "0.01"})
    trainer = GanTrainer(config, str(tmp_path))
    step_fn = trainer.make_step_fn()
    expected = [w.copy() for w in trainer.task.models.generator.get_weights()]
    for _ in range(3):
        step_fn(synthetic_batch(config))
        raw = trainer.task.models.generator.get_weights()
        expected = [decay * e + (1 - decay) * w for e, w in zip(expected, raw)]
    averaged = trainer.task.ema.get_weights()
    assert len(averaged) == len(expected) == len(raw)
    for got, want in zip(averaged, expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert max(np.abs(a - w).max() for a, w in zip(averaged, raw)) > 1e-3  # it lags G
    assert trainer.task.export_generator is trainer.task.ema


def test_the_exported_generator_holds_the_ema_weights(tmp_path):
    """After ``train``, the SavedModel's variables are the checkpoint's ``ema_generator`` ones
    (same object paths, bit-equal), and it serves the EMA generator's images, not G's."""
    from lsgan_tf.models import build_models

    config = tiny_digits(steps=3, **{"train.ema_decay": "0.5", "optim.lr_g": "0.05"})
    result = train(config, str(tmp_path / "r"), stream=io.StringIO())
    checkpoint = tf.train.load_checkpoint(tf.train.latest_checkpoint(result.checkpoints))
    saved = tf.train.load_checkpoint(os.path.join(result.saved_model, "variables", "variables"))
    generator_keys = [k for k in saved.get_variable_to_shape_map() if k.startswith("generator/")]
    assert len(generator_keys) == len(build_models(config.model).generator.weights)
    for key in generator_keys:
        np.testing.assert_array_equal(saved.get_tensor(key), checkpoint.get_tensor("ema_" + key),
                                      err_msg=key)

    ema, raw = build_models(config.model).generator, build_models(config.model).generator
    tf.train.Checkpoint(ema_generator=ema, generator=raw).restore(
        tf.train.latest_checkpoint(result.checkpoints)).expect_partial()
    z = tf.random.stateless_uniform([16, 8], seed=[1, 2], minval=-1.0, maxval=1.0)
    labels = tf.constant(np.arange(16) % 10, tf.int64)
    served = tf.saved_model.load(result.saved_model).signatures["serving_default"](
        z=z, label=labels)["images"].numpy().astype(np.int32)

    def as_uint8(generator):  # the sigmoid model's export scaling
        samples = generator([z, labels], training=False).numpy()
        return np.clip(np.round(samples * 255.0), 0, 255).astype(np.int32)

    assert np.abs(served - as_uint8(ema)).max() <= 1
    assert np.abs(served - as_uint8(raw)).max() >= 8  # G itself makes other images


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


def test_every_loss_part_reaches_the_progress_line_and_tensorboard(tmp_path):
    """L_D, its terms on real and on fake rows (which sum to it), L_G, mean D(x) and mean
    D(G(z)): in the progress line, the TensorBoard scalars and the run's metrics."""
    from lsgan_tf.gan_task import METRICS

    assert {"d_loss_real", "d_loss_fake"} < set(METRICS)
    log = io.StringIO()
    result = train(tiny_digits(steps=2), str(tmp_path / "r"), stream=log)
    line = [line for line in log.getvalue().splitlines() if " step 2/2 " in line][0]
    assert all(f" {key} " in line for key in METRICS), line
    tags = set()
    for name in os.listdir(result.logs):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(result.logs, name)):
            tags.update(value.tag for value in event.summary.value if event.step == 2)
    assert set(METRICS) <= tags
    metrics = result.metrics
    assert metrics["d_loss_real"] > 0 and metrics["d_loss_fake"] > 0
    np.testing.assert_allclose(metrics["d_loss_real"] + metrics["d_loss_fake"],
                               metrics["d_loss"], rtol=1e-6)


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
