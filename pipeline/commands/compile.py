"""``lsgan compile``: the pipeline as Kubeflow Pipelines JSON (KubeflowV2DagRunner).

  lsgan compile --image=gcr.io/me/lsgan:1 --root=gs://bucket/lsgan [--preset=digits]
                [--config=FILE] [--set k=v ...] [--source=... --input=...]
                [--output=pipeline.json]

The config is resolved and validated before TFX loads, and travels in the spec whole.
``--root`` is where the cluster writes every artifact (a bucket: ``gs://...``); a local path
is accepted with a warning, since the cluster's pods cannot see this machine's disk.
"""
from __future__ import annotations

import sys

from absl import flags

from lsgan_tf.commands.config_flags import define_config_flags, resolve_from_flags

FLAGS = flags.FLAGS
define_config_flags()
flags.DEFINE_string("image", None, "Container image holding this project.")
flags.DEFINE_string("output", "pipeline.json", "Where to write the pipeline JSON.")
flags.DEFINE_string("root", None, "Pipeline root on the cluster, e.g. gs://my-bucket/lsgan.")
flags.DEFINE_string("serving_dir", None, "Push destination (default "
                    "<root>/serving/lsgan_<preset>, the layout lsgan run uses).")
flags.DEFINE_string("source", "digits", "data_prep source.")
flags.DEFINE_string("input", "", "Input path for the source, as seen from the cluster.")
flags.mark_flag_as_required("image")
flags.mark_flag_as_required("root")


def serving_dir(root: str, config) -> str:
    """``<root>/serving/lsgan_<preset>``: TF Serving's model folder, as ``lsgan run`` lays it out."""
    return f"{root.rstrip('/')}/serving/lsgan_{config.name}"


def main(argv) -> None:
    config = resolve_from_flags()
    if "://" not in FLAGS.root:
        print(f"lsgan compile: warning: --root={FLAGS.root} is a local path; the cluster's pods "
              "will not see it (use a bucket, e.g. gs://my-bucket/lsgan)", file=sys.stderr)
    from pipeline.kubeflow_runner import compile_pipeline

    path = compile_pipeline(config=config, image=FLAGS.image, output=FLAGS.output,
                            source=FLAGS.source, input_path=FLAGS.input, pipeline_root=FLAGS.root,
                            serving_dir=FLAGS.serving_dir or serving_dir(FLAGS.root, config),
                            beam_args=argv[1:])
    print(f"[lsgan] wrote the Kubeflow pipeline to {path}")
