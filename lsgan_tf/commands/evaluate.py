"""``lsgan evaluate``: score a generator SavedModel against real data.

  lsgan evaluate --model=runs/digits/saved_model --data=digits --out=runs/digits/eval
                 [--extractor=auto|classifier|rotation|fid_inception|inception|identity] [--num_samples=N]
                 [--split=eval] [--seed=0] [--cache_dir=DIR] [--inception_path=FILE]
                 [--max_real=10000] [--noreference]

``--data`` is a prepared directory (``lsgan prep`` output) or a built-in name (``digits``,
``mog8``). Writes ``metrics.json`` and ``samples.png`` into ``--out`` and prints the scores next
to those of real training records and of uniform noise (``--noreference`` skips them).
Feature extractors that need training are trained once per data set and cached under
``--cache_dir`` (default ``$LSGAN_EXTRACTOR_CACHE`` or ``~/.cache/lsgan_tf/extractors``), and
so are the real split's features under a fixed network (``fid_inception``: FID as Lucic et
al. measured it; its weights come from ``lsgan fid-weights``).
"""
from __future__ import annotations

import time

from absl import flags

from lsgan_tf import paths
from lsgan_tf.errors import UsageError

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "Generator SavedModel directory.")
flags.DEFINE_string("data", None, "Prepared data directory or built-in name (digits, mog8).")
flags.DEFINE_string("out", None, "Output directory for metrics.json and samples.png.")
flags.DEFINE_string("extractor", "auto", "Feature extractor: auto (classifier for labelled "
                    "images, rotation for unlabelled ones, identity for points), classifier, "
                    "rotation, fid_inception (FID, compare_gan protocol), inception, identity, "
                    "or a plugin's name.")
flags.DEFINE_integer("num_samples", None, "Samples to draw (default: size of the real split, "
                     "at least 1000).")
flags.DEFINE_string("split", "eval", "Real split to score against.")
flags.DEFINE_integer("seed", 0, "Noise seed of the samples.")
flags.DEFINE_string("cache_dir", None, "Where trained extractors are kept.")
flags.DEFINE_string("inception_path", None, "Local Inception-v3 .h5 weights, .keras model or "
                    "SavedModel folder (for --extractor=inception; never downloaded).")
flags.DEFINE_integer("max_real", 10000, "Score against at most this many real records.")
flags.DEFINE_bool("reference", True, "Also score real train records and noise for comparison.")
flags.mark_flags_as_required(["model", "data", "out"])


def main(argv) -> None:
    from lsgan_tf.data import DataError
    from lsgan_tf.metrics.evaluate import evaluate_generator, format_table
    from lsgan_tf.saved_model_check import load_generator

    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {argv[1:]}")
    if FLAGS.num_samples is not None and FLAGS.num_samples < 10:
        raise UsageError("--num_samples must be >= 10")
    options = {"path": FLAGS.inception_path} if FLAGS.inception_path else {}
    if options and FLAGS.extractor not in ("inception", "fid_inception"):
        raise UsageError("--inception_path needs --extractor=inception or fid_inception")
    start = time.time()
    client = load_generator(FLAGS.model)  # UsageError: one line, exit 2, before any data is read
    try:
        result = evaluate_generator(
            client, FLAGS.data, FLAGS.split, FLAGS.out, FLAGS.extractor, FLAGS.num_samples,
            FLAGS.seed, FLAGS.cache_dir, extractor_options=options, reference=FLAGS.reference,
            max_real=FLAGS.max_real,
            log=lambda message: print(f"[lsgan] {message}", flush=True))
    except (DataError, FileNotFoundError, KeyError, ValueError) as error:
        raise UsageError(str(error.args[0] if isinstance(error, KeyError) else error)) from None
    info = result["extractor"]
    print(f"\n[lsgan] evaluation of {result['model']}")
    print(f"  data          {result['data']} ({result['split']}: {result['num_real']} records, "
          f"{result['num_samples']} samples)")
    print(f"  extractor     {info['name']}" + (f" ({info['cache']} {info['path']})"
                                               if "path" in info and "cache" in info else ""))
    print()
    print(format_table(result))
    print()
    print(f"  metrics       {paths.absolute(result['metrics_json'])}")
    print(f"  samples       {paths.absolute(result['samples_png'])}")
    print(f"  took          {time.time() - start:.0f}s")
