"""Experiment configuration: frozen dataclasses, dotted overrides, JSON round trip.

``ExperimentConfig`` has the parts ``data``, ``model``, ``loss``, ``optim``, ``train`` and
``eval``. Named presets (``lsgan_tf.presets``) build one; ``apply_overrides(cfg, ["optim.lr_d=1e-4"])``
changes fields by dotted path with type checks (an unknown key or a value of the wrong type
raises ``ConfigError`` naming the key and the expected type); ``to_json`` / ``from_json`` round
trip exactly, and a run writes its resolved config as ``config.json``.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from typing import Any, Dict, Iterable, Tuple


class ConfigError(ValueError):
    """A bad override, key or value in an experiment configuration."""


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
    """
    source: str = "digits"
    path: str = ""
    eval_fraction: float = 0.1
    shuffle_buffer: int = 10000


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
    """
    optimizer: str = "adam"
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999


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


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Sample-quality evaluation.

    Attributes:
      extractor: feature extractor (``classifier``, ``rotation``, ``inception``; ``auto`` picks
        ``classifier`` for labelled data and ``rotation`` otherwise).
      num_samples: generated samples scored.
      inception_path: local Inception-v3 weights file or SavedModel for ``inception``.
    """
    extractor: str = "auto"
    num_samples: int = 1000
    inception_path: str = ""


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


def _field_types(cls) -> Dict[str, Any]:
    return typing.get_type_hints(cls)


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
    except ValueError:
        raise ConfigError(f"--set {key}={text}: expected {kind.__name__}, got {text!r}") from None
    raise ConfigError(f"--set {key}: cannot set a whole section ({kind.__name__}); name a field")


def _replace_path(node: Any, path: Tuple[str, ...], text: str, full_key: str) -> Any:
    types = _field_types(type(node))
    head = path[0]
    if head not in types:
        known = ", ".join(f.name for f in dataclasses.fields(node))
        raise ConfigError(f"--set {full_key}: unknown key {head!r} in {type(node).__name__} "
                          f"(known: {known})")
    if len(path) == 1:
        return dataclasses.replace(node, **{head: _parse_value(text, types[head], full_key)})
    child = getattr(node, head)
    if not dataclasses.is_dataclass(child):
        raise ConfigError(f"--set {full_key}: {head!r} is a {types[head].__name__}, not a section")
    return dataclasses.replace(node, **{head: _replace_path(child, path[1:], text, full_key)})


def apply_overrides(config: ExperimentConfig, overrides: Iterable[str]) -> ExperimentConfig:
    """Returns ``config`` with each ``a.b=value`` override applied, in order."""
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. optim.lr_d=1e-4")
        key, text = item.split("=", 1)
        config = _replace_path(config, tuple(key.strip().split(".")), text, key.strip())
    return config


def to_dict(config: Any) -> Dict[str, Any]:
    return dataclasses.asdict(config)


def _from_dict(cls, values: Dict[str, Any], where: str):
    types = _field_types(cls)
    unknown = set(values) - set(types)
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown keys {sorted(unknown)} for {cls.__name__}")
    kwargs = {}
    for name, value in values.items():
        kind = types[name]
        if dataclasses.is_dataclass(kind):
            kwargs[name] = _from_dict(kind, value, f"{where}.{name}".lstrip("."))
        elif kind is float and isinstance(value, int) and not isinstance(value, bool):
            kwargs[name] = float(value)
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(f"{where}.{name}: expected {kind.__name__}, got {value!r}".lstrip("."))
        else:
            kwargs[name] = value
    return cls(**kwargs)


def from_dict(values: Dict[str, Any]) -> ExperimentConfig:
    return _from_dict(ExperimentConfig, values, "")


def to_json(config: ExperimentConfig) -> str:
    return json.dumps(to_dict(config), indent=2, sort_keys=True)


def from_json(text: str) -> ExperimentConfig:
    return from_dict(json.loads(text))


def save(config: ExperimentConfig, path: str) -> str:
    """Writes the resolved config as JSON (``config.json`` next to a run's outputs)."""
    import tensorflow as tf

    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(to_json(config) + "\n")
    return path


def load(path: str) -> ExperimentConfig:
    import tensorflow as tf

    with tf.io.gfile.GFile(path) as handle:
        return from_json(handle.read())
