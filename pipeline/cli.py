"""The ``lsgan`` command: ``lsgan SUBCOMMAND [--flags] [-- BEAM ARGS]``.

Each subcommand lives in its own module that defines its absl flags at import time and a
``main(argv)``; only the chosen module is imported, so flags of different subcommands never
collide and ``lsgan train`` does not import TFX or Beam.
"""
from __future__ import annotations

import importlib
import sys

SUBCOMMANDS = {
    "train": ("lsgan_tf.commands.train", "train a preset standalone (no TFX, no Beam)"),
    "generate": ("lsgan_tf.commands.generate", "write a PNG grid from a generator SavedModel"),
    "evaluate": ("lsgan_tf.commands.evaluate", "score a generator SavedModel against real data"),
    "prep": ("data_prep.command", "Beam: turn LSUN/HWDB/folders/IDX/TFDS into TFRecords"),
    "run": ("pipeline.commands.run", "run the TFX pipeline locally (LocalDagRunner)"),
    "compile": ("pipeline.commands.compile", "compile the TFX pipeline for Kubeflow"),
}


def usage() -> str:
    lines = ["usage: lsgan SUBCOMMAND [--flags]   (lsgan SUBCOMMAND --help for its flags)", ""]
    lines += [f"  {name:<9} {text}" for name, (_, text) in SUBCOMMANDS.items()]
    return "\n".join(lines)


def quiet_logs() -> None:
    """Keeps the console for progress and summaries: TF's C++ info lines and absl info off."""
    import os
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore", category=FutureWarning)
    from absl import logging

    logging.set_verbosity(logging.WARNING)


def main(argv=None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) < 2 or argv[1] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if len(argv) >= 2 else 2)
    name = argv[1]
    if name not in SUBCOMMANDS:
        print(f"lsgan: unknown subcommand {name!r}\n\n{usage()}", file=sys.stderr)
        sys.exit(2)
    quiet_logs()
    module = importlib.import_module(SUBCOMMANDS[name][0])
    from absl import app

    app.run(module.main, argv=[f"lsgan {name}"] + argv[2:])


if __name__ == "__main__":
    main()
