"""Compiles the pipeline for Kubeflow Pipelines / Vertex with ``KubeflowV2DagRunner``.

The container image must hold this project (``pip install .``) so that the components and
``components.trainer.module.run_fn`` import; the pipeline root is usually a ``gs://`` path.
"""
from __future__ import annotations

import os
from typing import NamedTuple, Optional, Sequence

from tfx.orchestration.kubeflow.v2.kubeflow_v2_dag_runner import (
    KubeflowV2DagRunner, KubeflowV2DagRunnerConfig)

from lsgan_tf.config import ExperimentConfig
from pipeline.pipeline import create_pipeline


class TrainerResources(NamedTuple):
    """The Trainer pod's resources: CPU and memory limits (vCPUs, GB; 0 = the backend's
    default) and accelerators (``accelerator`` is the backend's name, e.g. Vertex AI's
    ``NVIDIA_TESLA_T4``, Kubeflow's ``nvidia.com/gpu``; ``count`` 0 = none)."""
    cpu: float = 0
    memory_gb: float = 0
    accelerator: str = ""
    count: int = 0


def trainer_resource_spec(resources: TrainerResources):
    """The KFP ``ResourceSpec`` that TFX 1.16's Kubeflow V2 compiler copies from a component's
    platform config into its container's ``resources``."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    spec = pipeline_spec_pb2.PipelineDeploymentConfig.PipelineContainerSpec.ResourceSpec(
        cpu_limit=resources.cpu, memory_limit=resources.memory_gb)
    if resources.count:
        spec.accelerator.type = resources.accelerator
        spec.accelerator.count = resources.count
    return spec


def compile_pipeline(*, config: ExperimentConfig, image: str, output: str, source: str,
                     input_path: str = "", pipeline_root: str, serving_dir: str,
                     beam_args: Sequence[str] = (), pipeline_name: Optional[str] = None,
                     trainer_resources: Optional[TrainerResources] = None,
                     **pipeline_kwargs) -> str:
    """Writes the pipeline JSON for a resolved ``config`` to ``output``; returns its path.
    ``trainer_resources`` gives the Trainer's pod CPUs, memory and GPUs (or TPUs)."""
    pipeline = create_pipeline(
        pipeline_name=pipeline_name or f"lsgan-{config.name.replace('_', '-')}",
        pipeline_root=pipeline_root, config=config, source=source, input_path=input_path,
        serving_dir=serving_dir, beam_pipeline_args=list(beam_args),
        kubeflow=True, **pipeline_kwargs)
    if trainer_resources is not None:
        trainer = next(c for c in pipeline.components if c.id == "Trainer")
        trainer.with_platform_config(trainer_resource_spec(trainer_resources))
    runner = KubeflowV2DagRunner(
        config=KubeflowV2DagRunnerConfig(default_image=image),
        output_dir=os.path.dirname(os.path.abspath(output)),
        output_filename=os.path.basename(output))
    runner.run(pipeline)
    return os.path.abspath(output)
