"""``lsgan compile``: the pipeline as Kubeflow Pipelines JSON (KubeflowV2DagRunner).

  lsgan compile --image=gcr.io/me/lsgan:1 --root=gs://bucket/lsgan [--preset=digits]
                [--config=FILE] [--set k=v ...] [--source=... --input=...]
                [--output=pipeline.json]

The config is resolved and validated before TFX loads, and travels in the spec whole.
``--root`` is where the cluster writes every artifact (a bucket: ``gs://...``); a local path
is accepted with a warning, since the cluster's pods cannot see this machine's disk. As for
``lsgan run`` (``lsgan_tf.output_folder``), before TFX loads: ``name`` must be one plain folder
name (the serving folder ``<root>/serving/lsgan_<name>``), ``--root`` and ``--output`` may not
be empty, and the root may not be inside ``--input`` nor hold it (compared as paths of one
scheme: this machine cannot look into the cluster's storage).
"""
from __future__ import annotations

import sys

from absl import flags

from lsgan_tf import output_folder
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
flags.DEFINE_float("trainer_cpu", 0, "vCPUs of the Trainer's pod (0: the backend's default).")
flags.DEFINE_float("trainer_memory_gb", 0, "Memory of the Trainer's pod in GB (0: default).")
flags.DEFINE_string("trainer_accelerator", "", "Accelerator of the Trainer's pod, as the "
                    "backend names it: NVIDIA_TESLA_T4, NVIDIA_L4, ... on Vertex AI; "
                    "nvidia.com/gpu on Kubeflow Pipelines.")
flags.DEFINE_integer("trainer_accelerator_count", 0, "How many (with --trainer_accelerator).")
flags.mark_flag_as_required("image")
flags.mark_flag_as_required("root")


def serving_dir(root: str, config) -> str:
    """``<root>/serving/lsgan_<preset>``: TF Serving's model folder, as ``lsgan run`` lays it out."""
    return f"{root.rstrip('/')}/serving/lsgan_{config.name}"


def trainer_resources():
    """The Trainer's resources from the flags, or None when none was given."""
    from lsgan_tf.errors import UsageError

    if bool(FLAGS.trainer_accelerator) != bool(FLAGS.trainer_accelerator_count):
        raise UsageError("--trainer_accelerator and --trainer_accelerator_count go together "
                         "(e.g. --trainer_accelerator=NVIDIA_TESLA_T4 --trainer_accelerator_count=1)")
    if not (FLAGS.trainer_cpu or FLAGS.trainer_memory_gb or FLAGS.trainer_accelerator):
        return None
    from pipeline.kubeflow_runner import TrainerResources

    return TrainerResources(FLAGS.trainer_cpu, FLAGS.trainer_memory_gb, FLAGS.trainer_accelerator,
                            FLAGS.trainer_accelerator_count)


def check_paths(config) -> None:
    """``UsageError`` for an empty ``--root`` or ``--output``, a ``name`` that is not one plain
    folder name, or a root inside ``--input`` or holding it."""
    output_folder.check_name("name", config.name)
    output_folder.check_path_flag("--root", FLAGS.root)
    output_folder.check_path_flag("--output", FLAGS.output)
    output_folder.check_apart("--root", FLAGS.root, "--input", FLAGS.input)


def main(argv) -> None:
    config = resolve_from_flags(check_memory=False)  # the Trainer pod checks its own memory
    check_paths(config)
    resources = trainer_resources()
    if "://" not in FLAGS.root:
        print(f"lsgan compile: warning: --root={FLAGS.root} is a local path; the cluster's pods "
              "will not see it (use a bucket, e.g. gs://my-bucket/lsgan)", file=sys.stderr)
    from pipeline.kubeflow_runner import compile_pipeline

    path = compile_pipeline(config=config, image=FLAGS.image, output=FLAGS.output,
                            source=FLAGS.source, input_path=FLAGS.input, pipeline_root=FLAGS.root,
                            serving_dir=FLAGS.serving_dir or serving_dir(FLAGS.root, config),
                            beam_args=argv[1:], trainer_resources=resources)
    print(f"[lsgan] wrote the Kubeflow pipeline to {path}")
