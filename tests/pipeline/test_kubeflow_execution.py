"""The compiled Kubeflow pipeline runs: ``lsgan compile``'s spec, executed task by task as a
KFP v2 launcher does (``kfp_launcher``: ExecutorInput in, TFX's Kubeflow V2 container
entrypoint, ExecutorOutput out, artifact metadata carried downstream and recorded in ML
Metadata), on a tiny digits run.

No cluster; a local folder stands in for the bucket, and for the pods of the image either
subprocesses of this Python (``process``, marker ``slow``) or real containers of the project's
image (``container``, marker ``containers``: ``make test-containers`` builds the image and
starts a Docker engine when none answers). Every artifact must be where the spec and the
launcher put it.
"""
import glob
import json
import os
import subprocess
import sys

import pytest

import docker_cli
import kfp_launcher
from helpers import TINY_PIPELINE

# The tiny pipeline run, with thresholds any model meets (so it is pushed).
SETTINGS = [*TINY_PIPELINE, "eval.thresholds=fd<=1e9"]
RUN_ID = "run-1"
TASKS = ("LsganExampleGen", "Trainer", "GanEvaluator", "Pusher")
# Both signatures of a pushed SavedModel, called where the model is served (``sys.argv[1]``).
CALL_SIGNATURES = """
import json, sys
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
labelled = int(model.num_classes) > 0  # digits: the conditional model, a class per sample
serve = {"z": tf.zeros([2, int(model.z_dim)])}
generate = {"n": tf.constant(3), "seed": tf.constant(7, tf.int64)}
if labelled:
    serve["label"], generate["label"] = tf.constant([0, 9], tf.int64), tf.constant(3, tf.int64)
outputs = {"serve": model.signatures["serving_default"](**serve)["images"],
           "generate": model.signatures["generate"](**generate)["images"]}
print(json.dumps({key: [list(value.shape), value.dtype.name] for key, value in outputs.items()}))
"""


def compile_spec(tmp, image):
    spec_path, root = tmp / "pipeline.json", tmp / "root"
    compiled = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "compile", f"--image={image}",
         f"--root={root}", f"--output={spec_path}", *[f"--set={item}" for item in SETTINGS]],
        capture_output=True, text=True, timeout=600)
    assert compiled.returncode == 0, compiled.stderr[-3000:]
    assert "is a local path" in compiled.stderr  # a folder, not a bucket: expected here
    return spec_path, root


# 3 to 4 minutes each on 2 CPU cores: compile + 4 tasks, each its own process or container.
@pytest.fixture(scope="module", params=[pytest.param("process", marks=pytest.mark.slow),
                                        pytest.param("container", marks=pytest.mark.containers)])
def run(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"kubeflow_{request.param}")
    image = docker_cli.image_under_test() if request.param == "container" else "lsgan-tfx:test"
    spec_path, root = compile_spec(tmp, image)
    pod = tmp / "pod"  # the containers' working directory
    pod.mkdir()
    metadata, timings = tmp / "metadata.sqlite", {}
    with docker_cli.Containers(image, mounts=[tmp]) as containers:
        runner = containers.runner(timings) if request.param == "container" \
            else kfp_launcher.local_runner
        outputs = kfp_launcher.run_pipeline(str(spec_path), run_id=RUN_ID, workdir=str(pod),
                                            runner=runner, metadata=str(metadata))
        if request.param == "container":
            print("\ncontainer task wall times (s): " + ", ".join(
                f"{task} {seconds:.1f}" for task, seconds in timings.items()))
    spec, spec_root = kfp_launcher.load(str(spec_path))
    assert spec_root == str(root)
    return {"spec": spec, "root": str(root), "outputs": outputs, "pod": pod, "image": image,
            "metadata": str(metadata), "kind": request.param, "tmp": tmp}


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
    for task in TASKS:
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


def test_pushed_model_answers_both_signatures(run):
    (pushed,) = run["outputs"]["Pusher"]["pushed_model"]
    path = pushed["metadata"]["pushed_destination"]
    argv = ["python", "-c", CALL_SIGNATURES, path]
    if run["kind"] == "container":  # served from the image
        with docker_cli.Containers(run["image"], mounts=[run["tmp"]]) as containers:
            called = containers.run(argv)
    else:
        called = kfp_launcher.local_runner(argv, str(run["pod"]))
    assert called.returncode == 0, called.stderr[-3000:]
    shapes = json.loads(called.stdout.strip().splitlines()[-1])
    assert shapes == {"serve": [[2, 28, 28, 1], "uint8"], "generate": [[3, 28, 28, 1], "uint8"]}


def test_ml_metadata_records_each_task_its_artifacts_and_lineage(run):
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2 as mlmd

    config = mlmd.ConnectionConfig()
    config.sqlite.filename_uri = run["metadata"]
    config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READONLY
    store = metadata_store.MetadataStore(config)
    (context,) = store.get_contexts_by_type("system.PipelineRun")
    assert context.name == f"{run['spec']['pipelineInfo']['name']}/{RUN_ID}"
    executions = store.get_executions_by_context(context.id)
    by_task = {e.custom_properties["task_name"].string_value: e for e in executions}
    assert sorted(by_task) == sorted(TASKS)  # the resolvers run no container
    assert all(e.last_known_state == mlmd.Execution.COMPLETE for e in executions)
    assert {e.custom_properties["image"].string_value for e in executions} == {run["image"]}

    def events(task, kind):
        found = store.get_events_by_execution_ids([by_task[task].id])
        return {event.path.steps[0].key: store.get_artifacts_by_id([event.artifact_id])[0]
                for event in found if event.type == kind}

    examples = events("LsganExampleGen", mlmd.Event.OUTPUT)["examples"]
    assert examples.uri == artifact(run, "LsganExampleGen", "examples")["uri"]
    assert store.get_artifact_types_by_id([examples.type_id])[0].name == "tfx.Examples"
    assert events("Trainer", mlmd.Event.INPUT)["examples"].id == examples.id
    model = events("Trainer", mlmd.Event.OUTPUT)["model"]
    assert events("GanEvaluator", mlmd.Event.INPUT)["model"].id == model.id
    blessing = events("GanEvaluator", mlmd.Event.OUTPUT)["blessing"]
    assert blessing.custom_properties["blessed"].int_value == 1
    assert events("Pusher", mlmd.Event.INPUT)["model_blessing"].id == blessing.id
    pushed = events("Pusher", mlmd.Event.OUTPUT)["pushed_model"]
    assert pushed.custom_properties["pushed"].int_value == 1
