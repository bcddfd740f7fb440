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

Shards are written by this module's own step, not Beam's file sinks: a record goes to shard
``u(record) * N`` of its split (a stable hash of its bytes, so every runner writes the same
shards), ``GroupByKey`` gathers each shard, and one ``ParDo`` call writes it whole and yields
its counts. Nothing is emitted from ``finish_bundle`` (which Beam's Dask runner drops, and
with it what Beam's sinks wrote) and nothing needs a side input, so the files and counts are
the same on every runner; a retried shard rewrites the same file. N per split is
``num_shards`` dealt by the split's share (eval_fraction), at least one (an empty split has
one empty shard); the rejects are one shard.
"""
from __future__ import annotations

import hashlib
import json
from typing import Dict, Iterable, Mapping, Optional, Tuple

import apache_beam as beam
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.tfrecordio import _TFRecordUtil

from data_prep.options import NUM_SHARDS
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


def shard_name(prefix: str, index: int, count: int, suffix: str) -> str:
    """Beam's shard naming: ``<prefix>-SSSSS-of-NNNNN<suffix>``."""
    return f"{prefix}-{index:05d}-of-{count:05d}{suffix}"


def shard_counts(num_shards: int, eval_fraction: float) -> Dict[str, int]:
    """Shards per split: ``num_shards`` dealt by the splits' shares, at least one each."""
    share = {example_schema.TRAIN: 1.0 - eval_fraction, example_schema.EVAL: eval_fraction}
    return {split: max(1, round(num_shards * share[split])) for split in example_schema.SPLITS}


def _shard_of(record: bytes, count: int) -> int:
    """Stable shard of a record: its SHA-256's first 8 bytes, big-endian, scaled to count."""
    return int.from_bytes(hashlib.sha256(record).digest()[:8], "big") * count >> 64


def _write_line(target, line: str) -> None:
    target.write(line.encode("utf-8") + b"\n")


class _WriteShardFn(beam.DoFn):
    """``(index, records)`` -> the shard file ``index`` of ``count`` under ``folder``; yields
    the stats parts ``("written", {name: records})`` and ``("shards", {name: 1})``. ``None``
    records (the seeds that make every shard exist) are not written."""

    def __init__(self, folder: str, name: str, count: int, tfrecord: bool):
        self._folder, self._name, self._count, self._tfrecord = folder, name, count, tfrecord

    def process(self, shard: Tuple[int, Iterable]):
        index, records = shard
        if self._tfrecord:
            path = FileSystems.join(self._folder, shard_name(
                SHARD_PREFIX, index, self._count, example_schema.TFRECORD_SUFFIX))
            compression, frame = CompressionTypes.GZIP, _TFRecordUtil.write_record
        else:
            path = FileSystems.join(self._folder, shard_name(
                REJECTS_PREFIX, index, self._count, REJECTS_SUFFIX))
            compression = CompressionTypes.UNCOMPRESSED
            frame = _write_line
        written = 0
        with FileSystems.create(path, compression_type=compression) as target:
            for record in records:
                if record is not None:
                    frame(target, record)
                    written += 1
        yield "written", {self._name: written}
        yield "shards", {self._name: 1}


@beam.ptransform_fn
def _WriteShards(records: beam.PCollection, folder: str, name: str, count: int,
                 tfrecord: bool) -> beam.PCollection:
    """Writes ``records`` (bytes, or lines when not ``tfrecord``) into ``count`` shards."""
    seeds = records.pipeline | "EveryShard" >> beam.Create([(i, None) for i in range(count)])
    keyed = records | "ShardKey" >> beam.Map(lambda record: (_shard_of(
        record if tfrecord else record.encode("utf-8"), count), record))
    return ((seeds, keyed)
            | "All" >> beam.Flatten()
            | "ByShard" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteShardFn(folder, name, count, tfrecord)))


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
                  info: Optional[Mapping] = None,
                  num_shards: int = NUM_SHARDS) -> beam.PCollection:
    """Writes ``ReadAndPrepare``'s outputs under ``output_dir``; see the module docstring.
    ``info["eval_fraction"]`` (default 0.1) deals ``num_shards`` to the splits."""
    counts = shard_counts(num_shards, (info or {}).get("eval_fraction", 0.1))
    parts = []  # ("key", value) pairs merged into stats.json once every file is written
    for split in example_schema.SPLITS:
        parts.append(prepared[split] | f"Write{split.title()}" >> _WriteShards(
            example_schema.split_dir(output_dir, split), split, counts[split], tfrecord=True))
    reject_parts = (prepared[REJECTS]
                    | "FormatRejects" >> beam.Map(reject_line)
                    | "WriteRejects" >> _WriteShards(
                        FileSystems.join(output_dir, example_schema.REJECTS_DIR), REJECTS, 1,
                        tfrecord=False))
    parts.append(reject_parts | "OnlyShards" >> beam.Filter(lambda part: part[0] == "shards"))
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
            | "MergeStats" >> beam.CombineGlobally(_MergeStats()).without_defaults()
            | "WriteStats" >> beam.Map(lambda merged: _write_stats({**base, **merged},
                                                                   output_dir)))
