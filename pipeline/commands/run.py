"""``lsgan run``: the TFX pipeline, locally (LocalDagRunner, SQLite ML Metadata).

  lsgan run --preset=digits [--config=FILE] [--set k=v ...] [--source=NAME --input=PATH]
            [--root=DIR] [--thresholds=RULES] [--num_samples=N] [--no_cache] [-- BEAM ARGS]

The config (preset -> ``--config`` -> the evaluation flags -> ``--set``) is resolved and
validated before TFX loads; the pipeline carries it whole. Ends with the scores, whether the
model was blessed, where the pushed model, the sample grid, the metadata and the TensorBoard
logs are, and the command to open TensorBoard. One run at a time per root
(``pipeline.local_root``: a lock, and a metadata store that must open).

The root follows the output-folder contract (``lsgan_tf.output_folder``): absent, empty or a
root an earlier ``lsgan run`` made; it may not be inside ``--input`` nor hold it; ``name``
(the default root ``runs/pipeline/<name>``, the serving folder ``<root>/serving/lsgan_<name>``)
is one plain folder name. Each is checked before TFX loads.
"""
from __future__ import annotations

import time

from absl import flags

from lsgan_tf import output_folder
from lsgan_tf.commands.config_flags import define_config_flags, resolve_from_flags
from lsgan_tf.errors import UsageError

FLAGS = flags.FLAGS
define_config_flags()
flags.DEFINE_string("source", None, "data_prep source (default: the preset's own data).")
flags.DEFINE_string("input", "", "Input path for the source.")
flags.DEFINE_string("root", None, "Pipeline root (default runs/pipeline/<preset>).")
flags.DEFINE_integer("image_size", None, "Image size for the ExampleGen; it must equal "
                     "model.image_size (default: the model's).")
flags.DEFINE_string("charset", None, "hwdb charset for the ExampleGen.")
flags.DEFINE_integer("max_records", None, "Read at most this many records.")
flags.DEFINE_string("thresholds", None, "Blessing thresholds (sets eval.thresholds), e.g. "
                    "'fd_noise_ratio<=0.1,precision>=0.5'.")
flags.DEFINE_float("tolerance", None, "Allowed relative regression against the last blessed "
                   "model (sets eval.tolerance).")
flags.DEFINE_string("extractor", None, "Feature extractor of the evaluation (sets eval.extractor).")
flags.DEFINE_integer("num_samples", None, "Samples scored by the evaluator (sets eval.num_samples).")
flags.DEFINE_boolean("cache", True, "Reuse the results of unchanged components.")

PRESET_SOURCES = {"digits": "digits"}  # data sets that ship with the project


def eval_overrides() -> list:
    """The evaluation flags that were given, as ``eval.*`` overrides."""
    given = {"thresholds": FLAGS.thresholds, "tolerance": FLAGS.tolerance,
             "extractor": FLAGS.extractor, "num_samples": FLAGS.num_samples}
    return [f"eval.{key}={value}" for key, value in given.items() if value is not None]


def pipeline_source(config) -> str:
    """The ExampleGen's ``data_prep`` source: ``--source``, or the config's embedded data."""
    source = FLAGS.source or PRESET_SOURCES.get(config.data.source)
    if source is None:
        raise UsageError(f"preset {FLAGS.preset!r} has no embedded data; pass --source and "
                         "--input (e.g. --source=lsun --input=/data/bedroom_train_lmdb)")
    from data_prep.sources import SOURCES

    if source not in SOURCES:
        raise UsageError(f"--source={source}: unknown; known: {', '.join(SOURCES.names())}")
    return source


def pipeline_root(config) -> str:
    """``--root``, or ``runs/pipeline/<name>``; ``UsageError`` for an empty ``--root``, a
    ``name`` that is not a plain folder name, or a root inside ``--input`` or holding it."""
    output_folder.check_name("name", config.name)
    root = output_folder.check_path_flag("--root", FLAGS.root) if FLAGS.root is not None \
        else f"runs/pipeline/{config.name}"
    output_folder.check_apart("--root", root, "--input", FLAGS.input)
    return root


def check_image_size(config) -> None:
    """``--image_size`` may only repeat ``model.image_size``: the data contract stores images
    at the training size, so any other value would fail in the Trainer, minutes later."""
    if FLAGS.image_size is not None and FLAGS.image_size != config.model.image_size:
        raise UsageError(f"--image_size={FLAGS.image_size}: the {config.model.type} model "
                         f"trains on {config.model.image_size} x {config.model.image_size} "
                         f"images; set the model's size instead (--set "
                         f"model.image_size={FLAGS.image_size}), the ExampleGen follows it")


def main(argv) -> None:
    config = resolve_from_flags(eval_overrides())
    check_image_size(config)
    from lsgan_tf.metrics import fid_weights
    from pipeline.local_root import claim

    fid_weights.check_config(config.eval)  # missing FID weights: one line, before TFX loads

    start = time.time()
    with claim(pipeline_root(config)) as root:
        source = pipeline_source(config)
        from pipeline.local_runner import run_local  # TFX loads here, once the root is ours
        from pipeline.summary import format_summary, latest_outputs

        where = run_local(root=root, config=config, source=source, input_path=FLAGS.input,
                          beam_args=argv[1:] or None, enable_cache=FLAGS.cache,
                          image_size=FLAGS.image_size, charset=FLAGS.charset,
                          max_records=FLAGS.max_records)
        print(format_summary(latest_outputs(where.metadata), where.metadata,
                             time.time() - start))
