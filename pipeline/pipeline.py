"""``create_pipeline``: ExampleGen (Beam, data_prep) -> Trainer (lsgan_tf) -> GanEvaluator
(+ the last blessed model as baseline) -> Pusher (only blessed models, TF Serving layout).

``pipeline_name`` (``lsgan_<name>`` locally, and so the serving folder
``<root>/serving/<pipeline_name>``) must be one plain folder name
(``lsgan_tf.output_folder.check_name``): no config ``name`` pushes a model outside its root,
whoever builds the pipeline.

The pipeline carries one resolved, validated ``ExperimentConfig`` (``lsgan_tf.config.resolve``):
the Trainer gets its JSON in ``custom_config`` (so caching follows the values), the evaluator
its ``eval`` part, and the ExampleGen prepares images at the model's size and channels unless
``image_size`` / ``channels`` say otherwise.

TFX is imported module by module (the classes that ``tfx.v1`` names), not through ``tfx.v1``:
that imports every extension too (Vertex AI's client alone is a third of ``lsgan compile``).
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from tfx.components import Pusher, Trainer
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy)
from tfx.orchestration.pipeline import Pipeline
from tfx.proto.pusher_pb2 import PushDestination
from tfx.types import standard_artifacts
from tfx.types.channel import Channel

from components.evaluator.baseline import LatestBlessedOtherModelStrategy
from components.evaluator.component import GanEvaluator
from components.example_gen.component import LsganExampleGen
from components.trainer.module import trainer_custom_config
from lsgan_tf.config import ExperimentConfig
from lsgan_tf.output_folder import check_name

TRAINER_RUN_FN = "components.trainer.module.run_fn"


def create_pipeline(*, pipeline_name: str, pipeline_root: str, config: ExperimentConfig,
                    source: str, input_path: str = "", image_size: Optional[int] = None,
                    channels: Optional[int] = None, charset: Optional[str] = None,
                    max_records: Optional[int] = None, serving_dir: str,
                    beam_pipeline_args: Sequence[str] = (), enable_cache: bool = True,
                    metadata_connection_config=None, extractor_cache_dir: str = "",
                    kubeflow: bool = False) -> Pipeline:
    """The LSGAN pipeline for a resolved ``config``; every other knob is an explicit keyword.

    ``kubeflow=True`` resolves the baseline with TFX's ``LatestBlessedModelStrategy`` (the only
    blessed-model resolver KubeflowV2DagRunner compiles); locally ``LatestBlessedOtherModelStrategy``
    keeps the evaluator cacheable when the Trainer was cached. ``UsageError`` for a
    ``pipeline_name`` that is not one plain folder name (of TFX's 63 characters at most).
    """
    check_name("pipeline_name", pipeline_name, max_length=63)
    model = config.model
    makes_images = model.image_size > 0
    example_gen = LsganExampleGen(
        source=source, input_path=input_path,
        image_size=image_size or (model.image_size if makes_images else None),
        channels=channels or (model.channels if makes_images else None),
        charset=charset, eval_fraction=config.data.eval_fraction, max_records=max_records)
    trainer = Trainer(run_fn=TRAINER_RUN_FN, examples=example_gen.outputs["examples"],
                      custom_config=trainer_custom_config(config))
    history = dict(model=Channel(type=standard_artifacts.Model),
                   model_blessing=Channel(type=standard_artifacts.ModelBlessing))
    if kubeflow:
        baseline = Resolver(strategy_class=LatestBlessedModelStrategy, **history)
    else:
        baseline = Resolver(strategy_class=LatestBlessedOtherModelStrategy,
                            candidate=trainer.outputs["model"], **history)
    baseline = baseline.with_id("latest_blessed_model_resolver")
    evaluator = GanEvaluator(model=trainer.outputs["model"],
                             examples=example_gen.outputs["examples"],
                             baseline_model=baseline.outputs["model"], eval_config=config.eval,
                             seed=config.train.seed, cache_dir=extractor_cache_dir)
    pusher = Pusher(
        model=trainer.outputs["model"], model_blessing=evaluator.outputs["blessing"],
        push_destination=PushDestination(
            filesystem=PushDestination.Filesystem(base_directory=serving_dir)))
    components: List = [example_gen, trainer, baseline, evaluator, pusher]
    return Pipeline(pipeline_name=pipeline_name, pipeline_root=pipeline_root,
                    components=components, enable_cache=enable_cache,
                    metadata_connection_config=metadata_connection_config,
                    beam_pipeline_args=list(beam_pipeline_args))
