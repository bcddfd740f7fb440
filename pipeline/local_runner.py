"""Runs the pipeline with ``LocalDagRunner`` and SQLite ML Metadata.

Layout under ``root``: ``metadata.sqlite`` (ML Metadata), ``pipeline/`` (artifacts, one folder
per component and execution), ``serving/<model name>/<version>/`` (pushed generators, TF
Serving's layout), ``extractors/`` (feature networks trained for the evaluation, reused).
"""
from __future__ import annotations

import os
from typing import NamedTuple, Optional, Sequence

from tfx.orchestration.local.local_dag_runner import LocalDagRunner
from tfx.orchestration.metadata import sqlite_metadata_connection_config

from lsgan_tf.config import ExperimentConfig
from pipeline.pipeline import create_pipeline

DEFAULT_BEAM_ARGS = ("--direct_running_mode=in_memory",)


class LocalLayout(NamedTuple):
    root: str
    pipeline_root: str
    metadata: str
    serving_dir: str
    extractor_cache: str


def layout(root: str, model_name: str) -> LocalLayout:
    root = os.path.abspath(root)
    return LocalLayout(root, os.path.join(root, "pipeline"), os.path.join(root, "metadata.sqlite"),
                       os.path.join(root, "serving", model_name), os.path.join(root, "extractors"))


def run_local(*, root: str, config: ExperimentConfig, source: str, input_path: str = "",
              beam_args: Optional[Sequence[str]] = None, pipeline_name: Optional[str] = None,
              enable_cache: bool = True, **pipeline_kwargs) -> LocalLayout:
    """Builds and runs the pipeline for a resolved ``config`` under ``root``; returns where
    everything is."""
    name = pipeline_name or f"lsgan_{config.name}"
    where = layout(root, name)
    pipeline = create_pipeline(
        pipeline_name=name, pipeline_root=where.pipeline_root, config=config, source=source,
        input_path=input_path, serving_dir=where.serving_dir,
        beam_pipeline_args=list(DEFAULT_BEAM_ARGS if beam_args is None else beam_args),
        enable_cache=enable_cache, extractor_cache_dir=where.extractor_cache,
        metadata_connection_config=sqlite_metadata_connection_config(where.metadata),
        **pipeline_kwargs)
    LocalDagRunner().run(pipeline)
    return where
