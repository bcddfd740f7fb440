"""The ``infogan`` model and the ``mnist`` / ``fashion_mnist`` presets: compare_gan's
MNIST networks (Lucic et al. 2018) layer by layer, shapes and parameter counts worked out by
hand from compare_gan's ``AbstractGAN.generator`` / ``.discriminator``; a short ``train`` on a
prepared directory."""
import io
import os

import numpy as np
import pytest

from lsgan_tf import config as config_lib
from lsgan_tf.config import ConfigError, resolve
from lsgan_tf.models import build_models
from lsgan_tf.presets import get_preset

from helpers import TINY_MODEL
from prepared import write_prepared

PRESETS = ("mnist", "fashion_mnist")


def dense_params(n_in, n_out, bias):
    return n_in * n_out + (n_out if bias else 0)


def conv_params(k, c_in, c_out, bias):
    return k * k * c_in * c_out + (c_out if bias else 0)


# compare_gan, z_dim 64, 28 x 28 x 1, (layer, output shape, trainable parameters): every
# ops.linear / conv2d / deconv2d there has a bias; the ones followed by BN have a zero gradient
# (BN removes the mean) and are left out here (models.infogan docstring), BN: gamma + beta.
G_LAYERS = [
    ("g_fc1", (1024,), dense_params(64, 1024, bias=False)),
    ("g_bn1", (1024,), 2 * 1024),
    ("g_fc2", (7 * 7 * 128,), dense_params(1024, 7 * 7 * 128, bias=False)),
    ("g_bn2", (7 * 7 * 128,), 2 * 7 * 7 * 128),
    ("g_reshape", (7, 7, 128), 0),
    ("g_dc3", (14, 14, 64), conv_params(4, 128, 64, bias=False)),
    ("g_bn3", (14, 14, 64), 2 * 64),
    ("g_dc4", (28, 28, 1), conv_params(4, 64, 1, bias=True)),
    ("output", (28, 28, 1), 0),
]
D_LAYERS = [
    ("d_conv1", (14, 14, 64), conv_params(4, 1, 64, bias=True)),
    ("d_conv2", (7, 7, 128), conv_params(4, 64, 128, bias=False)),
    ("d_bn2", (7, 7, 128), 2 * 128),
    ("d_flatten", (7 * 7 * 128,), 0),
    ("d_fc3", (1024,), dense_params(7 * 7 * 128, 1024, bias=False)),
    ("d_bn3", (1024,), 2 * 1024),
    ("d_fc4", (1,), dense_params(1024, 1, bias=True)),
]
# The inert biases compare_gan has and this model leaves out.
G_INERT_BIASES, D_INERT_BIASES = 1024 + 7 * 7 * 128 + 64, 128 + 1024
COMPARE_GAN_G, COMPARE_GAN_D = 6_642_241, 6_559_169  # compare_gan's trainable totals


def trainable(layer):
    return sum(int(np.prod(w.shape)) for w in layer.trainable_weights)


@pytest.fixture(scope="module")
def models():
    return build_models(get_preset("mnist").model)


@pytest.mark.parametrize("name", PRESETS)
def test_presets_resolve_and_validate(name):
    config = resolve(name)
    assert config == get_preset(name)
    m, t, o = config.model, config.train, config.optim
    assert (m.type, m.image_size, m.channels, m.num_classes) == ("infogan", 28, 1, 0)
    assert (m.noise.distribution, m.noise.dim) == ("uniform", 64)
    assert (m.g_width, m.d_width, m.d_dense, m.g_batchnorm, m.d_batchnorm) == (
        64, 64, 1024, True, True)
    assert (o.optimizer, o.lr_d, o.lr_g, o.beta1, o.beta2, o.epsilon) == (
        "adam", 2e-4, 2e-4, 0.5, 0.999, 1e-8)
    assert (t.batch_size, t.steps, t.precision, t.g_noise) == (64, 18750, "float32", "shared")
    assert t.steps == 20 * 60000 // 64  # 20 epochs of 60,000 images at batch 64
    assert (config.data.source, config.loss.type) == ("tfrecord", "ls")
    e = config.eval
    assert (e.extractor, e.num_samples, e.thresholds) == ("fid_inception", 10000,
                                                         ("fd<=40", "precision>=0.3"))
    assert (e.every, e.select, e.select_samples) == (1250, "fd", 2000)
    assert t.steps % e.every == 0  # the last step is scored with the others


@pytest.mark.parametrize("sets, key", [
    (["model.num_classes=10"], "model.num_classes"),
    (["model.image_size=32"], "model.image_size"),
    (["model.channels=2"], "model.channels"),
])
def test_unsupported_settings_name_the_key(sets, key):
    with pytest.raises(ConfigError, match=key):
        resolve("mnist", overrides=sets)


def test_generator_layers_match_compare_gan(models):
    g = models.generator
    assert g.input_shape == (None, 64)
    got = [(layer.name, tuple(layer.output.shape[1:]), trainable(layer))
           for layer in g.layers[1:] if not layer.name.startswith("leaky")]
    assert got == G_LAYERS
    leaky = [layer for layer in g.layers if isinstance(layer, _keras().layers.LeakyReLU)]
    assert [layer.negative_slope for layer in leaky] == pytest.approx([0.2] * 3)
    assert not any(isinstance(layer, _keras().layers.ReLU) for layer in g.layers)
    assert g.get_layer("output").get_config()["activation"] == "sigmoid"
    assert g.get_layer("g_dc3").get_config()["kernel_size"] == (4, 4)
    assert g.get_layer("g_dc3").get_config()["strides"] == (2, 2)
    for name in ("g_bn1", "g_bn2", "g_bn3"):
        bn = g.get_layer(name)
        # compare_gan's epsilon; momentum 0.9, not its 0.999 (models.infogan docstring)
        assert (bn.momentum, bn.epsilon, bn.center, bn.scale) == (0.9, 1e-3, True, True)
    total = sum(n for *_, n in G_LAYERS)
    assert g.count_params() - 2 * (1024 + 6272 + 64) == total == COMPARE_GAN_G - G_INERT_BIASES


def test_discriminator_layers_match_compare_gan(models):
    d = models.discriminator
    assert d.input_shape == (None, 28, 28, 1)
    got = [(layer.name, tuple(layer.output.shape[1:]), trainable(layer))
           for layer in d.layers[1:] if not layer.name.startswith("leaky")]
    assert got == D_LAYERS
    leaky = [layer for layer in d.layers if isinstance(layer, _keras().layers.LeakyReLU)]
    assert [layer.negative_slope for layer in leaky] == pytest.approx([0.2] * 3)
    for name in ("d_conv1", "d_conv2"):
        conv = d.get_layer(name).get_config()
        assert (conv["kernel_size"], conv["strides"], conv["padding"]) == ((4, 4), (2, 2), "same")
    assert d.get_layer("d_fc4").get_config()["activation"] == "linear"
    total = sum(n for *_, n in D_LAYERS)
    assert total == COMPARE_GAN_D - D_INERT_BIASES == 6_558_017


def test_output_ranges_and_shapes(models):
    rng = np.random.default_rng(0)
    z = rng.uniform(-1, 1, (16, 64)).astype(np.float32)
    for training in (True, False):
        images = np.asarray(models.generator(z, training=training))
        assert images.shape == (16, 28, 28, 1)
        assert images.min() >= 0.0 and images.max() <= 1.0
    loud = np.asarray(models.generator(100 * z, training=False))  # saturates, stays in range
    assert loud.min() >= 0.0 and loud.max() <= 1.0
    scores = np.asarray(models.discriminator(images, training=False))
    assert scores.shape == (16, 1) and np.isfinite(scores).all()
    assert models.output_activation == "sigmoid" and not models.conditional


def test_widths_follow_the_config_fields():
    config = config_lib.apply_overrides(get_preset("mnist"), [
        "model.g_width=8", "model.d_width=4", "model.d_dense=32", "model.noise.dim=5",
        "model.channels=3", "model.d_batchnorm=false"])
    models = build_models(config_lib.validate(config).model)
    g, d = models.generator, models.discriminator
    assert g.get_layer("g_fc1").output.shape[1:] == (16 * 8,)
    assert g.get_layer("g_fc2").output.shape[1:] == (7 * 7 * 16,)
    assert g.get_layer("g_dc3").output.shape[1:] == (14, 14, 8)
    assert g.output_shape[1:] == (28, 28, 3)
    assert d.get_layer("d_conv1").output.shape[1:] == (14, 14, 4)
    assert d.get_layer("d_conv2").output.shape[1:] == (7, 7, 8)
    assert d.get_layer("d_fc3").output.shape[1:] == (32,)
    assert not any("bn" in layer.name for layer in d.layers)
    # Without BN the biases are back: conv 4x4x4x8 + 8, dense 392x32 + 32.
    assert trainable(d.get_layer("d_conv2")) == conv_params(4, 4, 8, bias=True)
    assert trainable(d.get_layer("d_fc3")) == dense_params(7 * 7 * 8, 32, bias=True)


def test_two_steps_of_train_on_a_prepared_directory(tmp_path):
    from lsgan_tf.training import train

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (32, 28, 28, 1), dtype=np.uint8)
    labels = np.arange(32) % 10
    root = write_prepared(str(tmp_path / "prepared"), images, labels, [str(i) for i in range(10)])
    config = config_lib.validate(config_lib.apply_overrides(get_preset("mnist"), [
        *TINY_MODEL, "train.steps=2", "train.batch_size=8", "train.log_every=1",
        "train.checkpoint_every=2", "train.sample_every=2", "train.steps_per_loop=1",
        f"data.path={root}"]))
    log = io.StringIO()
    result = train(config, str(tmp_path / "run"), stream=log)
    assert result.step == 2
    assert {"d_loss", "g_loss"} <= set(result.metrics)
    assert all(np.isfinite(v) for v in result.metrics.values()), result.metrics
    assert result.samples and os.path.isfile(result.samples)
    assert os.path.isdir(result.saved_model)


def _keras():
    import keras

    return keras
