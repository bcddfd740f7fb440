"""In-training selection (``eval.every``): the best step's generator is exported, the last one
beside it, ``best.json`` records the scores, a resumed run keeps the best, bad keys are one-line
refusals, and the real scorer gives finite scores. Scores are scripted by step (``score_fn``)
except in the real smoke test."""
import io
import json
import os

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import config as config_lib
from lsgan_tf.config import ConfigError
from lsgan_tf.metrics import base
from lsgan_tf.models import build_models
from lsgan_tf.presets import get_preset
from lsgan_tf.training import steps_in_call, train

from helpers import tiny_digits

# fd by step: best at step 4, worse after it.
SCRIPT = {2: 3.0, 4: 1.0, 6: 2.0}
SETTINGS = {"eval.every": "2", "train.ema_decay": "0.5", "optim.lr_g": "0.05",
            "train.keep_checkpoints": "5"}
STATE = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/", "step/",
         "ema_generator/")
Z = tf.random.stateless_uniform([16, 8], seed=[1, 2], minval=-1.0, maxval=1.0)
LABELS = tf.constant(np.arange(16) % 10, tf.int64)


def scripted(script):
    return lambda generator, step: script[step]


@pytest.fixture(scope="module")
def scripted_run(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("best") / "run")
    log = io.StringIO()
    result = train(tiny_digits(steps=6, **SETTINGS), out, stream=log, score_fn=scripted(SCRIPT))
    return out, result, log.getvalue()


def served(saved_model):
    signature = tf.saved_model.load(saved_model).signatures["serving_default"]
    return signature(z=Z, label=LABELS)["images"].numpy().astype(np.int32)


def restored(config, checkpoint):
    """The export (EMA) generator of ``checkpoint``, as uint8 images of (Z, LABELS)."""
    generator = build_models(config.model).generator
    tf.train.Checkpoint(ema_generator=generator).restore(checkpoint).expect_partial()
    samples = generator([Z, LABELS], training=False).numpy()
    return np.clip(np.round(samples * 255.0), 0, 255).astype(np.int32)


def checkpoint_state(path):
    reader = tf.train.load_checkpoint(path)
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(STATE)}


def test_the_best_step_is_exported_and_the_last_beside_it(scripted_run):
    out, result, log = scripted_run
    config = tiny_digits(steps=6, **SETTINGS)
    assert (result.best_step, result.best_score) == (4, 1.0)
    assert result.saved_model == os.path.join(out, "saved_model")
    assert result.saved_model_last == os.path.join(out, "saved_model_last")
    best, last = served(result.saved_model), served(result.saved_model_last)
    assert np.abs(best - restored(config, os.path.join(out, "checkpoints", "ckpt-4"))).max() <= 1
    assert np.abs(last - restored(config, os.path.join(out, "checkpoints", "ckpt-6"))).max() <= 1
    assert np.abs(best - last).max() >= 8  # the two steps' generators differ
    best_dir = os.path.join(out, "checkpoints", "best")
    assert tf.train.latest_checkpoint(best_dir) == os.path.join(best_dir, "ckpt-4")
    whole, kept = (checkpoint_state(os.path.join(out, "checkpoints", "ckpt-4")),
                   checkpoint_state(os.path.join(best_dir, "ckpt-4")))
    assert whole.keys() == kept.keys() and len(kept) > 10  # the whole training state
    for key, value in whole.items():
        np.testing.assert_array_equal(kept[key], value, err_msg=key)
    assert tf.train.latest_checkpoint(result.checkpoints).endswith("ckpt-6")
    assert "[lsgan] eval step 6: fd 2 (best 1 at step 4)" in log.splitlines()


def test_best_json_records_the_scores(scripted_run):
    out, _, _ = scripted_run
    with open(os.path.join(out, "best.json")) as handle:
        record = json.load(handle)
    assert record == {
        "select": "fd", "direction": "lower",
        "best": {"step": 4, "score": 1.0,
                 "checkpoint": os.path.join(out, "checkpoints", "best", "ckpt-4")},
        "last": {"step": 6, "score": 2.0},
        "history": [[2, 3.0], [4, 1.0], [6, 2.0]]}
    assert not [name for name in os.listdir(out) if name.endswith(".tmp")]
    steps = {}
    for name in os.listdir(os.path.join(out, "logs")):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(out, "logs", name)):
            for value in event.summary.value:
                if value.tag == "eval/fd":
                    steps[event.step] = float(tf.make_ndarray(value.tensor))
    assert steps == SCRIPT


class Killed(Exception):
    """Stands for the process dying (after best.json was written at the step before)."""


def test_a_killed_and_resumed_run_keeps_the_best_and_ends_bit_identical(tmp_path):
    """Killed while scoring step 8: best.json already holds steps 2-6 (best 6), the last
    checkpoint is step 4; the rerun resumes at 4, scores 6 and 8 again and ends with the
    record and the weights of a run that was never killed."""
    script = {2: 3.0, 4: 2.0, 6: 1.0, 8: 1.5}
    settings = {**SETTINGS, "train.checkpoint_every": "4"}

    def dies_at_8(generator, step):
        if step == 8:
            raise Killed()
        return script[step]

    whole, stopped = str(tmp_path / "whole"), str(tmp_path / "stopped")
    train(tiny_digits(steps=8, **settings), whole, stream=io.StringIO(),
          score_fn=scripted(script))
    with pytest.raises(Killed):
        train(tiny_digits(steps=8, **settings), stopped, stream=io.StringIO(),
              score_fn=dies_at_8)
    assert tf.train.latest_checkpoint(os.path.join(stopped, "checkpoints")).endswith("ckpt-4")
    log = io.StringIO()
    train(tiny_digits(steps=8, **settings), stopped, stream=log, score_fn=scripted(script))
    assert "at step 4" in log.getvalue()

    def record(out):
        with open(os.path.join(out, "best.json")) as handle:
            return json.loads(handle.read().replace(out, "<out>"))

    assert record(stopped) == record(whole)
    assert record(whole)["best"]["step"] == 6
    assert record(whole)["history"] == [[2, 3.0], [4, 2.0], [6, 1.0], [8, 1.5]]
    for folder in ("checkpoints", os.path.join("checkpoints", "best")):
        resumed = checkpoint_state(os.path.join(stopped, folder))
        uninterrupted = checkpoint_state(os.path.join(whole, folder))
        assert resumed.keys() == uninterrupted.keys() and len(resumed) > 10
        for key, value in uninterrupted.items():
            np.testing.assert_array_equal(resumed[key], value, err_msg=f"{folder}: {key}")
    np.testing.assert_array_equal(served(os.path.join(stopped, "saved_model")),
                                  served(os.path.join(whole, "saved_model")))


@pytest.mark.parametrize("override, message", [
    ("eval.every=-1", "eval.every=-1: must be >= 0"),
    ("eval.select=nonsense", "eval.select='nonsense': unknown selection score"),
    ("eval.select_samples=0", "eval.select_samples=0: must be >= 10"),
    ("eval.select_extractor=nope", "eval.select_extractor='nope': unknown feature extractor"),
])
def test_bad_selection_keys_are_one_line_refusals(override, message):
    with pytest.raises(ConfigError) as error:
        config_lib.validate(config_lib.apply_overrides(get_preset("digits"), [override]))
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_selection_keys_round_trip_and_bound_the_calls():
    config = config_lib.apply_overrides(get_preset("digits"), [
        "eval.every=30", "eval.select=precision", "eval.select_samples=500",
        "eval.select_extractor=rotation"])
    assert config_lib.from_json(config_lib.to_json(config)) == config
    assert (config.eval.every, config.eval.select, config.eval.select_samples,
            config.eval.select_extractor) == (30, "precision", 500, "rotation")
    assert config_lib.EvalConfig().every == 0  # off by default
    train_cfg = config_lib.apply_overrides(get_preset("digits"), [
        "train.steps_per_loop=100", "train.log_every=1000", "train.sample_every=1000",
        "train.checkpoint_every=1000"]).train
    assert steps_in_call(0, train_cfg, 30) == 30 and steps_in_call(45, train_cfg, 30) == 15
    assert steps_in_call(0, train_cfg, 0) == 100


def test_the_real_scorer_writes_finite_scores(tmp_path, monkeypatch):
    """The default extractor (``auto``: the classifier, for digits), trained in a temporary
    cache, on the digits preset."""
    monkeypatch.setenv(base.CACHE_ENV, str(tmp_path / "cache"))
    out = str(tmp_path / "run")
    log = io.StringIO()
    result = train(tiny_digits(steps=4, **{"eval.every": "2", "eval.select_samples": "200"}),
                   out, stream=log)
    with open(os.path.join(out, "best.json")) as handle:
        record = json.load(handle)
    assert [step for step, _ in record["history"]] == [2, 4]
    assert all(np.isfinite(score) and score > 0 for _, score in record["history"])
    assert record["best"]["step"] == result.best_step in (2, 4)
    assert "classifier features" in log.getvalue()
    assert tf.saved_model.contains_saved_model(result.saved_model)
    assert tf.saved_model.contains_saved_model(result.saved_model_last)


def test_under_mirrored_the_chief_decides_for_every_replica(tmp_path):
    result = train(tiny_digits(steps=2, **{"eval.every": "1", "train.strategy": "mirrored"}),
                   str(tmp_path / "run"), stream=io.StringIO(),
                   score_fn=scripted({1: 2.0, 2: 1.0}))
    assert (result.best_step, result.best_score) == (2, 1.0)
    best_dir = os.path.join(result.out_dir, "checkpoints", "best")
    assert tf.train.latest_checkpoint(best_dir).endswith("ckpt-2")


@pytest.mark.slow
def test_two_workers_only_the_chief_scores_and_both_finish(tmp_path):
    from helpers import as_flags
    from test_multi_worker import SETTINGS as WORKER_SETTINGS
    from test_multi_worker import Run, free_ports, prepared_digits, tf_config

    data = prepared_digits(tmp_path / "data")  # no eval split: scored against train
    out = tmp_path / "run"
    sets = [*WORKER_SETTINGS, "data.source=tfrecord", f"data.path={data}",
            "train.strategy=multi_worker", "eval.every=5", "eval.select_extractor=identity",
            "eval.select_samples=100"]
    ports = free_ports(2)
    runs = []
    try:
        for index in range(2):
            runs.append(Run(["train", "--preset=digits", f"--out={out}", *as_flags(sets)],
                            tmp_path, f"worker{index}", env={"TF_CONFIG": tf_config(ports, index)}))
        for run in runs:
            assert run.wait(timeout=600) == 0, run.stderr()[-3000:]
    finally:
        for run in runs:
            run.kill()
    chief, worker = runs
    assert "[lsgan] eval step 20: fd" in chief.stdout() and "eval step" not in worker.stdout()
    with open(out / "best.json") as handle:
        record = json.load(handle)
    assert [step for step, _ in record["history"]] == [5, 10, 15, 20]
    assert tf.train.latest_checkpoint(str(out / "checkpoints" / "best")) == \
        record["best"]["checkpoint"]
    assert {"saved_model", "saved_model_last", "best.json"} <= set(os.listdir(out))
    assert not [name for name in os.listdir(out) if name.startswith("workertemp")]
