"""What many tests share: tiny settings for every test that trains, exports or runs a model
(one list of small-model overrides, ``TINY_MODEL``, so a model's test size changes in one
place), synthetic batches, ``tree`` and ``image_folder`` (a folder's bytes before and after a
command), and ``deadline`` (a hang fails the test).

``tests/`` is on ``sys.path`` (``tests/conftest.py``), so any test imports this as ``helpers``.
"""
import contextlib

from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset

# Small widths for every built-in model (a key a model does not read is ignored by it).
TINY_MODEL = ["model.g_width=8", "model.d_width=8", "model.d_dense=16", "model.phi_dim=4",
              "model.noise.dim=8", "model.hidden=16"]
# A pipeline run on digits in a minute: a few steps, a small evaluation, a lenient tolerance.
TINY_PIPELINE = TINY_MODEL + ["train.steps=4", "train.batch_size=16", "train.log_every=2",
                              "eval.num_samples=300", "eval.tolerance=10"]


def as_flags(sets):
    """``["a=1"]`` -> ``["--set=a=1"]``: overrides as ``lsgan`` command-line flags."""
    return [f"--set={item}" for item in sets]


def imported_modules(stderr: str) -> set:
    """The modules a ``python -X importtime`` run imported, read from its stderr."""
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


def tiny_digits(steps=4, **overrides):
    """The digits preset with ``TINY_MODEL``, a small batch and one step per call (tests that
    follow single steps), for fast training tests."""
    sets = [*TINY_MODEL, f"train.steps={steps}", "train.batch_size=8", "train.log_every=2",
            "train.sample_every=1000", "train.checkpoint_every=2", "train.steps_per_loop=1"]
    sets += [f"{k}={v}" for k, v in overrides.items()]
    return config_lib.apply_overrides(get_preset("digits"), sets)


def tiny_sets(model_type):
    """Overrides that make ``model_type`` the digits preset's model at the smallest
    configuration its ``ModelSupport`` states it builds, with ``TINY_MODEL`` widths: the
    first listed image size (else the smallest multiple of ``size_multiple`` >= 16), the first
    listed channel count, 3 classes when conditional (else 0), and ``data.source=tfrecord``
    (no data checks: the caller feeds its own batches)."""
    from lsgan_tf.models.common import POINTS, ModelSupport
    from lsgan_tf.registry import MODELS

    support = MODELS.info(model_type).get("supports") or ModelSupport()
    if support.outputs == POINTS:
        size, channels = 0, 0
    else:
        multiple = support.size_multiple
        size = support.image_sizes[0] if support.image_sizes else multiple * -(-16 // multiple)
        channels = support.channels[0]
    return [*TINY_MODEL, f"model.type={model_type}", f"model.image_size={size}",
            f"model.channels={channels}", f"model.num_classes={3 if support.conditional else 0}",
            "data.source=tfrecord"]


def synthetic_batch(config, size=4):
    """A training batch of ``size`` rows for ``config``'s model, from seed 0: ``real`` in
    [-1, 1] (points [size, 2] for ``mog_mlp``, else images), labels below ``num_classes``, and
    ``z_d``, ``z_g`` in [-1, 1]."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    m = config.model
    shape = (size, 2) if m.type == "mog_mlp" else (size, m.image_size, m.image_size, m.channels)
    return {"real": tf.constant(rng.uniform(-1, 1, shape), tf.float32),
            "label": tf.constant(rng.integers(0, max(1, m.num_classes), size), tf.int64),
            "z_d": tf.constant(rng.uniform(-1, 1, (size, m.noise.dim)), tf.float32),
            "z_g": tf.constant(rng.uniform(-1, 1, (size, m.noise.dim)), tf.float32)}


def tree(root):
    """{relative path: bytes (files) or None (folders)} of everything under ``root``: what a
    test compares before and after a command that must not touch it."""
    import os

    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = None
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root)] = handle.read()
    return found


def image_folder(path):
    """A ``folder`` source input at ``path`` (a pathlib.Path): two classes of one 8 x 8 PNG
    each; returns its ``tree``."""
    import numpy as np

    from data_prep.testdata import encode_image

    for label in ("cats", "dogs"):
        (path / label).mkdir(parents=True)
        (path / label / "a.png").write_bytes(encode_image(np.zeros((8, 8, 3)), "PNG"))
    return tree(path)


class Hung(BaseException):
    """Raised by ``deadline``: a BaseException, so that no ``except OSError`` (TimeoutError is
    one) or ``except Exception`` in the code under test can take it for bad input."""


@contextlib.contextmanager
def deadline(seconds: int, what: str = "the block (a blocking open?)"):
    """Fails the test (instead of hanging it) when the block runs longer than ``seconds``
    (``signal.alarm``: the main thread only)."""
    def expire(signum, frame):
        raise Hung(f"{what}: still running after {seconds} s")

    import signal

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _command_modules():
    from pipeline import cli

    return [module for module, _ in cli.SUBCOMMANDS.values()]


@contextlib.contextmanager
def only_the_flags_of(module_name):
    """The ``lsgan`` subcommands define flags of the same names in their own modules
    (``--model``, ``--out``), which absl refuses in one process: for the block, the flags of the
    other subcommand modules already imported (by other tests) are taken out of ``FLAGS``, and
    ``module_name`` is imported anew; after it, its flags are taken out, the module forgotten
    and the others' flags put back."""
    import sys

    from absl import flags

    registry = flags.FLAGS
    by_module = registry.flags_by_module_dict()
    others = {name: list(by_module[name]) for name in _command_modules()
              if name != module_name and name in by_module}
    for defined in others.values():
        for flag in defined:
            delattr(registry, flag.name)
    sys.modules.pop(module_name, None)
    try:
        yield
    finally:
        registry.unparse_flags()
        for flag in list(registry.flags_by_module_dict().get(module_name, [])):
            delattr(registry, flag.name)
        sys.modules.pop(module_name, None)
        for name, defined in others.items():
            for flag in defined:
                registry[flag.name] = flag
                registry.register_flag_by_module(name, flag)


def lsgan_in_process(capsys):
    """``run(SUBCOMMAND, *ARGS)``: ``lsgan SUBCOMMAND ARGS`` in this process -> (exit status,
    stdout, stderr), with only that subcommand's flags defined (``only_the_flags_of``), so
    tests of several subcommands share one process; ``capsys`` is pytest's fixture."""
    from pipeline import cli

    def run(name, *args):
        with only_the_flags_of(cli.SUBCOMMANDS[name][0]):
            try:
                cli.main(["lsgan", name, *args])
                status = 0
            except SystemExit as exit_:  # None: success; a message (sys.exit("...")): status 1
                status = 0 if exit_.code is None else exit_.code
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run
