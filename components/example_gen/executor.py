"""Executor of ``LsganExampleGen``: ``ReadAndPrepare | WritePrepared`` into the artifact's uri."""
from __future__ import annotations

from typing import Any, Dict, List

from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from lsgan_tf import example_schema

OPTION_KEYS = ("image_size", "channels", "charset", "eval_fraction", "max_records")


def prep_options(exec_properties: Dict[str, Any]):
    """``PrepOptions`` from the component's parameters (unset ones keep their defaults)."""
    from data_prep.options import PrepOptions

    given = {key: exec_properties[key] for key in OPTION_KEYS
             if exec_properties.get(key) not in (None, "")}
    return PrepOptions(**given)


class Executor(base_beam_executor.BaseBeamExecutor):
    """Writes the data contract at the Examples artifact's root and sets its split names."""

    def Do(self, input_dict: Dict[str, List], output_dict: Dict[str, List],
           exec_properties: Dict[str, Any]) -> None:
        from data_prep.prepare import ReadAndPrepare
        from data_prep.write import WritePrepared

        examples = artifact_utils.get_single_instance(output_dict["examples"])
        source, input_path = exec_properties["source"], exec_properties.get("input_path") or ""
        options = prep_options(exec_properties)
        with self._make_beam_pipeline() as pipeline:
            _ = (pipeline
                 | "Prepare" >> ReadAndPrepare(source, input_path, options)
                 | "Write" >> WritePrepared(examples.uri, info={"source": source,
                                                                "input": input_path}))
        examples.split_names = artifact_utils.encode_split_names(list(example_schema.SPLITS))
