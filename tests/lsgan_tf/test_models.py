"""Every preset builds with the shapes of docs/PAPER.md section 2."""
import dataclasses

import numpy as np
import pytest

from lsgan_tf.models import build_models
from lsgan_tf.presets import get_preset
from lsgan_tf.registry import PRESETS

EXPECTED_OUTPUT = {
    "digits": (28, 28, 1),
    "hwdb_3740": (28, 28, 1),
    "lsun_112": (112, 112, 3),
    "dcgan": (64, 64, 3),
    "mog8": (2,),
    "mnist": (28, 28, 1),
    "fashion_mnist": (28, 28, 1),
}


@pytest.mark.parametrize("name", sorted(EXPECTED_OUTPUT))
def test_every_preset_builds_with_its_shapes(name):
    config = get_preset(name)
    models = build_models(config.model)
    assert models.generator.output_shape[1:] == EXPECTED_OUTPUT[name]
    assert models.discriminator.output_shape[1:] == (1,)


def test_registered_presets_are_all_covered():
    assert set(PRESETS.names()) == set(EXPECTED_OUTPUT)


def layer_shapes(model, prefix):
    return [layer.output.shape[1:] for layer in model.layers if layer.name.startswith(prefix)]


def test_scene_model_layers_match_the_paper():
    models = build_models(get_preset("lsun_112").model)
    assert layer_shapes(models.generator, "g_deconv") == [
        (14, 14, 256), (14, 14, 256), (28, 28, 256), (28, 28, 256), (56, 56, 128),
        (112, 112, 64), (112, 112, 3)]
    assert models.generator.get_layer("g_dense").output.shape[1:] == (7 * 7 * 256,)
    assert layer_shapes(models.discriminator, "d_conv") == [
        (56, 56, 64), (28, 28, 128), (14, 14, 256), (7, 7, 512)]
    assert models.generator.input_shape == (None, 1024)


def test_conditional_model_matches_the_paper():
    models = build_models(get_preset("hwdb_3740").model)
    g, d = models.generator, models.discriminator
    assert g.get_layer("g_phi").kernel.shape == (3740, 256)
    assert d.get_layer("d_phi").kernel.shape == (3740, 256)
    assert g.get_layer("g_dense").output.shape[1:] == (7 * 7 * 128,)
    assert layer_shapes(g, "g_deconv") == [(14, 14, 128), (28, 28, 1)]
    assert d.get_layer("d_conv1").output.shape[1:] == (14, 14, 257)
    assert d.get_layer("d_conv2").output.shape[1:] == (7, 7, 320)
    assert d.get_layer("d_dense").output.shape[1:] == (1024,)
    assert g.get_layer("output").get_config()["activation"] == "sigmoid"


def test_linear_label_map_equals_one_hot_product():
    models = build_models(get_preset("digits").model)
    phi = models.discriminator.get_layer("d_phi")
    labels = np.array([0, 3, 9])
    one_hot = np.eye(10, dtype=np.float32)[labels]
    expected = one_hot @ phi.kernel.numpy() + phi.bias.numpy()
    np.testing.assert_allclose(phi(labels).numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("size", [32, 64, 128])
@pytest.mark.parametrize("g_bn, d_bn", [(True, True), (False, True), (False, False)])
def test_dcgan_sizes_and_batchnorm_switches(size, g_bn, d_bn):
    config = dataclasses.replace(get_preset("dcgan").model, image_size=size, g_width=8, d_width=8,
                                 g_batchnorm=g_bn, d_batchnorm=d_bn)
    models = build_models(config)
    assert models.generator.output_shape[1:] == (size, size, 3)

    def has_bn(model):
        return any("batch_normalization" in layer.name for layer in model.layers)
    assert has_bn(models.generator) == g_bn
    assert has_bn(models.discriminator) == d_bn


def test_wrong_sizes_are_refused_clearly():
    with pytest.raises(ValueError, match="dcgan supports model.image_size"):
        build_models(dataclasses.replace(get_preset("dcgan").model, image_size=48))
    with pytest.raises(KeyError, match="unknown model 'resnet'; known models: conditional"):
        build_models(dataclasses.replace(get_preset("dcgan").model, type="resnet"))
