"""``check_config``: everything ``config.validate()`` checks, before TensorFlow is imported.

Types (each field holds its declared type) and text (no control characters); registry keys
(``model.type``, ``loss.type``, ``data.source``, ``eval.extractor``), enums
(``train.strategy``, ``optim.optimizer``, ``model.noise.distribution``), ranges, the
configurations a model states it builds (``ModelSupport``: image sizes, channels, conditional
or not, images or points) and what a built-in data source holds (``DatasetInfo``: its image
shape, labels and classes must fit the model). The first problem found is raised as a
``ConfigError`` with one line: ``KEY=VALUE: what is allowed``.

Every number is bounded: floats are finite and within what float32 training holds
(``FLOAT_BOUNDS``), integers within what TensorFlow, NumPy and the code take (``INT_BOUNDS``:
32-bit seeds, an int32 ``export.max_batch``...) and generous for real use (the paper's
112 x 112 model, widths to 1024, batches to 4096, 3,740 classes, 10^9 steps). Last,
``lsgan_tf.memory_estimate.check_memory`` compares a lower estimate of the memory a run needs
with this machine's.

The in-training selection keys (``eval.every``, ``eval.select``, ``eval.select_samples``,
``eval.select_extractor``) are checked by ``check_selection``; the selectable scores are
``lsgan_tf.scores.SELECTABLE``.

Also here: the blessing thresholds' syntax (``parse_thresholds``).
"""
from __future__ import annotations

import dataclasses
import math
import re
import typing
import unicodedata
from typing import TYPE_CHECKING, Any, Dict, Sequence, Tuple

from lsgan_tf import memory_estimate
from lsgan_tf.dotted import flatten
from lsgan_tf.errors import ConfigError
from lsgan_tf.messages import shown
from lsgan_tf.precision import PRECISIONS
from lsgan_tf.scores import SCORES, SELECTABLE

if TYPE_CHECKING:
    from lsgan_tf.config import ExperimentConfig

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")
OPTIMIZERS = ("adam", "rmsprop")
UPDATES = ("alternating", "simultaneous")
G_NOISE = ("fresh", "shared")
NOISE_DISTRIBUTIONS = ("uniform", "normal")
TFRECORD = "tfrecord"
AUTO_EXTRACTOR = "auto"
# In-training scores need more samples than the k-NN scores' k (5) and a covariance for FD.
MIN_SELECT_SAMPLES = 10
_RULE = re.compile(r"^\s*([a-z_]+)\s*(<=|>=)\s*(\S+)\s*$")

INT32_MAX = 2 ** 31 - 1
MAX_STEPS = 10 ** 12  # steps and step intervals: the step counter is an int64
# key: (lowest, highest, why the highest). Each key's value must be an integer in that range.
INT_BOUNDS: Dict[str, Tuple[int, int, str]] = {
    "model.noise.dim": (1, 2 ** 16, ""),
    "model.g_width": (1, 2 ** 14, ""),
    "model.d_width": (1, 2 ** 14, ""),
    "model.d_dense": (1, 2 ** 16, ""),
    "model.phi_dim": (1, 2 ** 14, ""),
    "model.hidden": (1, 2 ** 16, ""),
    "model.num_classes": (0, 2 ** 20, ""),
    "model.image_size": (0, 4096, ""),
    "model.channels": (0, 4, " (PNG holds 1, 3 or 4 channels)"),
    "data.shuffle_buffer": (1, INT32_MAX, ""),
    "data.cache_mb": (0, 2 ** 24, ""),
    "train.batch_size": (1, 2 ** 20, ""),
    "train.steps": (1, MAX_STEPS, ""),
    "train.seed": (0, 2 ** 32 - 1, " (NumPy's and Keras' seeds are 32-bit)"),
    "train.checkpoint_every": (1, MAX_STEPS, ""),
    "train.keep_checkpoints": (1, 10 ** 6, ""),
    "train.log_every": (1, MAX_STEPS, ""),
    "train.sample_every": (1, MAX_STEPS, ""),
    "train.steps_per_loop": (1, MAX_STEPS, ""),
    "eval.num_samples": (1, 10 ** 7, ""),
    "eval.select_samples": (MIN_SELECT_SAMPLES, 10 ** 7, ""),
    "eval.every": (0, MAX_STEPS, ""),
    "export.max_batch": (1, INT32_MAX, " (the generate signature's n is an int32)"),
}
# key: (lowest, highest); finite floats in [lowest, highest]. Labels are squared by the loss
# in float32; learning rates and epsilon below 1e-30 are 0 to float32's normal numbers.
FLOAT_BOUNDS: Dict[str, Tuple[float, float]] = {
    "loss.a": (-1e6, 1e6), "loss.b": (-1e6, 1e6), "loss.c": (-1e6, 1e6),
    "optim.lr_d": (1e-30, 1e6), "optim.lr_g": (1e-30, 1e6), "optim.epsilon": (1e-30, 1e6),
}
# Characters no setting may hold: controls (NUL, line breaks), line and paragraph separators,
# unpaired surrogates (no file system or UTF-8 writer takes them).
_BAD_CHARACTER_CATEGORIES = ("Cc", "Zl", "Zp", "Cs")


def fail(key: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{key}={shown(value)}: {allowed}")


def one_of(key: str, value: Any, allowed: Sequence[str], what: str) -> None:
    if value not in allowed:
        fail(key, value, f"unknown {what}; known: {', '.join(allowed)}")


def at_least(key: str, value, low) -> None:
    if not value >= low:
        fail(key, value, f"must be >= {low}")


def in_range(key: str, value: float, low: float, high: float) -> None:
    """low <= value < high."""
    if not (math.isfinite(value) and low <= value < high):
        fail(key, value, f"must be in [{low}, {high})")


def finite(key: str, value: float) -> None:
    if not math.isfinite(value):
        fail(key, value, "must be a finite number")


def check_types(node: Any, prefix: str = "") -> None:
    """Every field of ``node`` (a config dataclass) holds its declared type (configs built in
    code as well as parsed ones: the bounds below compare numbers)."""
    for name, kind in typing.get_type_hints(type(node)).items():
        value, key = getattr(node, name), f"{prefix}{name}"
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, kind):
                fail(key, value, f"expected a {kind.__name__}")
            check_types(value, key + ".")
        elif typing.get_origin(kind) is tuple:
            if not (isinstance(value, tuple) and all(isinstance(v, str) for v in value)):
                fail(key, value, "expected a tuple of strings")
        elif kind is float:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                fail(key, value, "expected a number")
        elif not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            fail(key, value, f"expected {kind.__name__}")


def check_text(config: ExperimentConfig) -> None:
    """No text setting holds a control character (``_BAD_CHARACTER_CATEGORIES``)."""
    for key, value in flatten(config).items():
        for text in (value if isinstance(value, tuple) else (value,)):
            if isinstance(text, str) and any(unicodedata.category(ch) in
                                             _BAD_CHARACTER_CATEGORIES for ch in text):
                fail(key, text, "must not hold control characters, line breaks or unpaired "
                     "surrogates")


def check_bounds(config: ExperimentConfig) -> None:
    """``INT_BOUNDS`` and ``FLOAT_BOUNDS``."""
    flat = flatten(config)
    for key, (low, high, why) in INT_BOUNDS.items():
        value = flat[key]
        if value < low:
            fail(key, value, f"must be >= {low}")
        if value > high:
            fail(key, value, f"must be <= {high}{why}")
    for key, (low, high) in FLOAT_BOUNDS.items():
        value = flat[key]
        if key.startswith("optim.") and not (math.isfinite(value) and value > 0):
            fail(key, value, "must be a positive number")
        finite(key, value)
        if not low <= value <= high:
            fail(key, value, f"must be in [{low}, {high}]")


def parse_thresholds(rules: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """``("fd_noise_ratio<=0.2", "precision>=0.5")`` -> ``{"fd_noise_ratio": {"max": 0.2},
    "precision": {"min": 0.5}}`` (the form ``lsgan_tf.blessing`` checks); every
    bound a finite number."""
    bounds: Dict[str, Dict[str, float]] = {}
    for rule in rules:
        match = _RULE.match(rule)
        if not match:
            fail("eval.thresholds", rule, "expected SCORE<=VALUE or SCORE>=VALUE, "
                 "e.g. fd_noise_ratio<=0.2")
        name, op, text = match.groups()
        one_of("eval.thresholds", name, SCORES, "score")
        try:
            value = float(text)
        except ValueError:
            fail("eval.thresholds", rule, f"{shown(text)} is not a number")
        if not math.isfinite(value):
            fail("eval.thresholds", rule, f"{shown(text)} is not a finite number")
        bounds.setdefault(name, {})["max" if op == "<=" else "min"] = value
    return bounds


def check_model(config: ExperimentConfig) -> Any:
    """The model's keys; returns its ``ModelSupport`` (None when the plugin states none)."""
    from lsgan_tf.registry import MODELS

    model = config.model
    one_of("model.type", model.type, MODELS.names(), "model")
    one_of("model.noise.distribution", model.noise.distribution, NOISE_DISTRIBUTIONS,
           "noise distribution")
    support = MODELS.info(model.type).get("supports")
    if support is not None:
        for key, value, allowed in support.problems(model.type, model):
            fail(key, value, allowed)
    return support


def check_data(config: ExperimentConfig, support, needs_data_path: bool) -> None:
    from lsgan_tf.registry import DATA_SOURCES

    data, model = config.data, config.model
    one_of("data.source", data.source, [TFRECORD] + DATA_SOURCES.names(), "data source")
    in_range("data.eval_fraction", data.eval_fraction, 1e-9, 1.0)
    if data.source == TFRECORD:
        if needs_data_path and not data.path:
            fail("data.path", data.path, "data.source=tfrecord needs a prepared folder "
                 "(--data=DIR, made by `lsgan prep`)")
        return
    info = DATA_SOURCES.get(data.source).info
    if support is not None and info.kind != support.outputs:
        fail("data.source", data.source, f"it holds {info.kind} but the {model.type} model "
             f"makes {support.outputs}")
    if info.kind == "images":
        if info.image_size != model.image_size:
            fail("model.image_size", model.image_size, f"data.source={data.source} holds "
                 f"{info.image_size} x {info.image_size} images; use {info.image_size}")
        if info.channels != model.channels:
            fail("model.channels", model.channels, f"data.source={data.source} holds "
                 f"{info.channels}-channel images; use {info.channels}")
    if support is not None and support.conditional:
        if not info.labeled:
            fail("data.source", data.source, f"it is unlabelled, and the {model.type} model "
                 "is conditional")
        if model.num_classes != len(info.class_names):
            fail("model.num_classes", model.num_classes, f"data.source={data.source} has "
                 f"{len(info.class_names)} classes; use {len(info.class_names)}")


def check_training(config: ExperimentConfig) -> None:
    from lsgan_tf.registry import LOSSES

    optim, train = config.optim, config.train
    one_of("loss.type", config.loss.type, LOSSES.names(), "loss")
    one_of("optim.optimizer", optim.optimizer, OPTIMIZERS, "optimizer")
    in_range("optim.beta1", optim.beta1, 0.0, 1.0)
    in_range("optim.beta2", optim.beta2, 0.0, 1.0)
    one_of("train.strategy", train.strategy, STRATEGIES, "strategy")
    one_of("train.update", train.update, UPDATES, "update scheme")
    one_of("train.g_noise", train.g_noise, G_NOISE, "G-step noise")
    one_of("train.precision", train.precision, PRECISIONS, "precision")
    in_range("train.ema_decay", train.ema_decay, 0.0, 1.0)
    if train.tpu and train.strategy != "tpu":
        fail("train.tpu", train.tpu, "only used with train.strategy=tpu")


def check_eval(config: ExperimentConfig) -> None:
    from lsgan_tf.registry import EXTRACTORS

    evaluation = config.eval
    one_of("eval.extractor", evaluation.extractor, [AUTO_EXTRACTOR] + EXTRACTORS.names(),
           "feature extractor")
    finite("eval.tolerance", evaluation.tolerance)
    at_least("eval.tolerance", evaluation.tolerance, 0.0)
    parse_thresholds(evaluation.thresholds)
    if evaluation.extractor == "inception" and not evaluation.inception_path:
        fail("eval.inception_path", "", "the inception extractor needs local weights "
             "(nothing is downloaded)")
    check_selection(config)


def check_selection(config: ExperimentConfig) -> None:
    """The in-training selection keys (``eval.every``, ``eval.select*``)."""
    from lsgan_tf.registry import EXTRACTORS

    evaluation = config.eval
    one_of("eval.select", evaluation.select, SELECTABLE,
           "selection score (one with a known better direction)")
    one_of("eval.select_extractor", evaluation.select_extractor,
           [AUTO_EXTRACTOR] + EXTRACTORS.names(), "feature extractor")
    if evaluation.select_extractor == "inception" and not evaluation.inception_path:
        fail("eval.inception_path", "", "eval.select_extractor=inception needs local weights "
             "(nothing is downloaded)")


def check_config(config: ExperimentConfig, needs_data_path: bool = False,
                 memory: bool = True) -> None:
    """Every check above, in order; ``memory``: also ``memory_estimate.check_memory``."""
    check_types(config)
    check_text(config)
    check_bounds(config)
    support = check_model(config)
    check_data(config, support, needs_data_path)
    check_training(config)
    check_eval(config)
    if memory:
        memory_estimate.check_memory(config)
