"""Feature extractors: registry, cache by fingerprint, the trained CNNs, Inception from files."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf.metrics import base
from lsgan_tf.metrics.base import TrainingData, fingerprint_arrays, fingerprint_files
from lsgan_tf.metrics.cnn import rotations
from lsgan_tf.metrics.extractors import default_extractor_name, get_extractor
from lsgan_tf.registry import EXTRACTORS


def test_registry_lists_builtin_extractors():
    assert {"classifier", "rotation", "inception", "fid_inception", "identity"} <= set(
        EXTRACTORS.names())
    with pytest.raises(KeyError, match="known feature extractors: classifier, fid_inception, "
                                       "identity"):
        get_extractor("vgg")


def test_default_extractor_choice():
    images = np.zeros((4, 8, 8, 1), np.uint8)
    assert default_extractor_name(images, np.array([0, 1, 1, 0])) == "classifier"
    assert default_extractor_name(images, np.array([-1, -1, -1, -1])) == "rotation"
    assert default_extractor_name(images, np.array([3, 3, -1, 3])) == "rotation"
    assert default_extractor_name(np.zeros((4, 2), np.float32), np.zeros(4)) == "identity"


def test_identity_features():
    images = np.full((3, 2, 2, 1), 51, np.uint8)
    np.testing.assert_allclose(get_extractor("identity").features(images), 0.2)
    points = np.array([[1.5, -2.0]], np.float32)
    np.testing.assert_array_equal(get_extractor("identity").features(points), [[1.5, -2.0]])


def test_fingerprints(tmp_path, monkeypatch):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert fingerprint_arrays(a) == fingerprint_arrays(a.copy())
    assert fingerprint_arrays(a) != fingerprint_arrays(a.reshape(4, 3))
    assert fingerprint_arrays(a) != fingerprint_arrays(a.astype(np.int64))
    (tmp_path / "x.tfrecord.gz").write_bytes(b"1234")
    files = [str(tmp_path / "x.tfrecord.gz")]
    before = fingerprint_files(files, str(tmp_path))
    (tmp_path / "x.tfrecord.gz").write_bytes(b"12345")
    assert fingerprint_files(files, str(tmp_path)) != before
    monkeypatch.setenv(base.CACHE_ENV, str(tmp_path / "cache"))
    assert base.default_cache_dir() == str(tmp_path / "cache")
    monkeypatch.delenv(base.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert base.default_cache_dir() == str(tmp_path / "xdg" / "lsgan_tf" / "extractors")


def test_classifier_is_trained_once_and_reused(classifier, digits_train, digits_eval,
                                               extractor_cache):
    assert classifier.info["heldout_accuracy"] > 0.9
    assert classifier.num_classes == 10
    images, labels = digits_eval
    features, probs = classifier.embed(images)
    assert features.shape == (len(images), 128)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert np.mean(probs.argmax(1) == labels) > 0.9  # eval images were never trained on

    calls = []

    def load():
        calls.append(1)
        return digits_train

    again = get_extractor("classifier", TrainingData(fingerprint_arrays(*digits_train), load),
                          extractor_cache)
    assert calls == [] and again.info["cache"] == "loaded"
    assert again.info["path"] == classifier.info["path"]
    assert os.path.basename(again.info["path"]).startswith("classifier-")
    np.testing.assert_allclose(again.features(images), features, rtol=1e-5, atol=1e-6)
    # Other settings make another cache entry (checked without training it: unknown option).
    with pytest.raises(ValueError, match="unknown classifier extractor option"):
        get_extractor("classifier", TrainingData(fingerprint_arrays(*digits_train), load),
                      extractor_cache, colour="red")


def test_classifier_needs_labels(extractor_cache):
    images = np.zeros((20, 8, 8, 1), np.uint8)
    data = TrainingData.from_arrays(images, np.full(20, -1))
    with pytest.raises(ValueError, match="--extractor=rotation"):
        get_extractor("classifier", data, extractor_cache)


def test_rotations_are_counter_clockwise():
    image = np.zeros((1, 3, 3, 1), np.uint8)
    image[0, 0, 2, 0] = 1  # top right
    rotated, k = rotations(image)
    np.testing.assert_array_equal(k, [0, 1, 2, 3])
    assert [tuple(np.argwhere(r[..., 0])[0]) for r in rotated] == [(0, 2), (0, 0), (2, 0),
                                                                   (2, 2)]


def test_rotation_learns_without_labels(rotation, digits_eval):
    assert rotation.num_classes == 0 and rotation.info["num_classes"] == 4
    assert rotation.info["heldout_accuracy"] > 0.6  # chance is 0.25
    features, probs = rotation.embed(digits_eval[0][:10])
    assert features.shape == (10, 32) and probs is None


def test_inception_needs_an_existing_local_path(tmp_path, monkeypatch):
    monkeypatch.delenv("LSGAN_INCEPTION_PATH", raising=False)
    with pytest.raises(ValueError, match="nothing is downloaded"):
        get_extractor("inception")
    missing = str(tmp_path / "inception_v3_notop.h5")
    with pytest.raises(FileNotFoundError, match="inception_v3_notop.h5"):
        get_extractor("inception", path=missing)
    monkeypatch.setenv("LSGAN_INCEPTION_PATH", missing)
    with pytest.raises(FileNotFoundError, match="not found"):
        get_extractor("inception")
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        get_extractor("inception", path=str(tmp_path))


def test_inception_from_a_keras_weights_file(tmp_path):
    """A randomly initialised Inception-v3 saved as a legacy .h5 file (the layout of Keras's
    downloadable ..._notop.h5), and a file of another network, which is refused."""
    keras.utils.set_random_seed(0)
    network = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                             input_shape=(299, 299, 3))
    network.save(str(tmp_path / "notop.h5"))
    images = np.random.default_rng(0).integers(0, 256, (2, 28, 28, 1), dtype=np.uint8)
    x = tf.image.resize(np.repeat(images, 3, -1).astype(np.float32) / 255.0,
                        (299, 299)) * 2.0 - 1.0
    extractor = get_extractor("inception", path=str(tmp_path / "notop.h5"))
    features, probs = extractor.embed(images)
    assert features.shape == (2, 2048) and probs is None and extractor.num_classes == 0
    np.testing.assert_allclose(features, network(x).numpy(), rtol=1e-4, atol=1e-5)
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    other.save(str(tmp_path / "other.h5"))
    with pytest.raises(ValueError, match="does not hold Inception-v3 weights"):
        get_extractor("inception", path=str(tmp_path / "other.h5"))


def test_inception_from_saved_model(tmp_path):
    """A SavedModel whose signature returns per-channel maxima of the [0, 1] input."""
    module = tf.Module()
    module.pool = tf.function(lambda images: {"pool": tf.reduce_max(images, axis=[1, 2])},
                              input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
    tf.saved_model.save(module, str(tmp_path), signatures={"serving_default": module.pool})
    grey = np.full((3, 16, 16, 1), 51, np.uint8)
    colour = np.zeros((1, 16, 16, 3), np.uint8)
    colour[..., 2] = 255
    extractor = get_extractor("inception", path=str(tmp_path), batch_size=2)
    np.testing.assert_allclose(extractor.features(grey), 0.2, rtol=1e-5)
    np.testing.assert_allclose(extractor.features(colour), [[0.0, 0.0, 1.0]], atol=1e-5)


def test_inception_from_a_whole_keras_model_file(tmp_path):
    """A .keras model is called on inputs in [-1, 1], like Keras's InceptionV3."""
    model = keras.Sequential([keras.Input((299, 299, 3)), keras.layers.GlobalMaxPooling2D()])
    model.save(str(tmp_path / "pool.keras"))
    grey = np.full((2, 10, 10, 1), 51, np.uint8)  # 0.2 in [0, 1] -> -0.6 in [-1, 1]
    extractor = get_extractor("inception", path=str(tmp_path / "pool.keras"))
    np.testing.assert_allclose(extractor.features(grey), -0.6, rtol=1e-5)
