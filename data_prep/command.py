"""``lsgan prep``: any source -> the TFRecords of the data contract, with Apache Beam.

    lsgan prep --source=NAME --input=PATH --output=DIR [--image_size=N] [--channels=1|3]
               [--charset=all|gb2312_level1] [--eval_fraction=F] [--max_records=N]
               [--transpose] [--tfds_data_dir=DIR] [--num_shards=N] [--overwrite]
               [-- BEAM ARGS]

Everything after ``--`` goes to Beam (``--runner=DataflowRunner ...``; docs/SCALING.md).
``--runner`` takes Beam's runner names, a dotted runner class path, or ``dask`` (Beam's Dask
runner, with ``--dask_client_address=HOST:PORT`` of a dask.distributed scheduler); another
name fails at once. With the DirectRunner the default is ``--direct_running_mode=in_memory``
(``pipeline_options`` says why); with Dask ``--dask_npartitions`` defaults to 64, so the input shards spread over the
cluster. Ends with a summary (counts per split, rejects per reason, output path); the exit
status is 2 for a usage or input error (before anything runs), 1 when no record was written,
else 0.

``--output`` follows the output-folder contract (``lsgan_tf.output_folder``): an absent or
empty folder, or a prepared dataset an earlier ``lsgan prep`` made (which ``--overwrite``
replaces); a folder of other files is refused, ``--overwrite`` or not, and so is an output
inside ``--input`` or holding it. Checked before Beam runs; a remote output is looked at
through Beam's ``FileSystems``.
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from typing import Dict, List, Optional, Tuple

from absl import flags

from data_prep.dask_faults import worker_loss
from data_prep.options import CHARSET_ALL, CHARSETS, NUM_SHARDS, PrepOptions
from data_prep.source import InputError
from lsgan_tf import example_schema as schema
from lsgan_tf import output_folder

flags.DEFINE_string("source", None, "source plugin: digits, folder, hwdb, idx, lsun, tfds")
flags.DEFINE_string("input", None, "input path (LMDB, .gnt files/dir/glob, folder, IDX file "
                    "or dir, TFDS dataset name); not needed for digits")
flags.DEFINE_string("output", None, "output directory (local path or any Beam file system)")
flags.DEFINE_integer("image_size", None, "output side in pixels (default: the source's)")
flags.DEFINE_integer("channels", None, "1 (grayscale) or 3 (RGB) (default: the source's)")
flags.DEFINE_enum("charset", CHARSET_ALL, CHARSETS, "hwdb: characters to keep")
flags.DEFINE_float("eval_fraction", 0.1, "share of records in Split-eval (stable hash of id)")
flags.DEFINE_integer("max_records", None, "read at most this many records")
flags.DEFINE_bool("transpose", False, "idx: images are stored transposed (EMNIST)")
flags.DEFINE_string("tfds_data_dir", None, "tfds: directory of the prepared TFDS dataset")
flags.DEFINE_bool("overwrite", False, "replace a dataset an earlier `lsgan prep` made in "
                  "--output (a folder of other files is refused all the same)")
flags.DEFINE_integer("num_shards", NUM_SHARDS, "TFRecord files of the two splits together, dealt by "
                     "--eval_fraction (each split at least one); also how many workers write: "
                     "raise it for large inputs on a cluster")

FLAGS = flags.FLAGS


class UsageError(ValueError):
    """A flag is missing or wrong, or the output directory is already used."""


DASK_RUNNER = "apache_beam.runners.dask.dask_runner.DaskRunner"
DASK_NPARTITIONS = 64  # Beam's Dask runner puts up to 128 inputs in one partition (one task)


def _without_runner(beam_args: List[str]) -> Tuple[Optional[str], List[str]]:
    """The last ``--runner`` value of ``beam_args`` (None if none) and the other arguments."""
    runner, rest, args = None, [], iter(beam_args)
    for arg in args:
        if arg == "--runner":
            runner = next(args, None)
        elif arg.startswith("--runner="):
            runner = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return runner, rest


def _resolve_runner(name: str) -> str:
    """Beam's runner name or class path for ``--runner=name``; ``UsageError`` for a name that
    is neither a known runner, ``dask``, nor a dotted class path."""
    from apache_beam.options.pipeline_options import StandardOptions

    if name.lower() in ("dask", "daskrunner") or name == DASK_RUNNER:
        return DASK_RUNNER
    known = {runner.lower() for runner in StandardOptions.KNOWN_RUNNER_NAMES}
    if "." in name or name.lower() in known or f"{name.lower()}runner" in known:
        return name
    raise UsageError(f"unknown --runner={name}; use one of "
                     f"{', '.join(StandardOptions.KNOWN_RUNNER_NAMES)}, dask, or the dotted "
                     "path of a PipelineRunner class")


def pipeline_options(beam_args: List[str]):
    """Beam options from ``beam_args`` (``UsageError`` for an unknown runner). DirectRunner
    defaults to ``in_memory`` (one worker in this process, the TFX ExampleGen's mode too):
    Beam 2.74's ``multi_threading`` mode (one gRPC worker thread per core), our default until
    then, lost a contiguous run of 16 to 1,250 records in 4 of 17 runs of 100,000 small files
    (its own ``data_prep/read`` counter said 100,000, ``stats.json`` less; never seen with
    ``in_memory`` or ``multi_processing``), and a silent drop is worse than the second core
    (docs/SCALING.md). ``-- --direct_running_mode=multi_processing`` uses every core.
    ``dask`` is Beam's DaskRunner (its options imported, so ``--dask_client_address`` & co.
    are understood) and ``--dask_npartitions`` defaults to ``DASK_NPARTITIONS``; unless the
    arguments say otherwise."""
    from apache_beam.options.pipeline_options import PipelineOptions

    given = {arg[2:].split("=", 1)[0] for arg in beam_args if arg.startswith("--")}
    runner, rest = _without_runner(beam_args)
    if runner is not None:
        resolved = _resolve_runner(runner)
        beam_args = rest + [f"--runner={resolved}"]
        if resolved == DASK_RUNNER:
            try:  # the runner's module declares its options (--dask_client_address...)
                importlib.import_module("apache_beam.runners.dask.dask_runner")
                importlib.import_module("dask.distributed")
            except ImportError as error:
                raise UsageError(f"--runner=dask needs dask[distributed] ({error}); "
                                 "make setup installs it") from None
            if not given & {"dask_npartitions", "dask_partition_size"}:
                beam_args = beam_args + [f"--dask_npartitions={DASK_NPARTITIONS}"]
    if runner is None or runner.lower() in ("directrunner", "direct"):
        if "direct_running_mode" not in given:
            beam_args = beam_args + ["--direct_running_mode=in_memory"]
    return PipelineOptions(beam_args)


def _layout(output_dir: str) -> List[str]:
    return [schema.split_dir(output_dir, split) for split in schema.SPLITS] + [
        os.path.join(output_dir, name)
        for name in (schema.LABELS_FILE, schema.STATS_FILE, schema.REJECTS_DIR)]


def _beam_names(folder: str) -> Optional[List[str]]:
    """The top-level entries of ``folder`` on any Beam file system; None when it holds
    nothing (object stores have no empty folders)."""
    from apache_beam.io.filesystems import FileSystems

    prefix = folder.rstrip("/") + "/"
    found = FileSystems.match([prefix + "**"])[0].metadata_list
    return sorted({item.path[len(prefix):].split("/")[0] for item in found}) or None


def _beam_read(path: str) -> bytes:
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        return handle.read()


def _beam_write(path: str, data: bytes) -> None:
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    with FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED) as handle:
        handle.write(data)


BEAM_STORAGE = output_folder.Storage(_beam_names, _beam_read, _beam_write)  # remote outputs


def claim_output(output_dir: str, overwrite: bool) -> None:
    """The output-folder contract (module docstring): ``UsageError`` for a folder that is not
    absent, empty or a prepared dataset; one that holds a prepared dataset is refused, or
    deleted (``overwrite``); then the marker is written, so that an output the storage refuses
    (a read-only file system, no permission) fails before the pipeline runs."""
    from apache_beam.io.filesystems import FileSystems

    output_folder.check(output_dir, output_folder.PREPARED, BEAM_STORAGE)
    existing = [path for path in _layout(output_dir) if FileSystems.exists(path)]
    if existing and not overwrite:
        raise UsageError(f"{output_dir} already holds a prepared dataset "
                         f"({', '.join(os.path.basename(p) for p in existing)}); "
                         "pass --overwrite to replace it")
    if existing:
        FileSystems.delete(existing)
    output_folder.mark(output_dir, output_folder.PREPARED, BEAM_STORAGE)


def check_arguments(source_name: Optional[str], input_path: Optional[str],
                    output_dir: Optional[str], options: PrepOptions):
    """The source to run; ``KeyError`` for an unknown one, ``UsageError`` for missing flags,
    an empty ``--output``, an output inside the input or holding it, and an output folder that
    the contract refuses (module docstring)."""
    from data_prep.prepare import make_source

    if not source_name:
        raise UsageError("--source is required")
    source = make_source(source_name, input_path or "", options)
    if source.needs_input and not input_path:
        raise UsageError(f"--input is required for --source={source_name}")
    source.check_input()  # an --input that is one archive: one line, exit 2, before Beam
    if output_dir is None:
        raise UsageError("--output is required")
    output_folder.check_path_flag("--output", output_dir)
    output_folder.check_apart("--output", output_dir, "--input", input_path)
    output_folder.check(output_dir, output_folder.PREPARED, BEAM_STORAGE)
    return source


def run(source_name: str, input_path: Optional[str], output_dir: str, options: PrepOptions,
        beam_args: List[str], overwrite: bool = False, num_shards: int = NUM_SHARDS) -> Dict:
    """Runs the pipeline and returns the stats it wrote to stats.json.

    Before anything runs (and before ``overwrite`` deletes a previous output): an unusable
    input raises ``InputError`` while the pipeline is built; an output folder the contract
    refuses, or one that already holds a prepared dataset unless ``overwrite``, raises
    ``UsageError`` (``claim_output``).
    """
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems

    from data_prep.prepare import ReadAndPrepare, make_source
    from data_prep.write import WritePrepared

    source = make_source(source_name, input_path or "", options)
    info = {"source": source_name, "input": input_path or "", "image_size": source.image_size,
            "eval_fraction": options.eval_fraction}
    with beam.Pipeline(options=pipeline_options(beam_args)) as pipeline:
        prepared = pipeline | "Prepare" >> ReadAndPrepare(source_name, input_path or "", options)
        _ = prepared | "WriteOutput" >> WritePrepared(output_dir, info, num_shards)
        claim_output(output_dir, overwrite)
    with FileSystems.open(os.path.join(output_dir, schema.STATS_FILE)) as handle:
        return json.loads(handle.read().decode("utf-8"))


def summary(stats: Dict, output_dir: str) -> str:
    """The closing lines: counts per split, rejects and skips per reason, the output path."""
    def by_reason(counts: Dict[str, int]) -> str:
        total = sum(counts.values())
        parts = ", ".join(f"{reason} {count:,}" for reason, count in sorted(counts.items()))
        return f"{total:,}" + (f"  ({parts})" if parts else "")

    written = stats["written"]
    lines = [
        f"lsgan prep: {stats['source']} -> {output_dir}",
        f"  read      {stats['read']:,}",
        "  written   " + ", ".join(f"{split} {written[split]:,}" for split in schema.SPLITS),
        f"  rejected  {by_reason(stats['rejected'])}",
    ]
    if stats["skipped"]:
        lines.append(f"  skipped   {by_reason(stats['skipped'])}")
    lines.append(f"  classes   {stats['classes']:,}" if stats["classes"] else "  unlabeled")
    if stats["rejected"]:
        lines.append(f"  rejects listed in {os.path.join(output_dir, 'rejects')}/")
    return "\n".join(lines)


def _show_progress() -> None:
    """Prints data_prep's INFO lines (the plan) on stdout, without Beam's own INFO logs."""
    progress = logging.getLogger("data_prep")
    if not progress.handlers:
        progress.addHandler(logging.StreamHandler(sys.stdout))
        progress.setLevel(logging.INFO)
        progress.propagate = False


def _fail(message, status: int) -> None:
    print(f"lsgan prep: {message}", file=sys.stderr)
    sys.exit(status)


def main(argv: List[str]) -> None:
    """``lsgan prep``; ``argv[1:]`` are the Beam arguments (those after ``--``)."""
    try:
        options = PrepOptions(image_size=FLAGS.image_size, channels=FLAGS.channels,
                              charset=FLAGS.charset, eval_fraction=FLAGS.eval_fraction,
                              max_records=FLAGS.max_records, transpose=FLAGS.transpose,
                              tfds_data_dir=FLAGS.tfds_data_dir)
        check_arguments(FLAGS.source, FLAGS.input, FLAGS.output, options)
        pipeline_options(list(argv[1:]))
        if FLAGS.num_shards < 1:
            raise UsageError(f"--num_shards must be at least 1, got {FLAGS.num_shards}")
    except KeyError as error:
        _fail(error.args[0], 2)
    except ValueError as error:  # PrepOptions' checks and UsageError
        _fail(error, 2)
    _show_progress()
    try:
        stats = run(FLAGS.source, FLAGS.input, FLAGS.output, options, list(argv[1:]),
                    overwrite=FLAGS.overwrite, num_shards=FLAGS.num_shards)
    except (InputError, UsageError) as error:
        _fail(error, 2)
    except Exception as error:  # noqa: BLE001 (only a lost dask worker becomes one line)
        message = worker_loss(error, FLAGS.output)
        if message is None:
            raise
        _fail(message, 1)
    print(summary(stats, FLAGS.output))
    if not sum(stats["written"].values()):
        _fail("nothing usable was made (every record was rejected or skipped)", 1)
