"""The compiled Kubeflow pipeline runs: ``lsgan compile``'s spec, executed task by task as a
KFP v2 launcher does (``kfp_launcher``: ExecutorInput in, TFX's Kubeflow V2 container
entrypoint, ExecutorOutput out, artifact metadata carried downstream), on a tiny digits run.

No cluster: subprocesses of this Python stand in for the pods of the image and a local
folder for the bucket. Every artifact must be where the spec and the launcher put it.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

import kfp_launcher
from helpers import TINY_PIPELINE

pytestmark = pytest.mark.slow  # 3 to 4 minutes on 2 CPU cores: compile + 4 containers

# The tiny pipeline run, with thresholds any model meets (so it is pushed).
SETTINGS = [*TINY_PIPELINE, "eval.thresholds=fd<=1e9"]
RUN_ID = "run-1"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kubeflow")
    spec_path, root = tmp / "pipeline.json", tmp / "root"
    compiled = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "compile", "--image=lsgan-tfx:test",
         f"--root={root}", f"--output={spec_path}", *[f"--set={item}" for item in SETTINGS]],
        capture_output=True, text=True, timeout=600)
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    assert "is a local path" in compiled.stderr  # a folder, not a bucket: expected here
    pod = tmp / "pod"  # the containers' working directory
    pod.mkdir()
    outputs = kfp_launcher.run_pipeline(str(spec_path), run_id=RUN_ID, workdir=str(pod))
    spec, spec_root = kfp_launcher.load(str(spec_path))
    assert spec_root == str(root)
    return {"spec": spec, "root": str(root), "outputs": outputs, "pod": pod}


def artifact(run, task, key):
    (single,) = run["outputs"][task][key]
    return single


def test_every_task_ran_and_outputs_are_under_the_pipeline_root(run):
    tasks = run["spec"]["root"]["dag"]["tasks"]
    assert set(run["outputs"]) == set(tasks)
    resolvers = [name for name in tasks if "resolver" in name]
    assert len(resolvers) == 2  # the blessing query, then the model it names
    for name in resolvers:  # first run: no blessed model yet
        assert all(found == [] for found in run["outputs"][name].values())
    run_root = os.path.join(run["root"], run["spec"]["pipelineInfo"]["name"], RUN_ID)
    for task in ("LsganExampleGen", "Trainer", "GanEvaluator", "Pusher"):
        for key, (output,) in run["outputs"][task].items():
            assert output["uri"] == os.path.join(run_root, task, key)
    assert os.listdir(run["pod"]) == []  # nothing written outside the root


def test_examples_hold_the_data_contract(run):
    examples = artifact(run, "LsganExampleGen", "examples")
    assert json.loads(examples["metadata"]["split_names"]) == ["train", "eval"]
    uri = examples["uri"]
    for split in ("train", "eval"):
        assert glob.glob(os.path.join(uri, f"Split-{split}", "*.tfrecord.gz"))
    assert open(os.path.join(uri, "labels.txt")).read().split() == [str(d) for d in range(10)]
    stats = json.load(open(os.path.join(uri, "stats.json")))
    assert stats["read"] == 1797 and sum(stats["written"].values()) == 1797


def test_trainer_got_the_config_and_wrote_the_model(run):
    model = artifact(run, "Trainer", "model")
    assert os.path.isfile(os.path.join(model["uri"], "Format-Serving", "saved_model.pb"))
    # The resolved config reached run_fn through the spec's custom_config.
    config = json.load(open(os.path.join(artifact(run, "Trainer", "model_run")["uri"],
                                         "config.json")))
    assert config["train"]["steps"] == 4 and config["model"]["g_width"] == 8


def test_evaluator_got_its_eval_config_and_blessed_the_model(run):
    blessing = artifact(run, "GanEvaluator", "blessing")
    assert blessing["metadata"]["blessed"] == 1
    assert os.path.isfile(os.path.join(blessing["uri"], "BLESSED"))
    evaluation = artifact(run, "GanEvaluator", "evaluation")["uri"]
    assert json.load(open(os.path.join(evaluation, "metrics.json")))["num_samples"] == 300
    decision = json.load(open(os.path.join(evaluation, "blessing.json")))
    assert decision["blessed"] and decision["thresholds"] == {"fd": {"max": 1e9}}


def test_pusher_honoured_the_blessing_and_pushed_to_the_spec_serving_dir(run):
    params = run["spec"]["root"]["dag"]["tasks"]["Pusher"]["inputs"]["parameters"]
    destination = json.loads(
        params["push_destination"]["runtimeValue"]["constantValue"]["stringValue"])
    serving_dir = destination["filesystem"]["base_directory"]
    assert serving_dir == os.path.join(run["root"], "serving", "lsgan_digits")
    (version,) = os.listdir(serving_dir)
    assert version.isdigit()
    assert os.path.isfile(os.path.join(serving_dir, version, "saved_model.pb"))
    pushed = artifact(run, "Pusher", "pushed_model")["metadata"]
    assert pushed["pushed"] == 1 and pushed["pushed_destination"] == os.path.join(serving_dir,
                                                                                 version)


def test_blessing_names_the_model_as_the_resolver_query_expects(run):
    executors = run["spec"]["deploymentSpec"]["executors"]
    query = executors["latest_blessed_model_resolver-model-resolver_executor"]["resolver"]
    assert "metadata['current_model_id']" in query["outputArtifactQueries"]["model"]["filter"]
    blessing = artifact(run, "GanEvaluator", "blessing")
    assert blessing["metadata"]["current_model_id"] == artifact(run, "Trainer", "model")["name"]
