"""``GanEvaluator``: scores a trained generator and writes the ModelBlessing that Pusher honours.

Inputs: ``model`` (Trainer output), ``examples`` (the data contract), optional ``baseline_model``
(the last blessed model, from a ``LatestBlessedModelStrategy`` resolver).
Outputs: ``evaluation`` (ModelEvaluation: ``metrics.json``, ``samples.png``, ``blessing.json``)
and ``blessing`` (ModelBlessing: a ``BLESSED`` or ``NOT_BLESSED`` file, custom properties
``blessed`` 1/0, ``current_model``/``current_model_id`` and ``baseline_model``/``_id``).
Parameters: ``eval_config``, the JSON of the resolved config's ``eval`` part
(``lsgan_tf.config.EvalConfig``: extractor, num_samples, thresholds, tolerance against the
baseline, inception_path), ``seed``, and ``cache_dir`` for the trained feature extractors.
"""
from __future__ import annotations

import json
from typing import Optional

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.channel import BaseChannel, Channel
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.evaluator import executor


class GanEvaluatorSpec(ComponentSpec):
    PARAMETERS = {
        "eval_config": ExecutionParameter(type=str),
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


class GanEvaluator(base_beam_component.BaseBeamComponent):
    """Scores samples (``lsgan_tf.metrics.evaluate``) and blesses the model or not."""

    SPEC_CLASS = GanEvaluatorSpec
    # A Beam executor spec because the executor subclasses TFX's Evaluator executor (see there).
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, model: BaseChannel, examples: BaseChannel, eval_config,
                 baseline_model: Optional[BaseChannel] = None, seed: int = 0,
                 cache_dir: str = ""):
        """``eval_config``: a ``lsgan_tf.config.EvalConfig`` (the resolved config's ``eval``)."""
        from lsgan_tf import config as config_lib

        super().__init__(spec=GanEvaluatorSpec(
            model=model, examples=examples, baseline_model=baseline_model,
            eval_config=json.dumps(config_lib.to_dict(eval_config), sort_keys=True),
            seed=seed, cache_dir=cache_dir,
            evaluation=Channel(type=standard_artifacts.ModelEvaluation),
            blessing=Channel(type=standard_artifacts.ModelBlessing)))
