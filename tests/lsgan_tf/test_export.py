"""The exported generator: both signatures, uint8 output, clear refusals, warmup records."""
import io
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from lsgan_tf import config as config_lib
from lsgan_tf.export import WARMUP_FILE, GeneratorClient, export_generator
from lsgan_tf.models import build_models
from lsgan_tf.presets import get_preset
from lsgan_tf.training import train

from helpers import tiny_digits


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    return train(tiny_digits(steps=2), str(out), stream=io.StringIO()).saved_model


@pytest.fixture(scope="module")
def dcgan_model(tmp_path_factory):
    config = config_lib.apply_overrides(get_preset("dcgan"), [
        "model.image_size=32", "model.g_width=4", "model.d_width=4", "model.noise.dim=8"])
    models = build_models(config.model)
    path = str(tmp_path_factory.mktemp("dcgan") / "saved_model")
    return export_generator(models.generator, config, models.output_activation, path)


def test_conditional_signatures_return_uint8_images(digits_model):
    loaded = tf.saved_model.load(digits_model)
    z = tf.random.uniform([3, 8], -1, 1)
    out = loaded.signatures["serving_default"](z=z, label=tf.constant([0, 5, 9], tf.int64))
    assert out["images"].dtype == tf.uint8 and out["images"].shape == (3, 28, 28, 1)
    gen = loaded.signatures["generate"](n=tf.constant(4), seed=tf.constant(7, tf.int64),
                                        label=tf.constant(2, tf.int64))
    assert gen["images"].dtype == tf.uint8 and gen["images"].shape == (4, 28, 28, 1)
    again = loaded.signatures["generate"](n=tf.constant(4), seed=tf.constant(7, tf.int64),
                                          label=tf.constant(2, tf.int64))
    np.testing.assert_array_equal(gen["images"].numpy(), again["images"].numpy())


def test_output_equals_the_generator_scaled_to_uint8(digits_model, tmp_path):
    client = GeneratorClient(digits_model)
    assert (client.z_dim, client.num_classes, client.output_kind) == (8, 10, "images")
    images = client.sample(5, seed=1, labels=np.arange(5))
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    assert images.max() > images.min()


@pytest.mark.parametrize("kwargs, message", [
    (dict(z=np.zeros((2, 5), np.float32), label=np.zeros(2, np.int64)), r"z must be float32 \[n, 8\]"),
    (dict(z=np.zeros((2, 8), np.float32), label=np.array([0, 10])), r"label must be in \[0, 10\)"),
    (dict(z=np.zeros((2, 8), np.float32), label=np.array([0, -1])), r"label must be in \[0, 10\)"),
    (dict(z=np.zeros((2, 8), np.float32), label=np.array([0])), r"one class id per z row"),
    (dict(z=np.array([[np.nan] + [0] * 7, [0] * 8], np.float32), label=np.zeros(2, np.int64)),
     r"z must be finite \(no NaN or inf\)"),
    (dict(z=np.array([[np.inf] * 8], np.float32), label=np.zeros(1, np.int64)), r"z must be finite"),
    (dict(z=np.zeros((1025, 8), np.float32), label=np.zeros(1025, np.int64)),
     r"the rows of z \(n\) must be in \[1, 1024\] \(export.max_batch\)"),
])
def test_bad_inputs_are_refused_clearly(digits_model, kwargs, message):
    serve = tf.saved_model.load(digits_model).signatures["serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        serve(**{k: tf.constant(v) for k, v in kwargs.items()})


@pytest.mark.parametrize("n", [0, -1, 1025, 100000])
def test_generate_refuses_n_outside_its_bounds(digits_model, dcgan_model, n):
    for model, label in [(digits_model, {"label": tf.constant(0, tf.int64)}), (dcgan_model, {})]:
        generate = tf.saved_model.load(model).signatures["generate"]
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=r"n must be in \[1, 1024\] \(export.max_batch\)"):
            generate(n=tf.constant(n), seed=tf.constant(0, tf.int64), **label)


def test_max_batch_is_an_export_option(tmp_path):
    config = config_lib.apply_overrides(get_preset("dcgan"), [
        "model.image_size=32", "model.g_width=4", "model.d_width=4", "model.noise.dim=8",
        "export.max_batch=3"])
    models = build_models(config.model)
    path = export_generator(models.generator, config, models.output_activation,
                            str(tmp_path / "m"))
    generate = tf.saved_model.load(path).signatures["generate"]
    assert generate(n=tf.constant(3), seed=tf.constant(0, tf.int64))["images"].shape[0] == 3
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must be in \[1, 3\]"):
        generate(n=tf.constant(4), seed=tf.constant(0, tf.int64))
    assert GeneratorClient(path).sample(7, seed=0).shape == (7, 32, 32, 3)  # 3 + 3 + 1


def test_unconditional_model_has_no_label_input(dcgan_model):
    loaded = tf.saved_model.load(dcgan_model)
    serve = loaded.signatures["serving_default"]
    assert set(serve.structured_input_signature[1]) == {"z"}
    out = serve(z=tf.zeros([2, 8]))
    assert out["images"].shape == (2, 32, 32, 3) and out["images"].dtype == tf.uint8
    gen = loaded.signatures["generate"](n=tf.constant(3), seed=tf.constant(0, tf.int64))
    assert gen["images"].shape == (3, 32, 32, 3)


def test_warmup_records_replay_through_the_signatures(digits_model):
    path = os.path.join(digits_model, WARMUP_FILE)
    loaded = tf.saved_model.load(digits_model)
    seen = []
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
        out = loaded.signatures[request.model_spec.signature_name](
            **{k: tf.constant(v) for k, v in inputs.items()})
        assert out["images"].dtype == tf.uint8
        seen.append(request.model_spec.signature_name)
    assert sorted(seen) == ["generate", "serving_default"]
