"""``lsgan compile``: the pipeline as Kubeflow Pipelines JSON (KubeflowV2DagRunner).

  lsgan compile --preset=digits --image=gcr.io/me/lsgan:1 --output=pipeline.json
                [--root=gs://bucket/lsgan] [--source=... --input=...] [--set k=v ...]
"""
from __future__ import annotations

import sys

from absl import flags

FLAGS = flags.FLAGS
flags.DEFINE_string("preset", "digits", "Experiment preset.")
flags.DEFINE_string("image", None, "Container image holding this project.")
flags.DEFINE_string("output", "pipeline.json", "Where to write the pipeline JSON.")
flags.DEFINE_string("root", "gs://YOUR_BUCKET/lsgan", "Pipeline root on the cluster.")
flags.DEFINE_string("serving_dir", None, "Push destination (default <root>/serving).")
flags.DEFINE_string("source", "digits", "data_prep source.")
flags.DEFINE_string("input", "", "Input path for the source, as seen from the cluster.")
flags.DEFINE_multi_string("set", [], "Config override for the Trainer.")
flags.mark_flag_as_required("image")


def main(argv) -> None:
    from pipeline.kubeflow_runner import compile_pipeline

    path = compile_pipeline(preset=FLAGS.preset, image=FLAGS.image, output=FLAGS.output,
                            source=FLAGS.source, input_path=FLAGS.input, pipeline_root=FLAGS.root,
                            serving_dir=FLAGS.serving_dir or f"{FLAGS.root}/serving",
                            overrides=FLAGS.set, beam_args=argv[1:])
    print(f"[lsgan] wrote the Kubeflow pipeline to {path}")
