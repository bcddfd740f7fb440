"""``WritePrepared``: the output layout of the data contract, from ``ReadAndPrepare``'s outputs.

    stats = outputs | WritePrepared("/data/prepared", info={"source": "hwdb"})

Writes, through Beam's file systems (local paths, gs://, ...):
  Split-train/data-SSSSS-of-NNNNN.tfrecord.gz, Split-eval/...   gzipped tf.Example shards
  rejects/rejects-SSSSS-of-NNNNN.tsv   one line per bad input: id <TAB> reason <TAB> detail
                                       (control characters escaped as in ids: ``\\u0009``...)
  labels.txt                           label id -> class name (``example_schema.write_labels``)
  stats.json                           {"read": N, "written": {"train": n, "eval": m},
                                        "rejected": {reason: count}, "skipped": {reason: count},
                                        "classes": K, "shards": {"train": files, ...}, **info}
stats.json is written last, once every other file is in place.
Returns the PCollection holding the stats dict (one element).
"""
from __future__ import annotations

import json
from typing import Dict, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from data_prep.prepare import LABELS, READ, REJECTS, SKIPPED
from data_prep.records import Reject, clean_text
from lsgan_tf import example_schema

SHARD_PREFIX = "data"
REJECTS_PREFIX = "rejects"
REJECTS_SUFFIX = ".tsv"


def reject_line(reject: Reject) -> str:
    """``id <TAB> reason <TAB> detail``; tabs, line breaks and other control characters inside
    the fields escaped by ``records.clean_text`` (``\\u0009``, ``\\u000a``...), the rule of ids
    and class names (``records.escape_name``), so one reject is always one line."""
    return "\t".join(clean_text(field) for field in (reject.id, reject.reason, reject.detail))


def _write_labels(names, output_dir: str) -> Tuple[str, int]:
    """labels.txt (``example_schema.labels_text``) written to ``output_dir``; returns the stats
    part ``("classes", number of names)``."""
    path = FileSystems.join(output_dir, example_schema.LABELS_FILE)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as target:
        target.write(example_schema.labels_text(list(names)).encode("utf-8"))
    return "classes", len(names)


def _write_stats(stats: Dict, output_dir: str) -> Dict:
    path = FileSystems.join(output_dir, example_schema.STATS_FILE)
    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as target:
        target.write((json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
                     .encode("utf-8"))
    return stats


@beam.ptransform_fn
def _CountAs(pcoll: beam.PCollection, key: str, name: str) -> beam.PCollection:
    """The stats part ``(key, {name: number of elements})``."""
    return (pcoll
            | "Count" >> beam.combiners.Count.Globally()
            | "Part" >> beam.Map(lambda count: (key, {name: count})))


class _MergeStats(beam.CombineFn):
    """Merges ``(key, value)`` parts: ints are summed, dicts merged by summing their values."""

    def create_accumulator(self):
        return {}

    def add_input(self, accumulator, part):
        key, value = part
        if isinstance(value, dict):
            merged = dict(accumulator.get(key, {}))
            for name, count in value.items():
                merged[name] = merged.get(name, 0) + count
            accumulator[key] = merged
        else:
            accumulator[key] = accumulator.get(key, 0) + value
        return accumulator

    def merge_accumulators(self, accumulators):
        merged = {}
        for accumulator in accumulators:
            for part in accumulator.items():
                merged = self.add_input(merged, part)
        return merged

    def extract_output(self, accumulator):
        return accumulator


@beam.ptransform_fn
def WritePrepared(prepared: Mapping[str, beam.PCollection], output_dir: str,
                  info: Optional[Mapping] = None) -> beam.PCollection:
    """Writes ``ReadAndPrepare``'s outputs under ``output_dir``; see the module docstring."""
    parts = []  # ("key", value) pairs merged into stats.json once every file is written
    for split in example_schema.SPLITS:
        title = split.title()
        shards = (prepared[split]
                  | f"Write{title}" >> beam.io.WriteToTFRecord(
                      FileSystems.join(example_schema.split_dir(output_dir, split),
                                       SHARD_PREFIX),
                      file_name_suffix=example_schema.TFRECORD_SUFFIX,
                      compression_type=CompressionTypes.GZIP))
        parts.append(shards | f"Shards{title}" >> _CountAs("shards", split))
        parts.append(prepared[split] | f"Written{title}" >> _CountAs("written", split))
    reject_files = (prepared[REJECTS]
                    | "FormatRejects" >> beam.Map(reject_line)
                    | "WriteRejects" >> beam.io.WriteToText(
                        FileSystems.join(output_dir, example_schema.REJECTS_DIR,
                                         REJECTS_PREFIX),
                        file_name_suffix=REJECTS_SUFFIX))
    parts.append(reject_files | "ShardsRejects" >> _CountAs("shards", REJECTS))
    for key, name in ((REJECTS, "rejected"), (SKIPPED, "skipped")):
        parts.append(prepared[key]
                     | f"{name.title()}Reasons" >> beam.Map(lambda item: item.reason)
                     | f"Count{name.title()}" >> beam.combiners.Count.PerElement()
                     | f"{name.title()}Part" >> beam.Map(lambda kv, n=name: (n, {kv[0]: kv[1]})))
    parts.append(prepared[READ] | "ReadPart" >> beam.Map(lambda n: ("read", n)))
    parts.append(prepared[LABELS]
                 | "WriteLabels" >> beam.Map(_write_labels, output_dir))
    base = {"written": {split: 0 for split in example_schema.SPLITS},
            "rejected": {}, "skipped": {}, **(info or {})}
    return (parts
            | "StatsParts" >> beam.Flatten()
            | "MergeStats" >> beam.CombineGlobally(_MergeStats())
            | "WriteStats" >> beam.Map(lambda merged: _write_stats({**base, **merged},
                                                                   output_dir)))
