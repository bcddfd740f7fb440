"""Throughput of ``lsgan prep --source=lsun`` against a single-process loop, in one run.

    .venv/bin/python -m bench.prep_throughput [--num_images=2000] [--image_size=112]
                                              [-- BEAM ARGS for lsgan prep]

1. Writes an LSUN-style LMDB of ``--num_images`` JPEGs (quality 75, shorter side 256, 4:3 or
   3:4, smooth random content) with ``data_prep.testdata``.
2. Runs ``python -m pipeline.cli prep --source=lsun`` on it (DirectRunner, multi-threading,
   one worker thread per core unless BEAM ARGS say otherwise).
3. Runs the single-process loop: LMDB cursor, the same Pillow decode / crop / resize
   (``data_prep.images``), ``make_example``, ``split_of``, two gzipped TFRecord writers.
Both run as fresh processes and are timed from start to exit (interpreter, imports and, for
Beam, worker start-up included); the loop's own time without imports is printed too, and the
CPU seconds of each command (its processes together), which other jobs on a shared machine
change far less than the wall times.
Prints records/s of both and the ratio, then the same ``lsgan prep`` with ``--max_records=1``
to show its fixed start-up cost and the throughput after it.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generate(path: str, count: int, seed: int = 0) -> None:
    """An LMDB of ``count`` JPEG scenes, 256 on the shorter side."""
    import numpy as np
    from PIL import Image

    from data_prep.testdata import encode_image, lsun_key, write_lmdb

    rng = np.random.default_rng(seed)
    values = {}
    for index in range(count):
        size = (341, 256) if index % 2 else (256, 341)  # (width, height)
        coarse = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
        smooth = np.asarray(Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC))
        grain = rng.integers(-12, 13, smooth.shape)
        pixels = np.clip(smooth.astype(int) + grain, 0, 255).astype(np.uint8)
        values[lsun_key(index)] = encode_image(pixels, "JPEG", quality=75)
    write_lmdb(path, values)


def single_process_loop(lmdb_path: str, output_dir: str, image_size: int) -> dict:
    """The baseline: one process, no Beam; returns counts and the loop's own seconds."""
    import tensorflow as tf

    from data_prep import images
    from data_prep.records import BadRecord
    from data_prep.sources.lsun import FORMATS, open_environment
    from lsgan_tf import example_schema

    start = time.perf_counter()
    writers, written = {}, {split: 0 for split in example_schema.SPLITS}
    for split in example_schema.SPLITS:
        os.makedirs(example_schema.split_dir(output_dir, split), exist_ok=True)
        writers[split] = tf.io.TFRecordWriter(os.path.join(
            example_schema.split_dir(output_dir, split),
            "data-00000-of-00001" + example_schema.TFRECORD_SUFFIX), options="GZIP")
    rejected = 0
    with open_environment(lmdb_path).begin() as txn:
        for key, value in txn.cursor():
            record_id = key.decode("ascii")
            try:
                image = images.open_encoded(value, FORMATS, draft_size=image_size)
            except BadRecord:
                rejected += 1
                continue
            pixels = images.to_array(images.crop_to_square(image, image_size), 3)
            split = example_schema.split_of(record_id, 0.1)
            example = example_schema.make_example(pixels, -1, record_id)
            writers[split].write(example.SerializeToString())
            written[split] += 1
    for writer in writers.values():
        writer.close()
    return {"written": written, "rejected": rejected, "seconds": time.perf_counter() - start}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command) -> tuple:
    """(wall seconds, CPU seconds of the command and its children, stdout)."""
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return seconds, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num_images", type=int, default=2000)
    parser.add_argument("--image_size", type=int, default=112)
    parser.add_argument("--work_dir", default=None, help="default: a temporary directory")
    parser.add_argument("--loop", nargs=2, metavar=("LMDB", "OUT"), help=argparse.SUPPRESS)
    args, beam_args = parser.parse_known_args()
    beam_args = [arg for arg in beam_args if arg != "--"]
    if args.loop:
        print(json.dumps(single_process_loop(*args.loop, args.image_size)))
        return

    work = args.work_dir or tempfile.mkdtemp(prefix="prep_bench_")
    os.makedirs(work, exist_ok=True)
    lmdb_path = os.path.join(work, "bench_train_lmdb")
    if not os.path.exists(lmdb_path):
        print(f"writing {args.num_images:,} JPEGs (256 px) to {lmdb_path}", flush=True)
        generate(lmdb_path, args.num_images)

    pipeline_out = os.path.join(work, "pipeline")
    prep = [sys.executable, "-m", "pipeline.cli", "prep", "--source=lsun", f"--input={lmdb_path}",
            f"--output={pipeline_out}", f"--image_size={args.image_size}", "--overwrite"]
    seconds_pipeline, cpu_pipeline, _ = timed(prep + ["--", *beam_args])
    with open(os.path.join(pipeline_out, "stats.json"), encoding="utf-8") as handle:
        stats = json.load(handle)
    seconds_loop, cpu_loop, stdout = timed(
        [sys.executable, "-m", "bench.prep_throughput", f"--image_size={args.image_size}",
         "--loop", lmdb_path, os.path.join(work, "loop")])
    loop = json.loads(stdout.strip().splitlines()[-1])
    seconds_startup, cpu_startup, _ = timed(prep + ["--max_records=1", "--", *beam_args])

    records = sum(stats["written"].values())
    if stats["written"] != loop["written"]:
        sys.exit(f"outputs differ: pipeline {stats['written']}, loop {loop['written']}")
    rate_pipeline, rate_loop = records / seconds_pipeline, records / seconds_loop
    workers = next((a.split("=")[1] for a in beam_args if a.startswith("--direct_num_workers=")),
                   str(os.cpu_count()))
    print(f"records            {records:,} ({args.image_size} px, written {stats['written']})")
    print(f"lsgan prep (Beam)  {seconds_pipeline:7.1f} s  {rate_pipeline:8.1f} records/s  "
          f"cpu {cpu_pipeline:6.1f} s  "
          f"(DirectRunner, {workers} workers, {' '.join(beam_args) or 'default args'})")
    print(f"single process     {seconds_loop:7.1f} s  {rate_loop:8.1f} records/s  "
          f"cpu {cpu_loop:6.1f} s  "
          f"(loop alone {loop['seconds']:.1f} s = {records / loop['seconds']:.1f} records/s)")
    print(f"ratio              {rate_pipeline / rate_loop:.2f}x (Beam / single process)")
    work = seconds_pipeline - seconds_startup
    print(f"Beam start-up      {seconds_startup:7.1f} s  cpu {cpu_startup:6.1f} s  "
          "(lsgan prep --max_records=1)")
    if work > 0.25 * seconds_pipeline:
        steady = (records - 1) / work
        print(f"after start-up     {steady:8.1f} records/s = "
              f"{steady * loop['seconds'] / records:.2f}x the loop alone")
    else:
        print("after start-up     not measurable: start-up is most of the run "
              "(raise --num_images)")


if __name__ == "__main__":
    main()
