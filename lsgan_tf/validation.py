"""``check_config``: everything ``config.validate()`` checks, before TensorFlow is imported.

Registry keys (``model.type``, ``loss.type``, ``data.source``, ``eval.extractor``), enums
(``train.strategy``, ``optim.optimizer``, ``model.noise.distribution``), ranges, the
configurations a model states it builds (``ModelSupport``: image sizes, channels, conditional
or not, images or points) and what a built-in data source holds (``DatasetInfo``: its image
shape, labels and classes must fit the model). The first problem found is raised as a
``ConfigError`` with one line: ``KEY=VALUE: what is allowed``.

The in-training selection keys (``eval.every``, ``eval.select``, ``eval.select_samples``,
``eval.select_extractor``) are checked by ``check_selection``; the selectable scores are
``lsgan_tf.selection.SELECTABLE``.

Also here: the blessing thresholds' syntax (``parse_thresholds``).
"""
from __future__ import annotations

import math
import re
from typing import Any, Dict, Sequence

from lsgan_tf.config import ConfigError, ExperimentConfig
from lsgan_tf.precision import PRECISIONS

STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")
OPTIMIZERS = ("adam", "rmsprop")
UPDATES = ("alternating", "simultaneous")
G_NOISE = ("fresh", "shared")
NOISE_DISTRIBUTIONS = ("uniform", "normal")
TFRECORD = "tfrecord"
AUTO_EXTRACTOR = "auto"
# Scores the evaluator reports (``lsgan_tf.metrics.evaluate``) plus the evaluator's derived
# ``fd_noise_ratio``: the names a threshold may bound.
SCORES = ("fd", "fd_noise_ratio", "kid", "kid_std", "precision", "recall", "density",
          "coverage", "classifier_score", "classes_covered", "label_accuracy", "modes_covered", "num_modes",
          "high_quality_share", "mode_kl")
# In-training scores need more samples than the k-NN scores' k (5) and a covariance for FD.
MIN_SELECT_SAMPLES = 10
_RULE = re.compile(r"^\s*([a-z_]+)\s*(<=|>=)\s*(\S+)\s*$")


def fail(key: str, value: Any, allowed: str) -> None:
    raise ConfigError(f"{key}={value!r}: {allowed}")


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


def parse_thresholds(rules: Sequence[str]) -> Dict[str, Dict[str, float]]:
    """``("fd_noise_ratio<=0.2", "precision>=0.5")`` -> ``{"fd_noise_ratio": {"max": 0.2},
    "precision": {"min": 0.5}}`` (the form ``components.evaluator.blessing`` checks)."""
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
            fail("eval.thresholds", rule, f"{text!r} is not a number")
        bounds.setdefault(name, {})["max" if op == "<=" else "min"] = value
    return bounds


def check_model(config: ExperimentConfig) -> Any:
    """The model's keys; returns its ``ModelSupport`` (None when the plugin states none)."""
    from lsgan_tf.registry import MODELS

    model = config.model
    one_of("model.type", model.type, MODELS.names(), "model")
    one_of("model.noise.distribution", model.noise.distribution, NOISE_DISTRIBUTIONS,
           "noise distribution")
    for key in ("noise.dim", "g_width", "d_width", "d_dense", "phi_dim", "hidden"):
        value = model.noise.dim if key == "noise.dim" else getattr(model, key)
        at_least(f"model.{key}", value, 1)
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
    at_least("data.shuffle_buffer", data.shuffle_buffer, 1)
    at_least("data.cache_mb", data.cache_mb, 0)
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
    for key in ("lr_d", "lr_g", "epsilon"):
        if not (math.isfinite(getattr(optim, key)) and getattr(optim, key) > 0):
            fail(f"optim.{key}", getattr(optim, key), "must be a positive number")
    in_range("optim.beta1", optim.beta1, 0.0, 1.0)
    in_range("optim.beta2", optim.beta2, 0.0, 1.0)
    one_of("train.strategy", train.strategy, STRATEGIES, "strategy")
    one_of("train.update", train.update, UPDATES, "update scheme")
    one_of("train.g_noise", train.g_noise, G_NOISE, "G-step noise")
    one_of("train.precision", train.precision, PRECISIONS, "precision")
    for key in ("batch_size", "steps", "checkpoint_every", "keep_checkpoints", "log_every",
                "sample_every", "steps_per_loop"):
        at_least(f"train.{key}", getattr(train, key), 1)
    at_least("train.seed", train.seed, 0)
    in_range("train.ema_decay", train.ema_decay, 0.0, 1.0)
    if train.tpu and train.strategy != "tpu":
        fail("train.tpu", train.tpu, "only used with train.strategy=tpu")


def check_eval(config: ExperimentConfig) -> None:
    from lsgan_tf.registry import EXTRACTORS

    evaluation = config.eval
    one_of("eval.extractor", evaluation.extractor, [AUTO_EXTRACTOR] + EXTRACTORS.names(),
           "feature extractor")
    at_least("eval.num_samples", evaluation.num_samples, 1)
    at_least("eval.tolerance", evaluation.tolerance, 0.0)
    parse_thresholds(evaluation.thresholds)
    at_least("export.max_batch", config.export.max_batch, 1)
    if evaluation.extractor == "inception" and not evaluation.inception_path:
        fail("eval.inception_path", "", "the inception extractor needs local weights "
             "(nothing is downloaded)")
    check_selection(config)


def check_selection(config: ExperimentConfig) -> None:
    """The in-training selection keys (``eval.every``, ``eval.select*``)."""
    from lsgan_tf.registry import EXTRACTORS
    from lsgan_tf.selection import SELECTABLE

    evaluation = config.eval
    at_least("eval.every", evaluation.every, 0)
    one_of("eval.select", evaluation.select, SELECTABLE,
           "selection score (one with a known better direction)")
    at_least("eval.select_samples", evaluation.select_samples, MIN_SELECT_SAMPLES)
    one_of("eval.select_extractor", evaluation.select_extractor,
           [AUTO_EXTRACTOR] + EXTRACTORS.names(), "feature extractor")
    if evaluation.select_extractor == "inception" and not evaluation.inception_path:
        fail("eval.inception_path", "", "eval.select_extractor=inception needs local weights "
             "(nothing is downloaded)")


def check_config(config: ExperimentConfig, needs_data_path: bool = False) -> None:
    support = check_model(config)
    check_data(config, support, needs_data_path)
    check_training(config)
    check_eval(config)
