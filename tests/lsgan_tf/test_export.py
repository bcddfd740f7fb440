"""The exported generator: both signatures return the generator's own output (scaled to uint8
for images), clear refusals, warmup records."""
import io
import os

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import prediction_log_pb2

from lsgan_tf import config as config_lib
from lsgan_tf import data as data_lib
from lsgan_tf.export import WARMUP_FILE, GeneratorClient, export_generator
from lsgan_tf.models import build_models
from lsgan_tf.presets import get_preset
from lsgan_tf.training import train

from helpers import tiny_digits, tiny_sets

TINY_DCGAN = tiny_sets("dcgan") + ["model.channels=3"]  # 32 x 32 x 3


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    return train(tiny_digits(steps=2), str(out), stream=io.StringIO()).saved_model


@pytest.fixture(scope="module")
def dcgan_model(tmp_path_factory):
    config = config_lib.apply_overrides(get_preset("dcgan"), TINY_DCGAN)
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


def scaled_as_served(samples, output_activation):
    """What the signatures must return for the generator's ``samples``, written out here:
    sigmoid [0, 1] -> round(255 x), tanh [-1, 1] -> round(127.5 (x + 1)), clipped to 0..255,
    as uint8; 2-D points (linear) as float32."""
    samples = np.asarray(samples, np.float64)
    if output_activation == "linear":
        return samples.astype(np.float32)
    scaled = samples * 255.0 if output_activation == "sigmoid" else (samples + 1.0) * 127.5
    return np.clip(np.round(scaled), 0, 255).astype(np.uint8)


def assert_served_as_generated(served, generated, output_activation):
    """Tolerance: points to 1e-5 (relative) + 1e-6; images at most 1 uint8 level off (a value
    on a .5 rounding edge may fall either way in another kernel), and 99% of pixels exact."""
    expected = scaled_as_served(generated, output_activation)
    assert served.dtype == expected.dtype and served.shape == expected.shape
    if output_activation == "linear":
        np.testing.assert_allclose(served, expected, rtol=1e-5, atol=1e-6)
        return
    assert expected.max() > expected.min()  # not a constant image: the comparison means something
    diff = np.abs(served.astype(np.int32) - expected.astype(np.int32))
    assert diff.max() <= 1 and np.mean(diff == 0) >= 0.99, (diff.max(), np.mean(diff == 0))


@pytest.fixture(scope="module", params=["conditional", "dcgan", "mog_mlp"])
def exported(request, tmp_path_factory):
    """(config, models, path): an untrained model of each output kind (sigmoid images, tanh
    images, linear points), exported."""
    config = config_lib.apply_overrides(get_preset("digits"), tiny_sets(request.param))
    models = build_models(config.model)
    path = str(tmp_path_factory.mktemp(request.param) / "saved_model")
    return config, models, export_generator(models.generator, config, models.output_activation,
                                            path)


def test_signatures_return_the_generators_output_scaled_to_uint8(exported):
    config, models, path = exported
    loaded = tf.saved_model.load(path)
    activation, classes = models.output_activation, config.model.num_classes
    key = "points" if activation == "linear" else "images"
    n, dim, seed = 12, config.model.noise.dim, 7

    def generated(z, labels):
        return models.generator([z, labels] if classes else z, training=False).numpy()

    z = tf.random.stateless_uniform([n, dim], seed=[1, 2], minval=-1.0, maxval=1.0)
    labels = tf.constant(np.arange(n) % max(classes, 1), tf.int64)
    served = loaded.signatures["serving_default"](z=z, **({"label": labels} if classes else {}))
    assert_served_as_generated(served[key].numpy(), generated(z, labels), activation)

    # generate: z from the model's prior with the stateless seed (seed, 0), one label for all
    label = {"label": tf.constant(classes - 1, tf.int64)} if classes else {}
    served = loaded.signatures["generate"](n=tf.constant(n), seed=tf.constant(seed, tf.int64),
                                           **label)
    prior = data_lib.sample_noise([n, dim], config.model.noise.distribution, [seed, 0])
    assert_served_as_generated(served[key].numpy(),
                               generated(prior, tf.fill([n], tf.constant(classes - 1, tf.int64))),
                               activation)


def test_client_samples_what_the_generator_makes(digits_model):
    """The client reads the metadata and draws z as ``generate`` does (seed, batch start)."""
    client = GeneratorClient(digits_model)
    assert (client.z_dim, client.num_classes, client.output_kind) == (8, 10, "images")
    images = client.sample(5, seed=1, labels=np.arange(5))
    z = data_lib.sample_noise([5, 8], client.noise_distribution, [1, 0])
    served = client.serving(z=z, label=tf.constant(np.arange(5), tf.int64))["images"].numpy()
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, served)


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
    config = config_lib.apply_overrides(get_preset("dcgan"), TINY_DCGAN + ["export.max_batch=3"])
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


def test_an_export_traces_the_generator_once(tmp_path, monkeypatch):
    """``serve`` traces the generator; ``generate`` calls it, and saving traces neither again."""
    from lsgan_tf import export

    config = config_lib.apply_overrides(get_preset("dcgan"), TINY_DCGAN)
    models = build_models(config.model)
    traced = []
    run = export.GeneratorModule.run
    monkeypatch.setattr(export.GeneratorModule, "run",
                        lambda self, *args: traced.append(1) or run(self, *args))
    export_generator(models.generator, config, models.output_activation, str(tmp_path / "m"))
    assert len(traced) == 1


def test_the_module_keeps_both_functions_beside_the_signatures(digits_model):
    loaded = tf.saved_model.load(digits_model)
    z, labels = tf.random.uniform([3, 8], -1, 1), tf.constant([0, 5, 9], tf.int64)
    np.testing.assert_array_equal(
        loaded.serve(z, labels)["images"],
        loaded.signatures["serving_default"](z=z, label=labels)["images"])
    inputs = dict(n=tf.constant(4), seed=tf.constant(7, tf.int64), label=tf.constant(2, tf.int64))
    np.testing.assert_array_equal(loaded.generate(**inputs)["images"],
                                  loaded.signatures["generate"](**inputs)["images"])
