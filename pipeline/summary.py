"""What a local run left behind, read back from ML Metadata: scores, blessing, pushed model,
sample grid, TensorBoard logs; and the console summary that ``lsgan run`` ends with."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.dsl.io import fileio

ARTIFACT_TYPES = ("ModelEvaluation", "ModelBlessing", "PushedModel", "ModelRun", "Examples")


def open_store(metadata_path: str) -> metadata_store.MetadataStore:
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = metadata_path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return metadata_store.MetadataStore(config)


def _latest(store, type_name: str) -> Optional[metadata_store_pb2.Artifact]:
    artifacts = store.get_artifacts_by_type(type_name)
    return max(artifacts, key=lambda a: a.id) if artifacts else None


def _custom(artifact, key: str):
    if artifact is None or key not in artifact.custom_properties:
        return None
    value = artifact.custom_properties[key]
    return value.WhichOneof("value") and getattr(value, value.WhichOneof("value"))


def latest_outputs(metadata_path: str) -> Dict[str, Any]:
    """The newest artifact of each output type, with the facts a user asks for first."""
    store = open_store(metadata_path)
    latest = {name: _latest(store, name) for name in ARTIFACT_TYPES}
    evaluation, blessing, pushed = (latest["ModelEvaluation"], latest["ModelBlessing"],
                                    latest["PushedModel"])
    decision = {}
    if evaluation is not None and fileio.exists(os.path.join(evaluation.uri, "blessing.json")):
        with fileio.open(os.path.join(evaluation.uri, "blessing.json")) as handle:
            decision = json.loads(handle.read())
    executions = store.get_executions()
    states = {}
    for execution in executions:
        state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
        states[state] = states.get(state, 0) + 1
    return {
        "scores": decision.get("scores", {}),
        "blessed": _custom(blessing, "blessed") == 1,
        "reasons": decision.get("reasons", []),
        "pushed": _custom(pushed, "pushed") == 1,
        "pushed_to": _custom(pushed, "pushed_destination"),
        "samples": os.path.join(evaluation.uri, "samples.png") if evaluation else None,
        "metrics": os.path.join(evaluation.uri, "metrics.json") if evaluation else None,
        "logs": os.path.join(latest["ModelRun"].uri, "logs") if latest["ModelRun"] else None,
        "examples": latest["Examples"].uri if latest["Examples"] else None,
        "executions": states,
    }


def format_summary(outputs: Dict[str, Any], metadata_path: str, seconds: float) -> str:
    """Scores (the model next to real train data and noise), verdict and output paths."""
    from lsgan_tf.metrics.evaluate import format_table

    lines = [f"\n[lsgan] pipeline finished in {seconds:.0f}s "
             f"(executions: {', '.join(f'{n} {s.lower()}' for s, n in outputs['executions'].items())})"]
    if outputs["metrics"] and fileio.exists(outputs["metrics"]):
        with fileio.open(outputs["metrics"]) as handle:
            lines.append(format_table(json.loads(handle.read())))
    if "fd_noise_ratio" in outputs["scores"]:
        lines.append(f"fd / fd(noise)      {outputs['scores']['fd_noise_ratio']:.4g}")
    verdict = "yes" if outputs["blessed"] else "no (" + "; ".join(outputs["reasons"]) + ")"
    lines.append(f"  blessed            {verdict}")
    lines.append(f"  pushed model       {outputs['pushed_to'] if outputs['pushed'] else 'not pushed'}")
    lines.append(f"  sample grid        {outputs['samples']}")
    lines.append(f"  metrics            {outputs['metrics']}")
    lines.append(f"  examples           {outputs['examples']}")
    lines.append(f"  metadata           {metadata_path}")
    lines.append(f"  tensorboard        tensorboard --logdir {outputs['logs']}")
    return "\n".join(lines)
