"""``LsganExampleGen``: a Beam component that runs ``data_prep`` and writes an Examples artifact.

The artifact holds the data contract (docs/DESIGN.md) at its root: ``Split-train/``, ``Split-eval/``
(gzipped tf.Example shards, split by a stable hash of each record's ``id``), ``labels.txt``,
``stats.json`` and ``rejects/``; ``split_names`` is ``["train", "eval"]``. It runs the same
transforms as ``lsgan prep`` (``data_prep.prepare.ReadAndPrepare`` and
``data_prep.write.WritePrepared``), so ``lsgan prep`` output and this artifact are
interchangeable. Beam arguments come from the pipeline's ``beam_pipeline_args``.
"""
from __future__ import annotations

from typing import Optional

from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.channel import Channel
from tfx.types.component_spec import ChannelParameter, ComponentSpec, ExecutionParameter

from components.example_gen import executor


class LsganExampleGenSpec(ComponentSpec):
    PARAMETERS = {
        "source": ExecutionParameter(type=str),
        "input_path": ExecutionParameter(type=str, optional=True),
        "image_size": ExecutionParameter(type=int, optional=True),
        "channels": ExecutionParameter(type=int, optional=True),
        "charset": ExecutionParameter(type=str, optional=True),
        "eval_fraction": ExecutionParameter(type=float, optional=True),
        "max_records": ExecutionParameter(type=int, optional=True),
    }
    INPUTS = {}
    OUTPUTS = {"examples": ChannelParameter(type=standard_artifacts.Examples)}


class LsganExampleGen(base_beam_component.BaseBeamComponent):
    """Examples from any ``data_prep`` source (lsun, hwdb, folder, idx, tfds, digits)."""

    SPEC_CLASS = LsganExampleGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(self, source: str, input_path: str = "", image_size: Optional[int] = None,
                 channels: Optional[int] = None, charset: Optional[str] = None,
                 eval_fraction: Optional[float] = None, max_records: Optional[int] = None):
        super().__init__(spec=LsganExampleGenSpec(
            source=source, input_path=input_path, image_size=image_size, channels=channels,
            charset=charset, eval_fraction=eval_fraction, max_records=max_records,
            examples=Channel(type=standard_artifacts.Examples)))
