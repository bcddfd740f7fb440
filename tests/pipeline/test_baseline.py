"""The evaluator's baseline branch in the real pipeline (LocalDagRunner, SQLite ML Metadata):
``LatestBlessedOtherModelStrategy`` finds the last blessed model other than the candidate,
and ``GanEvaluator`` scores both and compares them, once blessing and once refusing.

Run 1 trains model A (blessed, no baseline). Run 2 trains model B (another seed): its baseline
is A, and B is blessed within a lenient tolerance. Run 3 repeats the run of whichever of A and
B has the higher (worse) FD, with ``eval.tolerance=0``: the Trainer is cached, the resolver
skips the candidate and returns the other model, and the candidate is refused for being worse
than that baseline (its thresholds alone would bless it). What each evaluation compared is
read back from ML Metadata: the evaluator's input events, its ModelBlessing's properties and
the ``blessing.json`` of its ModelEvaluation.
"""
import json
import os

import pytest
from ml_metadata.proto import metadata_store_pb2

from lsgan_tf.config import resolve
from pipeline.local_runner import run_local
from pipeline.summary import open_store

from helpers import TINY_PIPELINE

pytestmark = pytest.mark.slow  # three pipeline runs, two trainings: minutes (6.6 on a busy 2-core box)

LENIENT = ("eval.thresholds=fd<=1e9",)
SEEDS = {"A": "train.seed=0", "B": "train.seed=1"}


def run(root, model, *sets):
    config = resolve("digits", overrides=[*TINY_PIPELINE, *LENIENT, SEEDS[model], *sets])
    return run_local(root=str(root), config=config, source="digits")


def evaluations(metadata):
    """Every executed (not cached) GanEvaluator run, oldest first: its state, the ids of its
    ``model`` and ``baseline_model`` inputs, its blessing's custom properties, and its
    ``blessing.json``."""
    store = open_store(metadata)
    (evaluator_type,) = [t for t in store.get_execution_types() if t.name.endswith("GanEvaluator")]
    found = []
    for execution in sorted(store.get_executions_by_type(evaluator_type.name), key=lambda e: e.id):
        state = metadata_store_pb2.Execution.State.Name(execution.last_known_state)
        if state != "COMPLETE":
            continue
        events = store.get_events_by_execution_ids([execution.id])
        inputs, outputs = {}, {}
        for event in events:
            key = event.path.steps[0].key
            side = inputs if event.type == metadata_store_pb2.Event.INPUT else outputs
            side.setdefault(key, []).append(event.artifact_id)
        (blessing,) = store.get_artifacts_by_id(outputs["blessing"])
        (evaluation,) = store.get_artifacts_by_id(outputs["evaluation"])
        properties = {k: getattr(v, v.WhichOneof("value"))
                      for k, v in blessing.custom_properties.items()}
        with open(os.path.join(evaluation.uri, "blessing.json")) as handle:
            decision = json.load(handle)
        found.append({"model": inputs["model"], "baseline": inputs.get("baseline_model", []),
                      "blessing": properties, "decision": decision,
                      "evaluation_dir": evaluation.uri})
    return found


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("baseline")
    where = run(root, "A")
    first = evaluations(where.metadata)
    where = run(root, "B")
    second = evaluations(where.metadata)
    return root, where, first, second


def test_first_run_has_no_baseline_and_is_blessed(runs):
    _, _, first, _ = runs
    (only,) = first
    assert only["baseline"] == [] and "baseline_model_id" not in only["blessing"]
    assert only["blessing"]["blessed"] == 1 and only["decision"]["baseline_scores"] is None


def test_second_run_is_compared_with_the_first_blessed_model(runs):
    _, where, _, second = runs
    a, b = second
    (model_a,), (model_b,) = a["model"], b["model"]
    assert model_a != model_b  # a new seed: the Trainer ran again
    assert b["baseline"] == [model_a]
    assert b["blessing"]["baseline_model_id"] == model_a
    assert b["blessing"]["current_model_id"] == model_b and b["blessing"]["blessed"] == 1
    decision = b["decision"]
    assert decision["reasons"] == [] and decision["tolerance"] == 10
    # The baseline was scored again, the same way: its scores are A's own from run 1.
    assert os.path.exists(os.path.join(b["evaluation_dir"], "baseline", "metrics.json"))
    for score in ("fd", "precision", "recall"):
        assert decision["baseline_scores"][score] == pytest.approx(
            a["decision"]["scores"][score], rel=1e-4, abs=1e-6), score
    assert len(os.listdir(where.serving_dir)) == 2  # both blessed models were pushed


def test_a_candidate_worse_than_its_baseline_is_refused(runs):
    root, where, _, second = runs
    a, b = second
    fd = {"A": a["decision"]["scores"]["fd"], "B": b["decision"]["scores"]["fd"]}
    worse, better = ("A", "B") if fd["A"] > fd["B"] else ("B", "A")
    assert fd[worse] > fd[better]
    ids = {"A": a["model"][0], "B": b["model"][0]}

    run(root, worse, "eval.tolerance=0")  # only the evaluator's settings changed
    third = evaluations(where.metadata)[-1]
    assert third["model"] == [ids[worse]] and third["baseline"] == [ids[better]]
    assert third["blessing"]["blessed"] == 0
    assert third["blessing"]["baseline_model_id"] == ids[better]
    decision = third["decision"]
    assert decision["scores"]["fd"] == pytest.approx(fd[worse], rel=1e-4)
    assert decision["baseline_scores"]["fd"] == pytest.approx(fd[better], rel=1e-4)
    assert decision["scores"]["fd"] <= 1e9  # the threshold holds: only the baseline refuses
    (reason,) = decision["reasons"]  # fd is thresholded too, and reported once
    assert reason.startswith("fd = ") and "worse than baseline" in reason and "(+0%)" in reason
    assert len(os.listdir(where.serving_dir)) == 2  # nothing new pushed
