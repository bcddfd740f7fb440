"""``lsgan run``: the TFX pipeline, locally (LocalDagRunner, SQLite ML Metadata).

  lsgan run --preset=digits [--source=NAME --input=PATH] [--root=DIR] [--set k=v ...]
            [--thresholds=JSON] [--no_cache] [-- BEAM ARGS]

Ends with the scores, whether the model was blessed, where the pushed model, the sample grid,
the metadata and the TensorBoard logs are, and the command to open TensorBoard.
"""
from __future__ import annotations

import json
import sys
import time

from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "digits", "Experiment preset.")
flags.DEFINE_string("source", None, "data_prep source (default: the preset's own data).")
flags.DEFINE_string("input", "", "Input path for the source.")
flags.DEFINE_string("root", None, "Pipeline root (default runs/pipeline/<preset>).")
flags.DEFINE_multi_string("set", [], "Config override for the Trainer: --set train.steps=500.")
flags.DEFINE_integer("image_size", None, "Image size for the ExampleGen.")
flags.DEFINE_string("charset", None, "hwdb charset for the ExampleGen.")
flags.DEFINE_integer("max_records", None, "Read at most this many records.")
flags.DEFINE_string("thresholds", None, 'Blessing thresholds as JSON, e.g. \'{"fd": {"max": 5}}\'.')
flags.DEFINE_float("tolerance", 0.1, "Allowed relative regression against the last blessed model.")
flags.DEFINE_string("extractor", "auto", "Feature extractor of the evaluation.")
flags.DEFINE_integer("num_samples", None, "Samples scored by the evaluator.")
flags.DEFINE_boolean("cache", True, "Reuse the results of unchanged components.")

PRESET_SOURCES = {"digits": "digits"}  # presets whose data ships with the project


def main(argv) -> None:
    from pipeline.local_runner import run_local
    from pipeline.summary import format_summary, latest_outputs

    source = FLAGS.source or PRESET_SOURCES.get(FLAGS.preset)
    if source is None:
        sys.exit(f"lsgan run: preset {FLAGS.preset!r} has no embedded data; pass --source and "
                 "--input (e.g. --source=lsun --input=/data/bedroom_train_lmdb)")
    try:
        thresholds = json.loads(FLAGS.thresholds) if FLAGS.thresholds else None
    except json.JSONDecodeError as error:
        sys.exit(f"lsgan run: --thresholds is not JSON: {error}")
    start = time.time()
    where = run_local(root=FLAGS.root or f"runs/pipeline/{FLAGS.preset}", preset=FLAGS.preset,
                      source=source, input_path=FLAGS.input, overrides=FLAGS.set,
                      beam_args=argv[1:] or None, enable_cache=FLAGS.cache,
                      image_size=FLAGS.image_size, charset=FLAGS.charset,
                      max_records=FLAGS.max_records, thresholds=thresholds,
                      tolerance=FLAGS.tolerance, extractor=FLAGS.extractor,
                      num_samples=FLAGS.num_samples)
    print(format_summary(latest_outputs(where.metadata), where.metadata, time.time() - start))
