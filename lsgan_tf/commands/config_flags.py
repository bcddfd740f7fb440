"""The flags every config-taking command shares (``--preset``, ``--config``, ``--set``) and
``resolve_from_flags``: ``lsgan_tf.config.resolve`` on them, with the command's own flags as
overrides placed before ``--set`` (so an explicit ``--set`` wins)."""
from __future__ import annotations

from typing import Sequence

from absl import flags

FLAGS = flags.FLAGS


def define_config_flags() -> None:
    flags.DEFINE_string("preset", "digits", "Experiment preset: digits, dcgan, lsun_112, "
                        "hwdb_3740, mog8 (or a plugin's).")
    flags.DEFINE_string("config", None, "Config file applied after the preset: JSON as written "
                        "to a run's config.json (repeats that run), or YAML; any subset of keys.")
    flags.DEFINE_multi_string("set", [], "Override one config key, applied last and in order: "
                              "--set optim.lr_d=1e-4 --set model.image_size=32.")


def resolve_from_flags(flag_overrides: Sequence[str] = (), needs_data_path: bool = False,
                       check_memory: bool = True):
    """The resolved, validated config (raises ``ConfigError``; imports no TensorFlow).
    ``check_memory``: the run must fit this machine's memory; False for a command whose run
    trains on another machine (``lsgan compile``)."""
    from lsgan_tf.config import resolve

    return resolve(FLAGS.preset, FLAGS.config, list(flag_overrides) + list(FLAGS.set),
                   needs_data_path=needs_data_path, check_memory=check_memory)
