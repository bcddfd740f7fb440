"""``lsgan train``: train a preset standalone (no TFX, no Beam) and export the generator.

  lsgan train --preset=digits --out=runs/digits [--config=FILE] [--data=DIR] [--steps=N]
              [--set k=v ...]

The config is the preset, then ``--config`` (``--config=runs/x/config.json`` repeats run x),
then ``--data``/``--steps``, then each ``--set``; it is validated before TensorFlow loads.
``--data`` points at a prepared directory (``lsgan prep`` output); without it the preset's own
data is used. Running again with the same ``--out`` resumes from the latest checkpoint when the
model, loss, data and optimiser settings match the run's ``config.json``; training length and
logging may change. A resume starts from the newest intact checkpoint (a damaged one is named
and moved to ``checkpoints/damaged-<time>/``); a folder that holds checkpoints never starts over
at step 0 unless ``--fresh`` says so, which first moves the previous run to
``<out>/previous-<time>/``.

``--out`` follows the output-folder contract (``lsgan_tf.output_folder``): an absent or empty
folder, or a run folder an earlier ``lsgan train`` made; anything else is refused before a
write. While it trains, ``lsgan train`` holds ``<out>/run.lock`` (a local ``--out``): a second
``lsgan train`` on the same ``--out`` fails at once, naming the process that holds it.

SIGTERM (Kubernetes, preemptible VMs) saves a checkpoint at the current step, prints
``lsgan train: preempted (SIGTERM) at step N: checkpoint saved to ...`` and exits with 143
(128 + SIGTERM); the same command resumes from step N. With ``--set train.strategy=multi_worker``
and ``TF_CONFIG``, run the same command in every worker: only the chief writes to ``--out``,
so only the chief checks, marks and locks it (``lsgan_tf.cluster_role``).
A lost peer ends every worker with one line naming it and the chief's last checkpoint (exit
status 1: rerun all workers to resume); a port in use or peers that never come up within
``LSGAN_PEER_TIMEOUT_S`` (default 600 s) is one line and exit status 2 (``lsgan_tf.peers``).
"""
from __future__ import annotations

import contextlib
import os
import sys
import time

from absl import flags

from lsgan_tf import output_folder, paths
from lsgan_tf.cluster_role import writes_outputs
from lsgan_tf.commands.config_flags import define_config_flags, resolve_from_flags
from lsgan_tf.errors import UsageError

FLAGS = flags.FLAGS
define_config_flags()
flags.DEFINE_string("data", None, "Prepared data directory (Split-train/, Split-eval/, labels.txt).")
flags.DEFINE_string("out", None, "Output directory of the run (a second run resumes there).")
flags.DEFINE_integer("steps", None, "Training steps (sets train.steps).")
flags.DEFINE_boolean("fresh", False, "Start over at step 0 in an --out that holds a run: its "
                     "files (config.json, checkpoints/, logs/, samples/, saved_model*/, "
                     "best.json) are first moved to <out>/previous-<time>/; nothing is deleted.")
flags.mark_flag_as_required("out")


def flag_overrides(data=None, steps=None):
    """``--data`` and ``--steps`` as overrides (placed before ``--set``)."""
    sets = []
    if data:
        sets += ["data.source=tfrecord", f"data.path={paths.absolute(data)}"]
    if steps is not None:
        sets.append(f"train.steps={steps}")
    return sets


def print_summary(result, seconds: float) -> None:
    out = paths.absolute(result.out_dir)
    if not result.chief:
        print(f"\n[lsgan] training finished ({result.step} steps in {seconds:.0f}s); the chief "
              f"wrote the outputs to {out}", flush=True)
        return
    print("\n[lsgan] training finished", flush=True)
    print(f"  steps         {result.step} in {seconds:.0f}s")
    print("  last losses   " + ", ".join(f"{k}={v:.4f}" for k, v in result.metrics.items()))
    if result.samples:
        print(f"  sample grid   {paths.absolute(result.samples)}")
    print(f"  saved model   {paths.absolute(result.saved_model)}")
    print(f"  checkpoints   {paths.absolute(result.checkpoints)}")
    print(f"  config        {os.path.join(out, 'config.json')}")
    print(f"  tensorboard   tensorboard --logdir {paths.absolute(result.logs)}")


def main(argv) -> None:
    if len(argv) > 1:
        raise UsageError(f"unexpected arguments {argv[1:]}")
    out = output_folder.check_path_flag("--out", FLAGS.out)
    config = resolve_from_flags(flag_overrides(FLAGS.data, FLAGS.steps), needs_data_path=True)
    if config.eval.every:
        from lsgan_tf.metrics import fid_weights

        fid_weights.check_config(config.eval, ("select_extractor",))
    with contextlib.ExitStack() as held:
        if writes_outputs(config.train.strategy):
            held.enter_context(output_folder.claim(out, output_folder.TRAIN))
        run(config, out)


def run(config, out: str) -> None:
    """Trains into ``out`` (claimed by the caller) and prints the summary; a divergence is
    one line (exit 1), a preemption one line and exit status 143."""
    from lsgan_tf.peers import PeerLost
    from lsgan_tf.training import EXIT_PREEMPTED, Preempted, TrainingDiverged, train

    start = time.time()
    try:
        result = train(config, out, fresh=FLAGS.fresh)
    except (TrainingDiverged, PeerLost) as error:  # one line, exit status 1
        sys.exit(f"lsgan train: {error}")
    except Preempted as stop:
        print(f"lsgan train: {stop}", file=sys.stderr, flush=True)
        sys.exit(EXIT_PREEMPTED)
    print_summary(result, time.time() - start)
