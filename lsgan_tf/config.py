"""Experiment configuration: frozen dataclasses, one resolution chain, validation, JSON.

``ExperimentConfig`` has the parts ``data``, ``model``, ``loss``, ``optim``, ``train`` and
``eval``. Every entry point (``lsgan train``, ``lsgan run``, ``lsgan compile``, the TFX
Trainer through the JSON it is given) gets its config from ``resolve``, as Model Garden does:

    preset (``lsgan_tf.presets``) -> config file (``--config``: JSON as written to
    ``config.json``, or YAML; any subset of keys) -> ``--set a.b=value`` overrides, in order
    -> ``validate()``

``apply_overrides`` type-checks each dotted key; ``validate`` checks registry keys (model, loss,
data source, extractor), enums (strategy, optimizer, noise), the bounds of every number, the
memory a run needs, and what the model and the data source state they support. A config file
is untrusted input (``lsgan_tf.config_files``: size, encoding, depth and alias limits); every
section must be a mapping with string keys, every value of its field's type. Every failure is
a ``ConfigError`` whose one-line message names the key (and the file), the value
(``lsgan_tf.messages.shown``: escaped and cut short) and what is allowed. Nothing in this module imports
TensorFlow, so a bad setting is reported in about a second. ``to_json`` / ``from_json`` round
trip exactly; a run writes its resolved config as ``config.json`` (``load`` reads it back, a
damaged one a ``ConfigError`` naming the file), and ``resume_conflicts`` says whether a run
may resume from a folder written with another config.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from lsgan_tf.config_files import json_values, parse_config_file, read_text
from lsgan_tf.dotted import flatten
from lsgan_tf.errors import ConfigError
from lsgan_tf.messages import shown, shown_path, shown_text


@dataclasses.dataclass(frozen=True)
class NoiseConfig:
    """Noise prior of the generator.

    Attributes:
      distribution: ``uniform`` (U(-1, 1) per dimension) or ``normal`` (N(0, 1)).
      dim: size of z.
    """
    distribution: str = "uniform"
    dim: int = 100


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the training data comes from.

    Attributes:
      source: a built-in data set that needs no files (``digits``, ``mog8``) or ``tfrecord``
        for a prepared directory in the data contract (``path``).
      path: the prepared directory (``lsgan prep`` output or a TFX Examples artifact split root).
      eval_fraction: share of records in the eval split for built-in sources.
      shuffle_buffer: tf.data shuffle buffer size (records).
      cache_mb: a prepared split whose decoded images take at most this many MiB (records
        from ``stats.json`` x height x width x channels bytes) is decoded once and kept in
        memory; a larger one is decoded batch by batch every epoch. 0: never cache.
    """
    source: str = "digits"
    path: str = ""
    eval_fraction: float = 0.1
    shuffle_buffer: int = 10000
    cache_mb: int = 4096


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Which networks to build (``type`` is the key in the model registry) and their sizes.

    Attributes:
      type: ``lsun_112``, ``conditional``, ``dcgan`` or ``mog_mlp``.
      noise: the noise prior.
      image_size, channels: output image shape (``image_size`` x ``image_size`` x ``channels``).
      num_classes: classes of a conditional model (0: unconditional).
      phi_dim: width of the linear label map Phi(y) of the conditional model.
      g_width, d_width: base number of channels of G and D.
      d_dense: width of the conditional D's dense layer (1024 in the paper).
      g_batchnorm, d_batchnorm: batch norm in G / in D (the no-BN stability experiments).
      hidden: width of the MLP layers of ``mog_mlp``.
    """
    type: str = "conditional"
    noise: NoiseConfig = NoiseConfig()
    image_size: int = 28
    channels: int = 1
    num_classes: int = 10
    phi_dim: int = 256
    g_width: int = 128
    d_width: int = 320
    d_dense: int = 1024
    g_batchnorm: bool = True
    d_batchnorm: bool = True
    hidden: int = 128


@dataclasses.dataclass(frozen=True)
class LossConfig:
    """The GAN objective (``type`` is the key in the loss registry).

    Attributes:
      type: ``ls`` (a, b, c) = (0, 1, 1), ``pearson`` (-1, 1, 0), ``least_squares`` (labels from
        ``a``, ``b``, ``c``), ``ns`` (non-saturating GAN) or ``minimax`` (regular GAN).
      a, b, c: least-squares labels for fake data (D), real data (D) and fake data (G); used by
        ``least_squares`` only.
    """
    type: str = "ls"
    a: float = 0.0
    b: float = 1.0
    c: float = 1.0


@dataclasses.dataclass(frozen=True)
class OptimConfig:
    """Optimisers of D and G.

    Attributes:
      optimizer: ``adam`` or ``rmsprop``.
      lr_d, lr_g: learning rates.
      beta1, beta2: Adam moments (ignored by RMSProp).
      epsilon: the optimisers' epsilon (Keras' default 1e-7; the LSGAN authors' TensorFlow 1
        code uses TF1's 1e-8).
    """
    optimizer: str = "adam"
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    epsilon: float = 1e-7


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """The training loop.

    Attributes:
      batch_size: global batch size (split over the replicas of the strategy).
      steps: number of (D step, G step) pairs.
      strategy: ``default``, ``one_device``, ``mirrored``, ``multi_worker`` or ``tpu``.
      tpu: TPU address for the ``tpu`` strategy ('' = the local / environment TPU).
      seed: seed of the weights, the data order and the noise.
      checkpoint_every, keep_checkpoints: checkpoint interval (steps) and how many to keep.
      log_every: console and TensorBoard scalar interval (steps).
      sample_every: sample-grid interval (steps).
      ema_decay: decay of the exponential moving average of G's weights (0: off).
      update: ``alternating`` (D's gradient is applied, then G's is taken at the new D) or
        ``simultaneous`` (both gradients taken at the same weights, then applied together: the
        LSGAN authors' single ``sess.run([g_train_op, d_train_op])``).
      g_noise: ``fresh`` (G's step draws its own z) or ``shared`` (G's step uses the D step's z;
        with ``simultaneous``, the same forward pass serves both losses). The authors' scheme
        is ``simultaneous`` + ``shared``.
      precision: ``auto`` (the machine's fast type, see ``lsgan_tf.precision``), ``float32``,
        ``bfloat16`` or ``float16`` (mixed precision: 16-bit compute, float32 variables and
        losses; float16 with loss scaling).
      steps_per_loop: steps run inside one ``tf.function`` call (a ``tf.range`` loop) before
        control returns to Python; progress, the NaN guard, samples, checkpoints and the SIGTERM
        check happen between calls (a call never crosses a multiple of ``log_every``,
        ``sample_every`` or ``checkpoint_every``). Larger values keep GPUs and TPUs busy.
    """
    batch_size: int = 64
    steps: int = 2000
    strategy: str = "default"
    tpu: str = ""
    seed: int = 0
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    log_every: int = 100
    sample_every: int = 500
    ema_decay: float = 0.0
    update: str = "alternating"
    g_noise: str = "fresh"
    precision: str = "auto"
    steps_per_loop: int = 1


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Sample-quality evaluation and the blessing rule of the pipeline's evaluator.

    Attributes:
      extractor: feature extractor (``classifier``, ``rotation``, ``inception``, ``identity``;
        ``auto`` picks ``classifier`` for labelled data and ``rotation`` otherwise).
      num_samples: generated samples scored.
      inception_path: local Inception-v3 weights file or SavedModel for ``inception``.
      thresholds: bounds a model must meet to be blessed, ``SCORE<=VALUE`` or ``SCORE>=VALUE``
        (``--set eval.thresholds=fd_noise_ratio<=0.2,precision>=0.5``); see ``parse_thresholds``.
      tolerance: allowed relative regression of each thresholded score (and ``fd``) against
        the last blessed model.
      every: in-training selection (``lsgan_tf.best_checkpoint``): every ``every`` steps and
        at the last step, training scores the generator it would export and keeps the best
        one in ``checkpoints/best/`` and ``best.json``; ``saved_model/`` is then the best
        generator and ``saved_model_last/`` the last. 0 (the default): off, ``saved_model/``
        is the last generator.
      select: the score that picks the best: one of ``lsgan_tf.scores.SELECTABLE``, lower
        or higher is better as ``lsgan_tf.scores.direction`` says (default ``fd``, lower).
      select_samples: samples (from fixed noise) generated for each in-training score.
      select_extractor: the feature extractor of the in-training score; ``auto`` applies
        ``extractor``'s ``auto`` rule. It is trained (or found in the extractor cache) once
        per run, and the real split's features are computed once per run.
    """
    extractor: str = "auto"
    num_samples: int = 1000
    inception_path: str = ""
    thresholds: Tuple[str, ...] = ("fd_noise_ratio<=0.25", "precision>=0.3")
    tolerance: float = 0.1
    every: int = 0
    select: str = "fd"
    select_samples: int = 2000
    select_extractor: str = "auto"


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """The exported generator SavedModel (``lsgan_tf.export``).

    Attributes:
      max_batch: the most samples one request may ask for (rows of ``z``, or ``n`` of the
        ``generate`` signature); larger requests are refused by the model, so that a client
        cannot make the server allocate without bound.
    """
    max_batch: int = 1024


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment; ``name`` is the preset it came from."""
    name: str = "digits"
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    loss: LossConfig = LossConfig()
    optim: OptimConfig = OptimConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()
    export: ExportConfig = ExportConfig()


# --- --set overrides -----------------------------------------------------------------------------


def _field_types(cls) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


def _kind_name(kind: Any) -> str:
    return "list of strings" if typing.get_origin(kind) is tuple else kind.__name__


def _parse_value(text: str, kind: Any, key: str) -> Any:
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            return float(text)
        if kind is str:
            return text
        if typing.get_origin(kind) is tuple:
            return tuple(item.strip() for item in text.split(",") if item.strip())
    except ValueError:  # int() of more than 4,300 digits too
        raise ConfigError(f"--set {shown_text(key)}={shown_text(text)}: expected "
                          f"{_kind_name(kind)}, got {shown(text)}") from None
    raise ConfigError(f"--set {shown_text(key)}: cannot set a whole section ({kind.__name__}); "
                      "name a field")


def _replace_path(node: Any, path: Tuple[str, ...], text: str, full_key: str) -> Any:
    types = _field_types(type(node))
    head = path[0]
    if head not in types:
        known = ", ".join(f.name for f in dataclasses.fields(node))
        raise ConfigError(f"--set {shown_text(full_key)}: unknown key {shown(head)} in "
                          f"{type(node).__name__} (known: {known})")
    if len(path) == 1:
        return dataclasses.replace(node, **{head: _parse_value(text, types[head], full_key)})
    child = getattr(node, head)
    if not dataclasses.is_dataclass(child):
        raise ConfigError(f"--set {shown_text(full_key)}: {head!r} is a "
                          f"{_kind_name(types[head])}, not a section")
    return dataclasses.replace(node, **{head: _replace_path(child, path[1:], text, full_key)})


def apply_overrides(config: ExperimentConfig, overrides: Iterable[str]) -> ExperimentConfig:
    """Returns ``config`` with each ``a.b=value`` override applied, in order."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {shown(item)}: expected KEY=VALUE, e.g. optim.lr_d=1e-4")
        key, text = item.split("=", 1)
        config = _replace_path(config, tuple(key.strip().split(".")), text, key.strip())
    return config


# --- dictionaries (config files, config.json) ----------------------------------------------------


def to_dict(config: Any) -> Dict[str, Any]:
    return dataclasses.asdict(config)


def _section(values: Any, where: str) -> Mapping[str, Any]:
    """``values`` when it is a mapping with string keys (a section); else a ``ConfigError``
    naming the section."""
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping of keys (a section), got "
                          f"{shown(values)}")
    for key in values:
        if not isinstance(key, str):
            raise ConfigError(f"{where or 'config'}: keys must be strings, got {shown(key)}")
    return values


def _typed(kind: Any, value: Any, key: str) -> Any:
    """``value`` as a field of type ``kind`` (an int stands for a float), or a ``ConfigError``
    naming ``key``."""
    if dataclasses.is_dataclass(kind):
        return _from_dict(kind, value, key)
    if typing.get_origin(kind) is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ConfigError(f"{key}: expected float, got {shown(value)} (beyond the float "
                              "range)") from None
    elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{key}: expected {_kind_name(kind)}, got {shown(value)}")


def _from_dict(cls, values: Any, where: str):
    types = _field_types(cls)
    unknown = [key for key in _section(values, where) if key not in types]
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown keys {shown(sorted(unknown))} for "
                          f"{cls.__name__}")
    return cls(**{name: _typed(types[name], value, f"{where}.{name}".lstrip("."))
                  for name, value in values.items()})


def from_dict(values: Dict[str, Any]) -> ExperimentConfig:
    return _from_dict(ExperimentConfig, values, "")


def merge_dict(config: Any, values: Mapping[str, Any], where: str = "") -> Any:
    """``config`` with the fields in ``values`` (nested dicts, any subset of keys) replaced,
    type-checked as ``from_dict`` does: every section a mapping with string keys, every value
    of its field's type."""
    current = dataclasses.asdict(config)
    merged = _deep_update(current, _section(values, where))
    return _from_dict(type(config), merged, where)


def _deep_update(base: Dict[str, Any], values: Mapping[str, Any]) -> Dict[str, Any]:
    result = dict(base)
    for key, value in values.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), dict):
            result[key] = _deep_update(result[key], value)
        else:
            result[key] = value
    return result


def to_json(config: ExperimentConfig) -> str:
    return json.dumps(to_dict(config), indent=2, sort_keys=True)


def from_json(text: str) -> ExperimentConfig:
    """The config of ``to_json``'s text; a ``ConfigError`` when it is not such JSON."""
    return from_dict(json_values(text))


def save(config: ExperimentConfig, path: str) -> str:
    """Writes the resolved config as JSON (``config.json`` next to a run's outputs)."""
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(to_json(config) + "\n")
    return path


def load(path: str) -> ExperimentConfig:
    """A whole config from a JSON file (``config.json`` of a run); a ``ConfigError`` naming
    the file when it cannot be read or does not hold one."""
    text = read_text(path)
    try:
        return from_json(text)
    except ConfigError as error:
        raise ConfigError(f"{shown_path(path)}: {error}") from None


def resolve(preset: str, config_file: Optional[str] = None,
            overrides: Sequence[str] = (), needs_data_path: bool = False,
            check_memory: bool = True) -> ExperimentConfig:
    """The one chain: preset -> config file -> ``--set`` overrides -> ``validate()``.

    A config file may hold any subset of keys (a whole ``config.json`` repeats that run);
    ``name`` in it replaces the preset's name. Raises ``ConfigError`` on any bad setting.
    ``check_memory``: see ``validate``.
    """
    from lsgan_tf.registry import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"--preset={shown_text(preset)}: unknown preset; known presets: "
                          f"{', '.join(PRESETS.names())}")
    config = PRESETS.get(preset)()
    if config_file:
        values = parse_config_file(config_file)
        try:
            config = merge_dict(config, values)
        except ConfigError as error:
            raise ConfigError(f"--config={shown_path(config_file)}: {error}") from None
    config = apply_overrides(config, overrides)
    validate(config, needs_data_path=needs_data_path, check_memory=check_memory)
    return config


def validate(config: ExperimentConfig, needs_data_path: bool = False,
             check_memory: bool = True) -> ExperimentConfig:
    """Checks every key of ``config`` (see ``lsgan_tf.validation``); returns it unchanged or
    raises ``ConfigError``. ``needs_data_path``: ``data.source=tfrecord`` must name a folder
    (standalone training; in the pipeline the Trainer fills it with the Examples artifact).
    ``check_memory``: the run must fit this machine's memory (``lsgan_tf.memory_estimate``);
    False where another machine trains (``lsgan compile``: the Trainer's pod checks)."""
    from lsgan_tf.validation import check_config

    check_config(config, needs_data_path, check_memory)
    return config


# Keys a resumed run may not change: what the checkpoints hold (the networks, the optimiser's
# slots, the EMA copy) and what the data must look like to them (model and data source), and
# the objective. Training length, logging, learning rates (the divergence guard's advice),
# strategy, data path and evaluation may change.
FIXED_ON_RESUME = ("model.", "loss.", "data.source", "optim.optimizer", "train.ema_decay")


def resume_conflicts(saved: ExperimentConfig, new: ExperimentConfig) -> List[str]:
    """``key: saved -> new`` for each key of ``FIXED_ON_RESUME`` that differs."""
    old_flat, new_flat = flatten(saved), flatten(new)
    return [f"{key}: {old_flat[key]!r} -> {new_flat[key]!r}" for key in sorted(old_flat)
            if old_flat[key] != new_flat[key]
            and any(key == k or (k.endswith(".") and key.startswith(k))
                    for k in FIXED_ON_RESUME)]
