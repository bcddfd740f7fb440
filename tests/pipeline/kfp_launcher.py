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
   (with their metadata) for the downstream tasks; with ``metadata=PATH`` it also records them
   in a real ML Metadata store (SQLite at PATH), as the backend does in its metadata service:
   one ``system.ContainerExecution`` per task (COMPLETE, with its task name) in the run's
   ``system.PipelineRun`` context, its input and output artifacts typed by their schema title
   (``tfx.Examples``, ``tfx.Model``, ...) with their properties, linked by INPUT/OUTPUT events.

Where a task runs is the ``runner``'s business: by default a subprocess of this Python (the
image's ``python`` replaced by ``sys.executable``); ``tests/docker_cli.py`` gives one that runs
it in a container of the image.

Resolver tasks (``deploymentSpec.executors[...].resolver``: ML Metadata queries such as "the
latest ModelBlessing with blessed=1") run no container; this launcher resolves them as on a
first run, where nothing matches: every query gives an empty artifact list.
"""
from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Callable, Dict, List, Optional

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2 as pb

EXECUTOR_OUTPUT = "executor_output.json"
# Runs one task's command line: (argv, cwd, env) -> the finished process, output captured.
Runner = Callable[[List[str], str, Optional[Dict[str, str]]], subprocess.CompletedProcess]


def local_runner(argv: List[str], cwd: str, env=None) -> subprocess.CompletedProcess:
    """The task as a subprocess of this Python: the image's ``python`` is this interpreter."""
    if argv[0] in ("python", "python3"):
        argv = [sys.executable, *argv[1:]]
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)


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


class MetadataRecord:
    """What the launcher keeps in ML Metadata (a SQLite store at ``path``)."""

    def __init__(self, path: str, pipeline: str, run_id: str):
        from ml_metadata.metadata_store import metadata_store
        from ml_metadata.proto import metadata_store_pb2 as mlmd

        self.mlmd = mlmd
        config = mlmd.ConnectionConfig()
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = mlmd.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        self.store = metadata_store.MetadataStore(config)
        self.ids: Dict[str, int] = {}  # an output's uri -> its MLMD artifact id
        run_type = self.store.put_context_type(mlmd.ContextType(name="system.PipelineRun"))
        self.context = mlmd.Context(type_id=run_type, name=f"{pipeline}/{run_id}")
        self.context.id = self.store.put_contexts([self.context])[0]

    @staticmethod
    def type_name(schema: pb.ArtifactTypeSchema) -> str:
        """``tfx.Examples`` etc.: the schema's title, given by name or inside its instance
        schema (TFX's compiler writes the YAML schema with its ``title``)."""
        return schema.schema_title or yaml.safe_load(schema.instance_schema)["title"]

    def _artifact(self, given: pb.RuntimeArtifact):
        mlmd = self.mlmd
        type_id = self.store.put_artifact_type(mlmd.ArtifactType(name=self.type_name(given.type)))
        artifact = mlmd.Artifact(type_id=type_id, uri=given.uri, state=mlmd.Artifact.LIVE)
        for key, value in json_format.MessageToDict(given.metadata).items():
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                value = str(value)
            field = artifact.custom_properties[key]
            if isinstance(value, str):
                field.string_value = value
            elif float(value).is_integer():
                field.int_value = int(value)
            else:
                field.double_value = float(value)
        return artifact

    def task(self, name: str, image: str, inputs: Dict[str, pb.ArtifactList],
             outputs: Dict[str, pb.ArtifactList]) -> None:
        """One finished task: its execution, its artifacts and the events between them."""
        mlmd = self.mlmd
        type_id = self.store.put_execution_type(mlmd.ExecutionType(name="system.ContainerExecution"))
        execution = mlmd.Execution(type_id=type_id, last_known_state=mlmd.Execution.COMPLETE)
        execution.custom_properties["task_name"].string_value = name
        execution.custom_properties["image"].string_value = image
        links = []
        for kind, artifacts in ((mlmd.Event.INPUT, inputs), (mlmd.Event.OUTPUT, outputs)):
            for key, listed in artifacts.items():
                for given in listed.artifacts:
                    if kind == mlmd.Event.INPUT:  # recorded by the task that made it
                        artifact = self.store.get_artifacts_by_id([self.ids[given.uri]])[0]
                    else:
                        artifact = self._artifact(given)
                    event = mlmd.Event(type=kind)
                    event.path.steps.add().key = key
                    links.append((given.uri, artifact, event))
        _, artifact_ids, _ = self.store.put_execution(
            execution, [(artifact, event) for _, artifact, event in links], [self.context],
            reuse_context_if_already_exist=True)
        for (uri, _, event), artifact_id in zip(links, artifact_ids):
            if event.type == mlmd.Event.OUTPUT:
                self.ids[uri] = artifact_id


def run_pipeline(path: str, run_id: str = "run-1", workdir: str = ".", env=None,
                 pipeline_root: str = "", runner: Runner = local_runner,
                 metadata: str = "") -> Dict:
    """Runs every task of the compiled pipeline at ``path`` with ``runner``; returns
    ``{task: {output: [RuntimeArtifact as a dict]}}``. A failed task raises with its log.
    ``metadata``: a SQLite path where the tasks are also recorded in ML Metadata."""
    spec, root = load(path, pipeline_root)
    components, executors = spec["components"], spec["deploymentSpec"]["executors"]
    tasks = spec["root"]["dag"]["tasks"]
    run_root = os.path.join(root, spec["pipelineInfo"]["name"], run_id)
    artifact_ids = itertools.count(1)
    outputs: Dict[str, Dict[str, pb.ArtifactList]] = {}  # what the backend keeps in MLMD
    record = MetadataRecord(metadata, spec["pipelineInfo"]["name"], run_id) if metadata else None
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
        result = runner(argv, workdir, env)
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
        if record:
            record.task(name, container.get("image", ""), executor_input.inputs.artifacts,
                        outputs[name])
    return {task: {key: [json_format.MessageToDict(artifact) for artifact in listed.artifacts]
                   for key, listed in produced.items()}
            for task, produced in outputs.items()}
