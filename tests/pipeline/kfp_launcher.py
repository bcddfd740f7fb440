"""What a Kubeflow Pipelines v2 launcher does with a compiled pipeline spec, on one machine.

A test helper, and documentation: the KFP backend (and Vertex AI Pipelines) runs each task of
``lsgan compile``'s spec in a pod of the image the spec names; here a subprocess of this
Python stands in for the pod and a local folder for the bucket. For every task, in dependency
order (``dependentTasks`` and the producers of its input artifacts), the launcher

1. builds the task's ``ExecutorInput`` proto (``kfp.pipeline_spec.pipeline_spec_pb2``):
   ``inputs.parameters``  the task's constant parameters (TFX writes pipeline spec schema 2.0.0:
                          ``runtimeValue.constantValue`` {intValue|doubleValue|stringValue}, which
                          TFX's entrypoint reads from ``parameters``, not ``parameterValues``);
   ``inputs.artifacts``   the upstream outputs as their executors reported them: uri, name and
                          ``metadata`` (TFX properties and custom properties, e.g. a ModelBlessing's
                          ``blessed``), typed by the component's ``inputDefinitions``;
   ``outputs.artifacts``  one new artifact per output: ``<root>/<pipeline>/<run>/<task>/<output>``;
   ``outputs.outputFile`` ``<root>/<pipeline>/<run>/<task>/executor_output.json``;
2. replaces the placeholder ``{{$}}`` in the executor's ``container.command`` + ``args`` by that
   proto as JSON, and runs them (``python`` of the image -> ``sys.executable``). For TFX the
   command is ``python -m tfx.orchestration.kubeflow.v2.container.kubeflow_v2_run_executor
   --executor_class_path EXECUTOR --json_serialized_invocation_args {{$}} [beam args]``;
3. reads the ``ExecutorOutput`` the executor wrote to ``outputFile`` and keeps its artifacts
   (with their metadata) for the downstream tasks, as the backend records them in ML Metadata.

Resolver tasks (``deploymentSpec.executors[...].resolver``: ML Metadata queries such as "the
latest ModelBlessing with blessed=1") run no container; this launcher resolves them as on a
first run, where nothing matches: every query gives an empty artifact list.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Dict, List

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

EXECUTOR_OUTPUT = "executor_output.json"


def load(path: str, pipeline_root: str = ""):
    """(PipelineSpec dict, pipeline root) from a compiled file: TFX's JSON is a whole PipelineJob
    (``pipelineSpec`` + ``runtimeConfig.gcsOutputDirectory``); its YAML is the bare
    PipelineSpec, whose root is given when a run is submitted."""
    with open(path, encoding="utf-8") as handle:
        document = yaml.safe_load(handle)  # JSON is YAML
    if "pipelineSpec" in document:
        return document["pipelineSpec"], document["runtimeConfig"]["gcsOutputDirectory"]
    return document, pipeline_root


def upstream(task: Dict) -> set:
    """Tasks this one waits for: declared dependencies and the producers of its inputs."""
    producers = {value["taskOutputArtifact"]["producerTask"]
                 for value in task.get("inputs", {}).get("artifacts", {}).values()
                 if "taskOutputArtifact" in value}
    return set(task.get("dependentTasks", [])) | producers


def dependency_order(tasks: Dict[str, Dict]) -> List[str]:
    order: List[str] = []
    while len(order) < len(tasks):
        ready = sorted(name for name, task in tasks.items()
                       if name not in order and upstream(task) <= set(order))
        if not ready:
            raise ValueError(f"the DAG has a cycle among {sorted(set(tasks) - set(order))}")
        order += ready
    return order


def constant_parameters(task: Dict, inputs: pb.ExecutorInput.Inputs) -> None:
    """The task's constant parameters, in the field the spec's schema version uses."""
    for name, value in task.get("inputs", {}).get("parameters", {}).items():
        runtime = value["runtimeValue"]
        if "constantValue" in runtime:  # schema 2.0.0: pipeline_spec Value
            json_format.ParseDict(runtime["constantValue"], inputs.parameters[name])
        else:  # schema 2.1.0 (use_pipeline_spec_2_1; not what lsgan compile writes)
            json_format.ParseDict(runtime["constant"], inputs.parameter_values[name])


def run_pipeline(path: str, run_id: str = "run-1", workdir: str = ".", env=None,
                 pipeline_root: str = "") -> Dict:
    """Runs every task of the compiled pipeline at ``path``; returns
    ``{task: {output: [RuntimeArtifact as a dict]}}``. A failed task raises with its log."""
    spec, root = load(path, pipeline_root)
    components, executors = spec["components"], spec["deploymentSpec"]["executors"]
    tasks = spec["root"]["dag"]["tasks"]
    run_root = os.path.join(root, spec["pipelineInfo"]["name"], run_id)
    artifact_ids = itertools.count(1)
    outputs: Dict[str, Dict[str, pb.ArtifactList]] = {}  # what the backend keeps in MLMD
    for name in dependency_order(tasks):
        task = tasks[name]
        component = components[task["componentRef"]["name"]]
        executor = executors[component["executorLabel"]]
        produces = component.get("outputDefinitions", {}).get("artifacts", {})
        if "resolver" in executor:  # first run: no artifact matches any query
            outputs[name] = {key: pb.ArtifactList() for key in produces}
            continue

        task_root = os.path.join(run_root, name)
        os.makedirs(task_root, exist_ok=True)
        executor_input = pb.ExecutorInput()
        constant_parameters(task, executor_input.inputs)
        for key, value in task.get("inputs", {}).get("artifacts", {}).items():
            source = value["taskOutputArtifact"]
            given = executor_input.inputs.artifacts[key]
            given.CopyFrom(outputs[source["producerTask"]][source["outputArtifactKey"]])
            artifact_type = component["inputDefinitions"]["artifacts"][key]["artifactType"]
            for artifact in given.artifacts:
                json_format.ParseDict(artifact_type, artifact.type)
        for key, definition in produces.items():
            artifact = executor_input.outputs.artifacts[key].artifacts.add(
                name=f"artifacts/{next(artifact_ids)}",  # the metadata store's id for it
                uri=os.path.join(task_root, key))
            json_format.ParseDict(definition["artifactType"], artifact.type)
            # A bucket has no directories to create; a local folder standing in for it does.
            os.makedirs(artifact.uri, exist_ok=True)
        executor_input.outputs.output_file = os.path.join(task_root, EXECUTOR_OUTPUT)

        container = executor["container"]
        invocation = json_format.MessageToJson(executor_input)
        argv = [invocation if arg == "{{$}}" else arg
                for arg in container.get("command", []) + container.get("args", [])]
        if argv[0] in ("python", "python3"):
            argv[0] = sys.executable
        result = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True)
        with open(os.path.join(task_root, "log.txt"), "w", encoding="utf-8") as log:
            log.write(result.stdout + result.stderr)  # the pod's log
        if result.returncode != 0 or not os.path.exists(executor_input.outputs.output_file):
            raise RuntimeError(f"task {name} failed (exit {result.returncode}):\n"
                               f"{(result.stdout + result.stderr)[-5000:]}")

        reported = pb.ExecutorOutput()
        with open(executor_input.outputs.output_file, encoding="utf-8") as handle:
            json_format.Parse(handle.read(), reported, ignore_unknown_fields=True)
        outputs[name] = {}
        for key, given in executor_input.outputs.artifacts.items():
            recorded = outputs[name][key] = pb.ArtifactList()
            recorded.CopyFrom(reported.artifacts[key] if key in reported.artifacts else given)
            for artifact, sent in zip(recorded.artifacts, given.artifacts):
                artifact.type.CopyFrom(sent.type)  # the output file does not repeat the type
    return {task: {key: [json_format.MessageToDict(artifact) for artifact in listed.artifacts]
                   for key, listed in produced.items()}
            for task, produced in outputs.items()}
