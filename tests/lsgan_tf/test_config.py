"""Presets, strict dotted overrides and the JSON round trip."""
import dataclasses

import pytest

from lsgan_tf import config as config_lib
from lsgan_tf.presets import get_preset
from lsgan_tf.registry import PRESETS


def test_overrides_change_typed_fields():
    config = config_lib.apply_overrides(get_preset("digits"), [
        "optim.lr_d=1e-4", "train.steps=7", "model.noise.distribution=normal",
        "model.g_batchnorm=false", "loss.type=pearson"])
    assert config.optim.lr_d == 1e-4 and isinstance(config.optim.lr_d, float)
    assert config.train.steps == 7
    assert config.model.noise.distribution == "normal"
    assert config.model.g_batchnorm is False
    assert config.loss.type == "pearson"
    assert get_preset("digits").train.steps != 7  # presets are fresh and frozen


@pytest.mark.parametrize("override, message", [
    ("optim.lr=1", "unknown key 'lr' in OptimConfig"),
    ("train.steps=many", "expected int, got 'many'"),
    ("model.g_batchnorm=maybe", "expected bool"),
    ("optim=adam", "cannot set a whole section"),
    ("train.steps.x=1", "not a section"),
    ("trainsteps", "expected KEY=VALUE"),
])
def test_bad_overrides_are_clear_errors(override, message):
    with pytest.raises(config_lib.ConfigError, match=message):
        config_lib.apply_overrides(get_preset("digits"), [override])


@pytest.mark.parametrize("name", PRESETS.names())
def test_json_round_trip(name, tmp_path):
    config = get_preset(name)
    path = config_lib.save(config, str(tmp_path / "config.json"))
    assert config_lib.load(path) == config


def test_from_dict_rejects_unknown_keys_and_wrong_types():
    values = config_lib.to_dict(get_preset("digits"))
    values["train"]["stepz"] = 3
    with pytest.raises(config_lib.ConfigError, match="unknown keys"):
        config_lib.from_dict(values)
    values = config_lib.to_dict(get_preset("digits"))
    values["train"]["steps"] = "3"
    with pytest.raises(config_lib.ConfigError, match="train.steps: expected int"):
        config_lib.from_dict(values)


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_preset("digits").train.steps = 3
