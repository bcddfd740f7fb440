# bazel: size=medium, timeout=long
"""The whole pipeline with LocalDagRunner and SQLite ML Metadata on a tiny digits run.

Counts executions in ML Metadata, serves the pushed model through PredictRequest protos, re-runs
to prove caching, checks that a run whose thresholds cannot be met pushes nothing, and that
``lsgan run`` with one changed value re-runs the Trainer (the cache follows the config's
values) with a quiet console.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

from lsgan_tf.config import resolve
from pipeline.local_runner import run_local
from serving_requests import predict, rest_body
from pipeline.summary import latest_outputs

from helpers import TINY_PIPELINE as TINY
from pipeline_helpers import executions

COMPONENTS = ["LsganExampleGen", "Trainer", "GanEvaluator", "Pusher"]
LENIENT = "eval.thresholds=fd<=1e9"
# Library noise the console must not show: absl/TFX/Beam "W1201 12:00:00.0 ..." lines, TF's
# C++ "2026-12-01 12:00:00.0: E external/..." lines, and Python warnings.
NOISE = re.compile(r"^[EWI]\d{4} \d\d:|^\d{4}-\d\d-\d\d [\d:.]+: [EWI] |Warning:")


def run(root, thresholds):
    return run_local(root=str(root), config=resolve("digits", overrides=TINY + [thresholds]),
                     source="digits")


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    return root, run(root, LENIENT)


def test_every_component_executes_once_and_pushes(first_run):
    root, where = first_run
    states = executions(root)
    assert {name: states[name] for name in COMPONENTS} == {name: ["COMPLETE"] for name in COMPONENTS}
    outputs = latest_outputs(where.metadata)
    assert outputs["blessed"] and outputs["pushed"]
    assert os.path.dirname(outputs["pushed_to"]) == where.serving_dir
    assert os.path.exists(outputs["samples"]) and os.path.exists(outputs["metrics"])
    metrics = json.load(open(outputs["metrics"]))
    assert metrics["num_samples"] == 300 and metrics["scores"]["fd"] >= 0
    examples = outputs["examples"]
    stats = json.load(open(os.path.join(examples, "stats.json")))
    assert stats["read"] == 1797 and sum(stats["written"].values()) == 1797
    assert open(os.path.join(examples, "labels.txt")).read().split() == [str(d) for d in range(10)]


def test_pushed_model_answers_predict_requests(first_run):
    _, where = first_run
    (version,) = os.listdir(where.serving_dir)
    model_dir = os.path.join(where.serving_dir, version)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "lsgan_digits"
    request.inputs["z"].CopyFrom(tf.make_tensor_proto(np.zeros((3, 8), np.float32)))
    request.inputs["label"].CopyFrom(tf.make_tensor_proto(np.array([0, 4, 9], np.int64)))
    response = predict(model_dir, request)
    images = tf.make_ndarray(response.outputs["images"])
    assert images.dtype == np.uint8 and images.shape == (3, 28, 28, 1)
    assert response.model_spec.signature_name == "serving_default"
    assert rest_body(request)["inputs"]["label"] == [0, 4, 9]

    request = predict_pb2.PredictRequest()
    request.model_spec.signature_name = "generate"
    for key, value in {"n": np.int32(2), "seed": np.int64(5), "label": np.int64(7)}.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    images = tf.make_ndarray(predict(model_dir, request).outputs["images"])
    assert images.shape == (2, 28, 28, 1)


def test_second_run_is_cached_and_unmet_thresholds_do_not_push(first_run):
    root, where = first_run
    run(root, LENIENT)
    states = executions(root)
    assert {name: states[name] for name in COMPONENTS} == {
        name: ["COMPLETE", "CACHED"] for name in COMPONENTS}

    run(root, "eval.thresholds=fd<=-1")
    states = executions(root)
    assert states["Trainer"][-1] == "CACHED" and states["LsganExampleGen"][-1] == "CACHED"
    assert states["GanEvaluator"][-1] == "COMPLETE" and states["Pusher"][-1] == "COMPLETE"
    outputs = latest_outputs(where.metadata)
    assert not outputs["blessed"] and not outputs["pushed"]
    assert any("fd" in reason and "> max -1" in reason for reason in outputs["reasons"])
    assert len(os.listdir(where.serving_dir)) == 1


def lsgan_run(root, *sets):
    """``lsgan run`` as a user's shell starts it (without the test session's log settings)."""
    args = [f"--set={item}" for item in sets]
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "run", f"--root={root}", *args],
                          capture_output=True, text=True, timeout=900, env=env)


def test_cli_rerun_with_a_changed_value_retrains_quietly(first_run):
    root, where = first_run
    result = lsgan_run(root, *TINY, LENIENT, "optim.lr_d=1e-3")
    assert result.returncode == 0, result.stderr[-3000:]
    states = executions(root)
    assert states["LsganExampleGen"][-1] == "CACHED" and states["Trainer"][-1] == "COMPLETE"
    assert len(states["Trainer"]) == 4  # first, cached, cached, this one
    outputs = latest_outputs(where.metadata)
    config = json.load(open(os.path.join(os.path.dirname(outputs["logs"]), "config.json")))
    assert config["optim"]["lr_d"] == 1e-3
    assert json.load(open(outputs["metrics"]))["num_samples"] == 300  # --set eval.num_samples
    noise = [line for line in (result.stdout + result.stderr).splitlines() if NOISE.search(line)]
    assert noise == []
    assert "[lsgan] pipeline finished" in result.stdout


def test_cli_bad_setting_fails_before_any_component(tmp_path):
    result = lsgan_run(tmp_path, "model.g_width=0")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["lsgan run: model.g_width=0: must be >= 1"]
    assert not os.path.exists(tmp_path / "metadata.sqlite") and os.listdir(tmp_path) == []
