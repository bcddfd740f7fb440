"""``GanEvaluator``: scores a trained generator and writes the ModelBlessing that Pusher honours.

Inputs: ``model`` (Trainer output), ``examples`` (the data contract), optional ``baseline_model``
(the last blessed model, from a ``LatestBlessedModelStrategy`` resolver).
Outputs: ``evaluation`` (ModelEvaluation: ``metrics.json``, ``samples.png``, ``blessing.json``)
and ``blessing`` (ModelBlessing: a ``BLESSED`` or ``NOT_BLESSED`` file, custom properties
``blessed`` 1/0, ``current_model``/``current_model_id`` and ``baseline_model``/``_id``).
Parameters: ``preset`` (picks default thresholds), ``thresholds`` (JSON, see
``components.evaluator.blessing``), ``tolerance`` against the baseline, ``extractor``,
``num_samples``, ``seed`` and ``cache_dir`` for the trained feature extractors.
"""
from __future__ import annotations

import json
from typing import Mapping, Optional

from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.channel import BaseChannel, Channel
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.evaluator import executor


class GanEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "preset": ExecutionParameter(type=str),
        "thresholds": ExecutionParameter(type=str, optional=True),
        "tolerance": ExecutionParameter(type=float, optional=True),
        "extractor": ExecutionParameter(type=str, optional=True),
        "num_samples": ExecutionParameter(type=int, optional=True),
        "seed": ExecutionParameter(type=int, optional=True),
        "cache_dir": ExecutionParameter(type=str, optional=True),
    }
    INPUTS = {
        "model": ChannelParameter(type=standard_artifacts.Model),
        "examples": ChannelParameter(type=standard_artifacts.Examples),
        "baseline_model": ChannelParameter(type=standard_artifacts.Model, optional=True),
    }
    OUTPUTS = {
        "evaluation": ChannelParameter(type=standard_artifacts.ModelEvaluation),
        "blessing": ChannelParameter(type=standard_artifacts.ModelBlessing),
    }


class GanEvaluator(base_component.BaseComponent):
    """Scores samples (``lsgan_tf.metrics.evaluate``) and blesses the model or not."""

    SPEC_CLASS = GanEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(self, model: BaseChannel, examples: BaseChannel, preset: str,
                 baseline_model: Optional[BaseChannel] = None,
                 thresholds: Optional[Mapping[str, Mapping[str, float]]] = None,
                 tolerance: float = 0.1, extractor: str = "auto",
                 num_samples: Optional[int] = None, seed: int = 0, cache_dir: str = ""):
        super().__init__(spec=GanEvaluatorSpec(
            model=model, examples=examples, baseline_model=baseline_model, preset=preset,
            thresholds=json.dumps(thresholds, sort_keys=True) if thresholds is not None else None,
            tolerance=tolerance, extractor=extractor, num_samples=num_samples, seed=seed,
            cache_dir=cache_dir,
            evaluation=Channel(type=standard_artifacts.ModelEvaluation),
            blessing=Channel(type=standard_artifacts.ModelBlessing)))
