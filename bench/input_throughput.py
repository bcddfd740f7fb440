"""Training throughput from ``lsgan prep`` TFRecords against the same images as in-memory
tensors, in one run.

    .venv/bin/python -m bench.input_throughput [--data DIR] [--steps 200] [--repeats 3]
                                               [--threads 1] [--set KEY=VALUE ...]

The ``digits`` preset (scikit-learn's 8 x 8 digits at 28 x 28, the conditional model, batch 64),
trained by the library's loop (``GanTrainer.make_loop_fn``, ``train.steps_per_loop`` steps per
call), three inputs:
  ``memory``:   data.source=digits, the images as in-memory arrays (no decoding);
  ``cached``:   data.source=tfrecord on ``--data``, decoded once and cached (data.cache_mb);
  ``decoded``:  the same folder decoded batch by batch every epoch (data.cache_mb=0).
``--data`` defaults to ``lsgan prep --source=digits --image_size=28`` written under
runs/bench/digits_tfrecords on first use. Each row: a fresh trainer, ``--warmup`` steps, then
``--steps`` timed steps; the rows are interleaved over ``--repeats`` rounds and the median is
reported with the ratio to ``memory``. Prints a Markdown table and one ``BENCH_JSON`` line.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "runs", "bench", "digits_tfrecords")
ROWS = {"memory": ["data.source=digits"],
        "cached": ["data.source=tfrecord"],
        "decoded": ["data.source=tfrecord", "data.cache_mb=0"]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="a prepared digits folder")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra- and inter-op threads")
    parser.add_argument("--set", action="append", default=[], dest="sets",
                        help="extra config overrides for every row (KEY=VALUE)")
    return parser.parse_args(argv)


def ensure_data(path: str) -> str:
    """``path``, made with ``lsgan prep --source=digits --image_size=28`` when missing."""
    if not os.path.exists(os.path.join(path, "stats.json")):
        print(f"[input] preparing digits TFRecords in {path} (lsgan prep)", flush=True)
        subprocess.run([sys.executable, "-m", "pipeline.cli", "prep", "--source=digits",
                        f"--output={path}", "--image_size=28", "--overwrite"],
                       check=True, cwd=REPO, stdout=subprocess.DEVNULL)
    return path


def time_row(sets, steps: int, warmup: int) -> float:
    """Milliseconds per step of a fresh trainer on ``sets`` over ``steps`` timed steps."""
    import tensorflow as tf

    from lsgan_tf.config import apply_overrides, validate
    from lsgan_tf.presets import get_preset
    from lsgan_tf.training import GanTrainer

    config = validate(apply_overrides(get_preset("digits"), sets))
    with tempfile.TemporaryDirectory() as out:
        trainer = GanTrainer(config, out)
        batches = iter(trainer.dataset(0))
        loop_fn = trainer.make_loop_fn()
        per_call = config.train.steps_per_loop
        stop = tf.constant(0.0)

        def run(count):
            done = 0
            while done < count:
                calls = min(per_call, count - done)
                float(loop_fn(batches, tf.constant(calls), stop)["d_loss"])
                done += calls

        run(warmup)
        start = time.perf_counter()
        run(steps)
        return 1000.0 * (time.perf_counter() - start) / steps


def main(argv=None) -> dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    data = ensure_data(args.data)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    times = {name: [] for name in ROWS}
    for round_ in range(args.repeats):
        for name, sets in ROWS.items():
            extra = [f"data.path={data}"] if "data.source=tfrecord" in sets else []
            ms = time_row([*sets, *extra, *args.sets], args.steps, args.warmup)
            times[name].append(ms)
            print(f"[input] round {round_ + 1}/{args.repeats} {name}: {ms:.1f} ms/step",
                  flush=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    from lsgan_tf.config import apply_overrides
    from lsgan_tf.presets import get_preset

    batch = apply_overrides(get_preset("digits"), args.sets).train.batch_size
    print("\n| input | ms/step (median) | images/s | throughput vs memory |\n|---|---|---|---|")
    for name, ms in median.items():
        print(f"| {name} | {ms:.1f} | {1000.0 * batch / ms:.0f} | "
              f"{median['memory'] / ms:.3f} |")
    result = {"ms_per_step": median, "runs": times, "steps": args.steps,
              "threads": args.threads, "sets": args.sets, "data": data}
    print("BENCH_JSON " + json.dumps(result, sort_keys=True), flush=True)
    return result


if __name__ == "__main__":
    main()
