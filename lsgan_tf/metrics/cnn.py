"""Feature extractors the project trains itself on the real training split.

* ``classifier``: a small CNN trained to predict the labels (data with labels);
* ``rotation``: the same CNN trained to predict which of 0/90/180/270 degrees an image was
  rotated by (self-supervised, for data without labels; Gidaris et al. 2018).

Network (inputs resized to ``input_size`` squared, values in [0, 1]): three stages of
[conv 3x3 -> BN -> ReLU -> conv 3x3 stride 2 -> BN -> ReLU] with ``widths`` channels, global
average pooling (the features, like Inception's pool3), dropout, dense softmax head. Trained
with Adam and cross-entropy on 90 % of the training split; the held-out 10 % accuracy is kept in
``info.json`` next to the saved model so a user can see whether the features mean anything.
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Any, Dict, Optional, Tuple

import numpy as np

from lsgan_tf.metrics.base import (FeatureExtractor, TrainingData, check_images,
                                   default_cache_dir, resize_images, settings_key)
from lsgan_tf import paths
from lsgan_tf.registry import EXTRACTORS

MODEL_FILE = "model.keras"
INFO_FILE = "info.json"
FEATURE_LAYER = "features"
ARCHITECTURE_VERSION = 1
DEFAULT_EPOCHS = {"classifier": 6, "rotation": 3}  # rotation sees each image 4 times an epoch


@dataclasses.dataclass(frozen=True)
class CnnSettings:
    """Everything that changes a trained extractor (part of its cache key)."""

    task: str                       # "classifier" or "rotation"
    input_size: int = 32
    widths: Tuple[int, ...] = (32, 64, 128)
    epochs: int = 6                 # passes over the (for rotation: four times larger) data
    batch_size: int = 64
    learning_rate: float = 2e-3
    max_train_records: int = 20000   # records drawn at random from the split (memory bound)
    seed: int = 0
    version: int = ARCHITECTURE_VERSION


def build_cnn(input_size: int, channels: int, num_outputs: int, widths=(32, 64, 128)):
    """The Keras model: image [S, S, C] in [0, 1] -> softmax [num_outputs]; the global average
    pooling layer is named ``features``."""
    import keras
    from keras import layers

    inputs = keras.Input((input_size, input_size, channels), name="image")
    x = inputs
    for width in widths:
        for strides in (1, 2):
            x = layers.Conv2D(width, 3, strides=strides, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=0.9)(x)
            x = layers.ReLU()(x)
    features = layers.GlobalAveragePooling2D(name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.2)(features)
    outputs = layers.Dense(num_outputs, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="lsgan_feature_cnn")


def rotations(images: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """All four rotations of square images [N, S, S, C]: (images [4N, S, S, C], k [4N]) where
    image k * N + i is image i rotated by k * 90 degrees counter-clockwise."""
    rotated = np.concatenate([np.rot90(images, k, axes=(1, 2)) for k in range(4)])
    return rotated, np.repeat(np.arange(4, dtype=np.int64), len(images))


class CnnExtractor(FeatureExtractor):
    """A trained CNN: features from the ``features`` layer, probabilities from the head
    (only reported as class probabilities by the ``classifier`` task)."""

    def __init__(self, model, settings: CnnSettings, info: Dict[str, Any]):
        import keras

        self.name = settings.task
        super().__init__(info)
        self.settings = settings
        self.model = model
        self.channels = int(model.inputs[0].shape[-1])
        self.num_classes = int(info["num_classes"]) if settings.task == "classifier" else 0
        self._two_heads = keras.Model(model.inputs,
                                      [model.get_layer(FEATURE_LAYER).output, model.output])

    def embed(self, data: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        x = resize_images(data, self.settings.input_size, self.channels)
        features, probs = self._two_heads.predict(x, batch_size=256, verbose=0)
        features = np.asarray(features, np.float64)
        return features, (np.asarray(probs, np.float64) if self.num_classes else None)


def _prepare(settings: CnnSettings, images: np.ndarray,
             labels: np.ndarray) -> Tuple[np.ndarray, np.ndarray, int]:
    images = check_images(images)
    labels = np.asarray(labels, np.int64)
    if settings.task == "classifier":
        keep = labels >= 0
        if keep.sum() == 0 or len(np.unique(labels[keep])) < 2:
            raise ValueError("the classifier extractor needs training data with at least two "
                             "labelled classes; use --extractor=rotation for unlabelled data")
        images, labels = images[keep], labels[keep]
        num_outputs = int(labels.max()) + 1
    elif settings.task == "rotation":
        num_outputs = 4
    else:
        raise ValueError(f"unknown CNN task {settings.task!r}")
    if len(images) > settings.max_train_records:
        pick = np.random.default_rng(settings.seed).choice(
            len(images), settings.max_train_records, replace=False)
        images, labels = images[np.sort(pick)], labels[np.sort(pick)]
    x = resize_images(images, settings.input_size)
    if settings.task == "rotation":
        x, labels = rotations(x)
    return x, labels, num_outputs


def train_cnn(settings: CnnSettings, images: np.ndarray, labels: np.ndarray):
    """Trains the CNN for ``settings.task``; returns (model, info dict)."""
    import keras

    x, y, num_outputs = _prepare(settings, images, labels)
    keras.utils.set_random_seed(settings.seed)
    order = np.random.default_rng(settings.seed).permutation(len(x))
    num_val = max(1, len(x) // 10)
    val, train = order[:num_val], order[num_val:]
    model = build_cnn(settings.input_size, x.shape[-1], num_outputs, settings.widths)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.time()
    history = model.fit(x[train], y[train], batch_size=settings.batch_size,
                        epochs=settings.epochs, shuffle=True, verbose=0)
    _, val_accuracy = model.evaluate(x[val], y[val], batch_size=256, verbose=0)
    info = {
        "name": settings.task,
        "settings": dataclasses.asdict(settings),
        "num_classes": num_outputs,
        "train_records": int(len(train)),
        "train_accuracy": float(history.history["accuracy"][-1]),
        "heldout_accuracy": float(val_accuracy),
        "train_seconds": round(time.time() - start, 2),
    }
    return model, info


def load_keras_file(path: str):
    """A ``.keras`` model read through ``tf.io.gfile`` into memory. (``keras.saving.load_model``
    copies a remote file to a local temporary folder and leaves it there; its zip reader takes
    a file object.)"""
    import io

    from keras.src.saving import saving_lib

    return saving_lib.load_model(io.BytesIO(paths.read_bytes(path)), compile=False)


def load_or_train(settings: CnnSettings, training: TrainingData,
                  cache_dir: Optional[str] = None) -> CnnExtractor:
    """The extractor for (settings, training data): loaded from the cache when it was trained
    before, else trained and saved there. The cache may be remote (``tf.io.gfile``): the model
    is written first and ``info.json`` last, as the completion marker the loader checks, so a
    crash never leaves a half-written model that looks complete."""
    settings_dict = dataclasses.asdict(settings)
    key = settings_key(settings.task, settings_dict, training.fingerprint)
    root = cache_dir or default_cache_dir()
    folder = os.path.join(root, f"{settings.task}-{key}")
    status = "loaded"
    if not paths.exists(os.path.join(folder, INFO_FILE)):
        status = "trained"
        images, labels = training.load()
        model, info = train_cnn(settings, images, labels)
        info.update({"data_fingerprint": training.fingerprint, "data": training.description})
        paths.makedirs(folder)
        model.save(os.path.join(folder, MODEL_FILE))
        paths.write_text(os.path.join(folder, INFO_FILE), json.dumps(info, indent=2))
    stored = json.loads(paths.read_text(os.path.join(folder, INFO_FILE)))
    stored.update({"cache": status, "path": folder})
    model = load_keras_file(os.path.join(folder, MODEL_FILE))
    return CnnExtractor(model, settings, stored)


def _settings(task: str, seed: int, options: Dict[str, Any]) -> CnnSettings:
    fields = {f.name for f in dataclasses.fields(CnnSettings)} - {"task", "seed", "version"}
    if task not in DEFAULT_EPOCHS:
        raise ValueError(f"unknown CNN task {task!r}; known: {sorted(DEFAULT_EPOCHS)}")
    unknown = set(options) - fields
    if unknown:
        raise ValueError(f"unknown {task} extractor option(s) {sorted(unknown)}; "
                         f"known: {sorted(fields)}")
    options = dict(options)
    if "widths" in options:
        options["widths"] = tuple(options["widths"])
    options.setdefault("epochs", DEFAULT_EPOCHS[task])
    return CnnSettings(task=task, seed=seed, **options)


def _need_training(task: str, training: Optional[TrainingData]) -> TrainingData:
    if training is None:
        raise ValueError(f"the {task} extractor is trained on the real training split: "
                         "pass its TrainingData")
    return training


@EXTRACTORS.register("classifier")
def classifier_extractor(training: Optional[TrainingData] = None,
                         cache_dir: Optional[str] = None, seed: int = 0,
                         **options) -> CnnExtractor:
    """Small CNN classifier trained on the labelled training split (features + p(y|x))."""
    return load_or_train(_settings("classifier", seed, options),
                         _need_training("classifier", training), cache_dir)


@EXTRACTORS.register("rotation")
def rotation_extractor(training: Optional[TrainingData] = None,
                       cache_dir: Optional[str] = None, seed: int = 0,
                       **options) -> CnnExtractor:
    """Small CNN trained to predict 0/90/180/270 degree rotations (no labels needed)."""
    return load_or_train(_settings("rotation", seed, options),
                         _need_training("rotation", training), cache_dir)
