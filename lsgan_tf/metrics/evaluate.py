"""Scoring a generator against real data: ``evaluate_generator`` is what ``lsgan evaluate``
and the TFX evaluator call.

Steps: load the real ``split`` (default ``eval``); draw ``num_samples`` samples from the
generator (default: as many as there are real records, at least 1,000: FD is biased upwards
for small sets; a conditional generator gets the real split's labels, repeated cyclically, so
the class mix matches); embed both with the feature
extractor (trained on the real ``train`` split when it needs training, cached by fingerprint);
score them (``score_samples``); with ``reference`` also score a random sample of real
``train`` records (as many as the samples; ``reference_sample``) and uniform noise the same
way, so the model's numbers can be read between "as good as real data" and "noise"; write
``metrics.json`` and ``samples.png`` into ``out_dir``.

Scores (keys of ``result["scores"]``):
  fd                      Frechet distance of Gaussians fitted to the features (FID with
                          ``inception``); lower is better
  kid, kid_std            KID: unbiased MMD^2, cubic kernel, mean and std over subsets; lower
  precision, recall, density, coverage   k-NN manifold scores (k = ``prdc_k``); higher
  classifier_score        exp(E KL(p(y|x) || p(y))) when the extractor is a classifier; higher
  classes_covered         classes that are the classifier's answer for at least a fifth of
                          their uniform share of the samples (a collapse measure); higher
  label_accuracy          share of conditional samples classified as their label; higher
  modes_covered, num_modes, high_quality_share, mode_kl   for 2-D points (``mog8``)
"""
from __future__ import annotations

import json
import math
import os
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from lsgan_tf import paths
from lsgan_tf.metrics.base import (FeatureExtractor, TrainingData, fingerprint_arrays,
                                   fingerprint_files)
from lsgan_tf.metrics import feature_cache
from lsgan_tf.metrics.classifier_score import classes_covered, classifier_score, label_accuracy
from lsgan_tf.metrics.extractors import default_extractor_name, get_extractor
from lsgan_tf.metrics.frechet import frechet_distance_features
from lsgan_tf.metrics.kid import kernel_inception_distance
from lsgan_tf.metrics.mog import mode_metrics
from lsgan_tf.metrics.prdc import knn_radii, prdc
from lsgan_tf.scores import LOWER_IS_BETTER

METRICS_FILE = "metrics.json"
SAMPLES_FILE = "samples.png"
MIN_DEFAULT_SAMPLES = 1000  # fewer samples make FD's bias dominate (see the module doc)


def score_features(real_features: np.ndarray, fake_features: np.ndarray, *,
                   kid_subsets: int = 100, kid_subset_size: int = 1000, prdc_k: int = 5,
                   seed: int = 0, real_radii: Optional[np.ndarray] = None) -> Dict[str, float]:
    """fd, kid, kid_std, precision, recall, density, coverage of fake against real features
    (``real_radii``: the real features' k-NN radii, when already computed)."""
    kid, kid_std = kernel_inception_distance(real_features, fake_features, kid_subsets,
                                             kid_subset_size, seed)
    scores = {"fd": frechet_distance_features(real_features, fake_features),
              "kid": kid, "kid_std": kid_std}
    scores.update(prdc(real_features, fake_features, prdc_k, real_radii))
    return scores


def score_samples(extractor: FeatureExtractor, real: np.ndarray, fake: np.ndarray,
                  fake_labels: Optional[np.ndarray] = None,
                  real_features: Optional[np.ndarray] = None,
                  modes: Optional[Tuple[np.ndarray, float]] = None, **options) -> Dict[str, Any]:
    """All scores of ``fake`` against ``real`` under ``extractor`` (see the module doc);
    ``real_features`` skips embedding ``real`` again; ``modes`` = (centres [K, D], std) adds
    the mixture scores of ``mode_metrics``; ``options`` go to ``score_features``."""
    if real_features is None:
        real_features = extractor.features(real)
    fake_features, probs = extractor.embed(fake)
    scores = score_features(real_features, fake_features, **options)
    if probs is not None:
        scores["classifier_score"] = classifier_score(probs)[0]
        scores["classes_covered"] = classes_covered(probs)
        if fake_labels is not None:
            scores["label_accuracy"] = label_accuracy(probs, fake_labels)
    if modes is not None:
        scores.update(mode_metrics(fake, *modes))
    return scores


def is_prepared_folder(data: str) -> bool:
    """Whether ``data`` names a prepared folder (any ``tf.io.gfile`` path), not a built-in
    data set."""
    from lsgan_tf.registry import DATA_SOURCES

    return data not in DATA_SOURCES and paths.isdir(data)


def training_data(data: str, max_records: Optional[int] = None) -> TrainingData:
    """The ``train`` split of ``data`` for extractors: a prepared folder is fingerprinted by
    its shard names and sizes (and ``labels.txt``) without reading it; a built-in data set by
    its arrays."""
    from lsgan_tf import data as data_lib
    from lsgan_tf import example_schema

    def load():
        return data_lib.load_split(data, example_schema.TRAIN, max_records=max_records)

    if is_prepared_folder(data):
        files = data_lib.split_files(data, example_schema.TRAIN)
        labels_file = os.path.join(data, example_schema.LABELS_FILE)
        files += [labels_file] if paths.exists(labels_file) else []
        fingerprint = fingerprint_files(files, data) + f":max={max_records}"
        return TrainingData(fingerprint, load, paths.absolute(data))
    images, labels = load()
    return TrainingData(fingerprint_arrays(images, labels), lambda: (images, labels), data)


def sample_labels(num_classes: int, real_labels: np.ndarray, n: int) -> Optional[np.ndarray]:
    """Labels for a conditional generator: the real split's labels repeated cyclically when
    they are all valid classes (same class mix), else 0, 1, ..., C-1, 0, 1, ...; None when
    the generator is unconditional."""
    if not num_classes:
        return None
    real_labels = np.asarray(real_labels, np.int64)
    if len(real_labels) and real_labels.min() >= 0 and real_labels.max() < num_classes:
        return np.resize(real_labels, n)
    return (np.arange(n) % num_classes).astype(np.int64)


def reference_sample(data: str, n: int, seed: int, pool_factor: int = 4):
    """n real ``train`` records drawn at random (seeded) for the "real" reference: from the
    whole split of a built-in data set, from its first ``pool_factor`` * n records for a
    prepared folder (reading a large split whole would be slow). Fewer when there are fewer."""
    from lsgan_tf import data as data_lib
    from lsgan_tf import example_schema

    limit = pool_factor * n if is_prepared_folder(data) else None
    images, labels = data_lib.load_split(data, example_schema.TRAIN, max_records=limit)
    pick = np.random.default_rng(seed).choice(len(images), min(n, len(images)), replace=False)
    return images[np.sort(pick)], labels[np.sort(pick)]


def noise_like(real: np.ndarray, n: int, seed: int) -> np.ndarray:
    """n samples of uniform noise shaped like ``real``: uint8 pixels in 0..255, or points
    uniform over the real points' bounding box widened by half its size on each side."""
    rng = np.random.default_rng(seed)
    if real.dtype == np.uint8:
        return rng.integers(0, 256, size=(n,) + real.shape[1:], dtype=np.uint8)
    low, high = real.min(axis=0), real.max(axis=0)
    span = high - low
    return rng.uniform(low - span / 2, high + span / 2, size=(n,) + real.shape[1:]).astype(
        np.float32)


def save_points_png(points: np.ndarray, path: str, size: int = 480) -> str:
    """Scatter plot of 2-D samples (black) over the mog8 modes (red circles of radius 3 std)."""
    from PIL import Image, ImageDraw

    from lsgan_tf.builtin_data import MOG_STD, mog8_centres

    centres = mog8_centres()
    extent = max(1.5, float(np.abs(points).max()) * 1.05) if len(points) else 1.5
    scale = size / (2 * extent)

    def pixel(x, y):
        return (x + extent) * scale, (extent - y) * scale

    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for x, y in points:
        px, py = pixel(x, y)
        draw.point((px, py), fill=(0, 0, 0))
    radius = max(2.0, 3 * MOG_STD * scale)
    for x, y in centres:
        px, py = pixel(x, y)
        draw.ellipse((px - radius, py - radius, px + radius, py + radius), outline=(220, 0, 0))
    from lsgan_tf.images import png_bytes

    return paths.write_bytes(paths.absolute(path), png_bytes(image))


def save_samples_png(generator, fake: np.ndarray, path: str, seed: int) -> str:
    """``samples.png``: images as a grid (a conditional model with at most 20 classes gets one
    row of 10 per class), points as a scatter plot."""
    from lsgan_tf.images import save_grid

    if fake.ndim == 2:
        return save_points_png(fake, path)
    if generator.num_classes and generator.num_classes <= 20:
        labels = np.repeat(np.arange(generator.num_classes, dtype=np.int64), 10)
        return save_grid(generator.sample(len(labels), seed, labels), path, 10)
    shown = fake[:100] if generator.num_classes else fake[:64]
    return save_grid(shown, path, max(1, math.ceil(math.sqrt(len(shown)))))


def evaluate_generator(generator, data: str, split: str = "eval", out_dir: Optional[str] = None,
                       extractor: Optional[str] = None, num_samples: Optional[int] = None,
                       seed: int = 0, cache_dir: Optional[str] = None, *,
                       extractor_options: Optional[Dict[str, Any]] = None,
                       reference: bool = True, max_real: Optional[int] = 10000,
                       max_train_records: Optional[int] = 20000,
                       kid_subsets: int = 100, kid_subset_size: int = 1000, prdc_k: int = 5,
                       log: Optional[Callable[[str], None]] = None) -> Dict[str, Any]:
    """Scores ``generator`` (a SavedModel path or a ``GeneratorClient``) against ``split`` of
    ``data`` (a prepared folder or a built-in name); see the module doc. ``extractor`` None or
    ``auto`` picks ``default_extractor_name``. At most ``max_real`` records of ``split`` are
    scored against, and an extractor is trained on at most ``max_train_records`` records of
    ``train`` (the first ones; None: all), so a large data set is never read whole into memory.
    Writes ``metrics.json`` and ``samples.png`` into ``out_dir`` when given. Returns the dict
    written to ``metrics.json``."""
    from lsgan_tf import data as data_lib
    from lsgan_tf.export import GeneratorClient

    say = log or (lambda message: None)
    client = GeneratorClient(generator) if isinstance(generator, (str, os.PathLike)) else generator
    real, real_labels = data_lib.load_split(data, split, max_records=max_real)
    kind = "points" if real.ndim == 2 else "images"
    if client.output_kind != kind:
        raise ValueError(f"the generator makes {client.output_kind} but {data!r} holds {kind}")
    n = int(num_samples or max(len(real), MIN_DEFAULT_SAMPLES))
    labels = sample_labels(client.num_classes, real_labels, n)
    say(f"drawing {n} samples" + (f" over {client.num_classes} classes" if labels is not None
                                   else ""))
    fake = client.sample(n, seed, labels)
    if fake.shape[1:] != real.shape[1:]:
        raise ValueError(f"the generator makes samples of shape {fake.shape[1:]} but the "
                         f"{split} split of {data!r} holds {real.shape[1:]}")
    name = default_extractor_name(real, real_labels) if extractor in (None, "", "auto") \
        else extractor
    say(f"feature extractor {name!r}")
    train = training_data(data, max_train_records)
    feature_net = get_extractor(name, train, cache_dir, **(extractor_options or {}))
    options = dict(kid_subsets=kid_subsets, kid_subset_size=kid_subset_size, prdc_k=prdc_k,
                   seed=seed)
    if kind == "points":
        from lsgan_tf.builtin_data import MOG_STD, mog8_centres

        options["modes"] = (mog8_centres(), MOG_STD)
    real_features = feature_cache.real_features(feature_net, real, cache_dir, say)
    options["real_radii"] = knn_radii(real_features, prdc_k)  # shared by the three scorings
    say(f"scoring {n} samples against {len(real)} real {split} records")
    scores = score_samples(feature_net, real, fake, labels, real_features, **options)
    result: Dict[str, Any] = {
        "model": getattr(client, "path", str(generator)),
        "data": paths.absolute(data) if is_prepared_folder(data) else data,
        "split": split,
        "num_samples": n,
        "num_real": int(len(real)),
        "seed": seed,
        "extractor": feature_net.info,
        "scores": scores,
    }
    if reference:
        say("scoring the references: real train records and uniform noise")
        ref_real, ref_labels = reference_sample(data, n, seed)
        ref_labels = ref_labels if labels is not None else None
        result["reference"] = {
            "real": score_samples(feature_net, real, ref_real, ref_labels, real_features,
                                  **options),
            "noise": score_samples(feature_net, real, noise_like(real, n, seed + 1), None,
                                   real_features, **options),
        }
    if out_dir:
        out_dir = paths.absolute(out_dir)
        result["samples_png"] = save_samples_png(client, fake, os.path.join(out_dir, SAMPLES_FILE),
                                                 seed)
        result["metrics_json"] = os.path.join(out_dir, METRICS_FILE)
        paths.write_text(result["metrics_json"], json.dumps(result, indent=2))
    return result


def format_table(result: Dict[str, Any]) -> str:
    """The scores as a text table: one row per score, columns model (and real, noise)."""
    columns = [("model", result["scores"])]
    for key in ("real", "noise"):
        if key in result.get("reference", {}):
            columns.append((key, result["reference"][key]))
    lines = [f"{'score':<20}" + "".join(f"{title:>12}" for title, _ in columns)]
    for metric in result["scores"]:
        better = "lower" if metric in LOWER_IS_BETTER else ""
        cells = []
        for _, values in columns:
            value = values.get(metric)
            cells.append(f"{'-':>12}" if value is None else
                         f"{value:>12d}" if isinstance(value, int) else f"{value:>12.4g}")
        lines.append(f"{metric:<20}" + "".join(cells) + (f"  ({better} is better)" if better
                                                          else ""))
    return "\n".join(lines)
