"""Compiles the pipeline for Kubeflow Pipelines / Vertex with ``KubeflowV2DagRunner``.

The container image must hold this project (``pip install .``) so that the components and
``components.trainer.module.run_fn`` import; the pipeline root is usually a ``gs://`` path.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

from tfx import v1 as tfx

from lsgan_tf.config import ExperimentConfig
from pipeline.pipeline import create_pipeline


def compile_pipeline(*, config: ExperimentConfig, image: str, output: str, source: str,
                     input_path: str = "", pipeline_root: str, serving_dir: str,
                     beam_args: Sequence[str] = (), pipeline_name: Optional[str] = None,
                     **pipeline_kwargs) -> str:
    """Writes the pipeline JSON for a resolved ``config`` to ``output``; returns its path."""
    pipeline = create_pipeline(
        pipeline_name=pipeline_name or f"lsgan-{config.name.replace('_', '-')}",
        pipeline_root=pipeline_root, config=config, source=source, input_path=input_path,
        serving_dir=serving_dir, beam_pipeline_args=list(beam_args),
        kubeflow=True, **pipeline_kwargs)
    runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
        config=tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output)),
        output_filename=os.path.basename(output))
    runner.run(pipeline)
    return os.path.abspath(output)
