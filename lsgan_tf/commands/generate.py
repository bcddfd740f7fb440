"""``lsgan generate``: a PNG grid of samples from a generator SavedModel.

  lsgan generate --model=runs/digits/saved_model --n=64 [--label=K] [--seed=S] --out=grid.png

A conditional model needs ``--label`` for one class, or draws row i from class i (mod classes)
when ``--label`` is not given. ``--out`` names the PNG file (one there is replaced); an empty
``--out`` or a folder is refused in one line, before the model loads.
"""
from __future__ import annotations

import os

from absl import flags

from lsgan_tf import output_folder, paths
from lsgan_tf.errors import UsageError

FLAGS = flags.FLAGS
flags.DEFINE_string("model", None, "Generator SavedModel directory.")
flags.DEFINE_integer("n", 64, "Number of samples.")
flags.DEFINE_integer("label", None, "Class of every sample (conditional models).")
flags.DEFINE_integer("seed", 0, "Noise seed.")
flags.DEFINE_string("out", "grid.png", "Output PNG path.")
flags.mark_flag_as_required("model")


def labels_for(n: int, num_classes: int, label, ncol: int):
    """All ``label`` when given, else row r of the grid from class r mod num_classes."""
    import numpy as np

    if not num_classes:
        return None
    if label is not None:
        if not 0 <= label < num_classes:
            raise ValueError(f"--label must be in [0, {num_classes}), got {label}")
        return np.full(n, label, np.int64)
    return (np.arange(n) // ncol % num_classes).astype(np.int64)


def main(argv) -> None:
    import math

    from lsgan_tf.tf_import import tensorflow_without_keras

    out = output_folder.check_path_flag("--out", FLAGS.out, "PNG file")
    tensorflow_without_keras()  # a SavedModel needs no Keras: a third of the start-up saved
    if paths.isdir(out):
        raise UsageError(f"--out={out} is a folder; name the PNG file to write in it "
                         f"(--out={os.path.join(out, 'grid.png')})")
    from lsgan_tf.images import save_grid
    from lsgan_tf.saved_model_check import load_generator

    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {argv[1:]}")
    if FLAGS.n < 1:
        raise UsageError("--n must be >= 1")
    client = load_generator(FLAGS.model)  # UsageError: one line, exit 2
    try:
        ncol = max(1, math.ceil(math.sqrt(FLAGS.n)))
        labels = labels_for(FLAGS.n, client.num_classes, FLAGS.label, ncol)
    except (FileNotFoundError, ValueError) as error:
        raise UsageError(str(error)) from None
    if client.output_kind != "images":
        raise UsageError(f"--model={FLAGS.model} makes {client.output_kind}, not images")
    path = save_grid(client.sample(FLAGS.n, FLAGS.seed, labels), FLAGS.out, ncol)
    print(f"[lsgan] wrote {FLAGS.n} samples to {paths.absolute(path)}")
