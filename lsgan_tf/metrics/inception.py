"""``inception``: Inception-v3 pool features (2,048-d; FID when scored with the Frechet
distance) from a file the user already has. Nothing is ever downloaded.

``path`` (``--inception_path``, or ``$LSGAN_INCEPTION_PATH``) may be:

* a Keras weights file without the ImageNet top (``*.h5``, as Keras's
  ``inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5``, or ``*.weights.h5``): loaded into
  ``keras.applications.InceptionV3(include_top=False, pooling="avg")``; features are the
  global-average-pool output;
* a whole Keras model file (``*.keras``) mapping [N, 299, 299, 3] in [-1, 1] to features [N, F];
* a TensorFlow SavedModel folder whose ``serving_default`` signature (or the object itself when
  it has no signatures) maps float32 [N, 299, 299, 3] in [0, 1] to features [N, F] (the TF-Hub
  feature-vector convention); a signature with several outputs is read at ``output_key``.

Images are resized to 299 x 299 (bilinear, antialiased) and grey images repeated to 3 channels.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Optional, Tuple

import numpy as np

from lsgan_tf import paths
from lsgan_tf.metrics.base import FeatureExtractor, resize_images
from lsgan_tf.registry import EXTRACTORS

PATH_ENV = "LSGAN_INCEPTION_PATH"
SIZE = 299


class InceptionExtractor(FeatureExtractor):
    name = "inception"

    def __init__(self, call, input_range: Tuple[float, float], info: Dict[str, Any],
                 batch_size: int = 32):
        super().__init__(info)
        self._call = call            # float32 [n, 299, 299, 3] -> (features, None)
        self._low, self._high = input_range
        self.batch_size = batch_size

    def embed(self, data: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        features, probs = [], []
        for start in range(0, len(data), self.batch_size):
            x = resize_images(data[start:start + self.batch_size], SIZE, channels=3)
            f, p = self._call(self._low + (self._high - self._low) * x)
            features.append(np.asarray(f, np.float64).reshape(len(x), -1))
            if p is not None:
                probs.append(np.asarray(p, np.float64))
        features = np.concatenate(features) if features else np.zeros((0, 0))
        return features, (np.concatenate(probs) if probs else None)


def _keras_weights(path: str, batch_size: int) -> InceptionExtractor:
    import keras

    try:
        model = keras.applications.InceptionV3(weights=path, include_top=False, pooling="avg",
                                               input_shape=(SIZE, SIZE, 3))
    except ValueError as error:
        raise ValueError(f"{path} does not hold Inception-v3 weights without the ImageNet top "
                         "(the file Keras names inception_v3_weights_tf_dim_ordering_tf_kernels"
                         f"_notop.h5): {error}") from None

    def call(x):  # eager calls: predict() would first trace the whole network
        return model(x, training=False).numpy(), None

    info = {"name": "inception", "path": paths.absolute(path), "kind": "keras weights"}
    return InceptionExtractor(call, (-1.0, 1.0), info, batch_size=batch_size)


def _keras_model(path: str, batch_size: int) -> InceptionExtractor:
    import keras

    model = keras.saving.load_model(path, compile=False)
    info = {"name": "inception", "path": paths.absolute(path), "kind": "keras model"}
    return InceptionExtractor(lambda x: (np.asarray(model(x, training=False)), None),
                              (-1.0, 1.0), info, batch_size=batch_size)


def _saved_model(path: str, batch_size: int, output_key: Optional[str]) -> InceptionExtractor:
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    signature = loaded.signatures.get("serving_default") if loaded.signatures else None

    def call(x):
        if signature is None:
            out = loaded(tf.constant(x))
        else:
            (arg_name,) = signature.structured_input_signature[1].keys()
            out = signature(**{arg_name: tf.constant(x)})
        if isinstance(out, dict):
            if output_key is not None:
                out = out[output_key]
            elif len(out) == 1:
                (out,) = out.values()
            else:
                raise ValueError(f"SavedModel {path} returns {sorted(out)}: choose one with "
                                 "the extractor option output_key")
        return out.numpy(), None

    info = {"name": "inception", "path": paths.absolute(path), "kind": "saved model"}
    return InceptionExtractor(call, (0.0, 1.0), info, batch_size=batch_size)


@EXTRACTORS.register("inception")
def inception_extractor(training=None, cache_dir: Optional[str] = None, seed: int = 0,
                        path: Optional[str] = None, batch_size: int = 32,
                        output_key: Optional[str] = None) -> InceptionExtractor:
    """Inception-v3 pool features from a local weights file, ``.keras`` file or SavedModel
    folder (see the module docstring); the training data, cache and seed are not used."""
    del training, cache_dir, seed  # nothing is trained or cached
    path = path or os.environ.get(PATH_ENV)
    if not path:
        raise ValueError("the inception extractor needs Inception-v3 weights as a local file: "
                         f"pass --inception_path=PATH (or set ${PATH_ENV}) to a .h5 weights "
                         "file, a .keras model or a SavedModel folder; nothing is downloaded")
    if not paths.exists(path):
        raise FileNotFoundError(f"Inception-v3 weights not found at {path!r}: give the path of "
                                "a local .h5 weights file, .keras model or SavedModel folder "
                                "(nothing is downloaded)")
    if paths.isdir(path):
        if not paths.exists(os.path.join(path, "saved_model.pb")):
            raise FileNotFoundError(f"{path!r} is a folder without saved_model.pb: not a "
                                    "SavedModel")
        return _saved_model(path, batch_size, output_key)
    if path.endswith(".keras"):
        return _keras_model(path, batch_size)
    return _keras_weights(path, batch_size)
