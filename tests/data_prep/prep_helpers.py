"""Helpers of the data_prep tests: run the two transforms, read what they wrote, make images."""
from __future__ import annotations

import glob
import json
import os
from typing import Dict, List, Tuple

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions

from data_prep.options import PrepOptions
from data_prep.prepare import ReadAndPrepare
from data_prep.write import WritePrepared
from lsgan_tf import example_schema


class Prepared:
    """What one run wrote: stats, labels, rejects, examples by id (with their split)."""

    def __init__(self, output_dir: str, metrics):
        self.dir = output_dir
        self.metrics = metrics
        with open(os.path.join(output_dir, example_schema.STATS_FILE), encoding="utf-8") as f:
            self.stats = json.load(f)
        self.labels = example_schema.read_labels(output_dir)
        self.rejects = read_rejects(output_dir)
        self.examples: Dict[str, dict] = {}
        for split in example_schema.SPLITS:
            for example in read_split(output_dir, split):
                assert example["id"] not in self.examples, example["id"]
                self.examples[example["id"]] = dict(example, split=split)

    def counter(self, name: str) -> int:
        from apache_beam.metrics.metric import MetricsFilter

        found = self.metrics.query(MetricsFilter().with_namespace("data_prep")
                                   .with_name(name))["counters"]
        return sum(result.committed for result in found)

    def reject_reasons(self) -> Dict[str, str]:
        return {record_id: reason for record_id, reason, _ in self.rejects}


def run_prep(output_dir: str, source: str, input_path="", **options) -> "Prepared":
    """Runs ``ReadAndPrepare | WritePrepared`` on the in-memory DirectRunner."""
    pipeline = beam.Pipeline(options=PipelineOptions(["--direct_running_mode=in_memory"]))
    prepared = pipeline | ReadAndPrepare(source, str(input_path), PrepOptions(**options))
    _ = prepared | WritePrepared(output_dir, {"source": source})
    result = pipeline.run()
    result.wait_until_finish()
    return Prepared(output_dir, result.metrics())


def read_split(output_dir: str, split: str) -> List[dict]:
    """The examples of one split, read with tf.data and parsed with the contract's spec."""
    import tensorflow as tf

    files = sorted(glob.glob(example_schema.split_pattern(output_dir, split)))
    assert files, f"no shards for {split}"
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").map(
        lambda record: tf.io.parse_single_example(record, example_schema.feature_spec()))
    examples = []
    for parsed in dataset:
        image = tf.io.decode_png(parsed["image"]).numpy()
        shape = tuple(int(parsed[key]) for key in ("height", "width", "channels"))
        assert image.shape == shape
        examples.append({"id": parsed["id"].numpy().decode("utf-8"), "image": image,
                         "label": int(parsed["label"])})
    return examples


def read_rejects(output_dir: str) -> List[Tuple[str, str, str]]:
    lines = []
    for path in sorted(glob.glob(os.path.join(output_dir, example_schema.REJECTS_DIR, "*"))):
        with open(path, encoding="utf-8") as handle:
            lines += [tuple(line.rstrip("\n").split("\t")) for line in handle if line.strip()]
    return lines


def solid(height: int, width: int, color, channels: int = 3) -> np.ndarray:
    """A uint8 image of one colour."""
    return np.broadcast_to(np.asarray(color, np.uint8), (height, width, channels)).copy()


class Driven:
    """What a source gives when driven in-process as the pipeline's steps call it (plan, setup,
    read every shard, decode every record), without Beam: ``written`` {id: image},
    ``rejects`` {id: (reason, detail)}, ``skipped`` {id: reason}, ``read`` (records read)."""

    def __init__(self, plan, written, rejects, skipped, read):
        self.plan, self.written, self.rejects = plan, written, rejects
        self.skipped, self.read = skipped, read

    def reasons(self) -> Dict[str, str]:
        return {record_id: reason for record_id, (reason, _) in self.rejects.items()}


def drive_source(source_name: str, input_path="", **options) -> Driven:
    """Runs a source's plan, setup, read and decode in this process and thread (a blocking
    call can be interrupted by ``signal.alarm``). Only ``BadRecord`` may leave ``decode``; ids
    must be unique; read = written + rejected is checked here."""
    from data_prep.prepare import make_source
    from data_prep.records import BadRecord, Record, Reject, Skipped

    source = make_source(source_name, str(input_path), PrepOptions(**options))
    plan = source.plan()
    reader = make_source(source_name, str(input_path), PrepOptions(**options))
    reader.setup()
    decoder = make_source(source_name, str(input_path), PrepOptions(**options))
    written, rejects, skipped, read = {}, {}, {}, 0
    try:
        for shard in plan.shards:
            for item in reader.read(shard):
                assert item.id not in written and item.id not in rejects, item.id
                assert item.id not in skipped, item.id
                if isinstance(item, Skipped):
                    skipped[item.id] = item.reason
                    continue
                read += 1
                if isinstance(item, Reject):
                    assert item.reason, item
                    rejects[item.id] = (item.reason, item.detail)
                    continue
                assert isinstance(item, Record), item
                try:
                    written[item.id] = decoder.decode(item)
                except BadRecord as error:
                    assert error.reason, error
                    rejects[item.id] = (error.reason, error.detail)
    finally:
        reader.teardown()
    assert read == len(written) + len(rejects)
    return Driven(plan, written, rejects, skipped, read)


def bind_unix(server, path) -> None:
    """Binds a UNIX socket at ``path`` by its name relative to its folder: socket paths are
    limited to about 107 bytes, which a sandbox's temporary folder (Bazel's) exceeds."""
    here = os.getcwd()
    os.chdir(os.path.dirname(os.fsdecode(path)) or ".")
    try:
        server.bind(os.path.basename(os.fsdecode(path)))
    finally:
        os.chdir(here)


IN_MEMORY = ("--direct_running_mode=in_memory",)


def prep_in_process(capsys):
    """``run(*ARGS, beam_args=IN_MEMORY)``: ``lsgan prep ARGS -- BEAM_ARGS`` through
    ``data_prep.command.main`` in this process -> (exit status, stdout, stderr); the flags are
    unparsed after each call. ``capsys`` is pytest's fixture."""
    from absl import flags

    from data_prep import command

    def run(*args, beam_args=IN_MEMORY):
        argv = flags.FLAGS(["lsgan prep", *args, "--", *beam_args])
        try:
            command.main(argv)
            status = 0
        except SystemExit as exit_:
            status = exit_.code
        finally:
            flags.FLAGS.unparse_flags()
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run

