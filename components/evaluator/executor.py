"""Executor of ``GanEvaluator``: ``evaluate_generator`` on the candidate (and the baseline),
then ``blessing.decide``; writes the evaluation files and the blessing."""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

from tfx.components.evaluator import executor as tfx_evaluator
from tfx.dsl.io import fileio
from tfx.types import artifact_utils
from tfx.utils import path_utils

from lsgan_tf import blessing as blessing_lib

BLESSING_FILE = "blessing.json"


def eval_config(exec_properties: Dict[str, Any]):
    """The ``EvalConfig`` the pipeline resolved (``eval_config`` JSON)."""
    from lsgan_tf import config as config_lib

    return config_lib.merge_dict(config_lib.EvalConfig(),
                                 json.loads(exec_properties["eval_config"]), "eval")


def _evaluate(model, examples_uri: str, out_dir: str, settings, exec_properties: Dict[str, Any]):
    from lsgan_tf.metrics.evaluate import evaluate_generator

    options = {"path": settings.inception_path} if settings.inception_path else None
    return evaluate_generator(
        path_utils.serving_model_path(model.uri), examples_uri, split="eval", out_dir=out_dir,
        extractor=settings.extractor, num_samples=settings.num_samples,
        extractor_options=options, seed=exec_properties.get("seed") or 0,
        cache_dir=exec_properties.get("cache_dir") or None,
        log=lambda message: print(f"[lsgan] GanEvaluator: {message}", flush=True))


def _write_blessing(artifact, blessed: bool, model, baseline) -> None:
    from tfx.components.evaluator import constants

    name = constants.BLESSED_FILE_NAME if blessed else constants.NOT_BLESSED_FILE_NAME
    with fileio.open(os.path.join(artifact.uri, name), "w") as handle:
        handle.write("")  # an untouched handle creates no file on some file systems (ram://)
    artifact.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY,
                                     constants.BLESSED_VALUE if blessed
                                     else constants.NOT_BLESSED_VALUE)
    artifact.set_string_custom_property("current_model", model.uri)
    artifact.set_int_custom_property("current_model_id", model.id)
    if baseline is not None:
        artifact.set_string_custom_property("baseline_model", baseline.uri)
        artifact.set_int_custom_property("baseline_model_id", baseline.id)


class Executor(tfx_evaluator.Executor):
    """Scores and blesses (``Do`` below; nothing of TFX's TFMA evaluation is used).

    It subclasses TFX's Evaluator executor because Kubeflow V2's container entrypoint
    (``kubeflow_v2_run_executor``) rewrites the ModelBlessing's ``current_model_id`` into the
    model's MLMD resource name only for such subclasses, and the compiled
    ``LatestBlessedModelStrategy`` resolver queries by that name: without it, a second run on
    Vertex AI would never find the last blessed model as the baseline.
    """

    def Do(self, input_dict: Dict[str, List], output_dict: Dict[str, List],
           exec_properties: Dict[str, Any]) -> None:
        model = artifact_utils.get_single_instance(input_dict["model"])
        examples = artifact_utils.get_single_instance(input_dict["examples"])
        baselines = input_dict.get("baseline_model") or []
        baseline = baselines[0] if baselines and baselines[0].id != model.id else None
        evaluation = artifact_utils.get_single_instance(output_dict["evaluation"])
        blessing = artifact_utils.get_single_instance(output_dict["blessing"])

        from lsgan_tf.validation import parse_thresholds

        settings = eval_config(exec_properties)
        thresholds, tolerance = parse_thresholds(settings.thresholds), settings.tolerance
        scores = blessing_lib.derived_scores(_evaluate(model, examples.uri, evaluation.uri,
                                                       settings, exec_properties))
        baseline_scores = None
        if baseline is not None:
            baseline_dir = os.path.join(evaluation.uri, "baseline")
            baseline_scores = blessing_lib.derived_scores(
                _evaluate(baseline, examples.uri, baseline_dir, settings, exec_properties))
        blessed, reasons = blessing_lib.decide(scores, thresholds, baseline_scores, tolerance)
        decision = {"blessed": blessed, "reasons": reasons, "thresholds": thresholds,
                    "tolerance": tolerance, "scores": scores, "baseline_scores": baseline_scores,
                    "baseline_model": baseline.uri if baseline is not None else None}
        with fileio.open(os.path.join(evaluation.uri, BLESSING_FILE), "w") as handle:
            handle.write(json.dumps(decision, indent=2))
        for key in ("fd", "fd_noise_ratio", "precision", "recall", "modes_covered"):
            if key in scores:
                evaluation.set_float_custom_property(key, float(scores[key]))
        _write_blessing(blessing, blessed, model, baseline)
        verdict = "BLESSED" if blessed else "NOT blessed: " + "; ".join(reasons)
        print(f"[lsgan] GanEvaluator: {verdict}", flush=True)
