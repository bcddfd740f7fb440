"""The one Registry class: register, get, names, duplicate and miss errors, entry points."""
from importlib import metadata

import pytest

from lsgan_tf import registry


def test_register_get_and_names():
    reg = registry.Registry("widget")

    @reg.register("b")
    def b():
        return "b"

    reg.register("a")(len)
    assert reg.get("b") is b and reg.get("a") is len
    assert reg.names() == ["a", "b"] and "a" in reg and "c" not in reg


def test_duplicate_and_miss_are_clear():
    reg = registry.Registry("widget")
    reg.register("x")(int)
    with pytest.raises(ValueError, match="widget 'x' is already registered"):
        reg.register("x")(float)
    with pytest.raises(KeyError, match="unknown widget 'y'; known widgets: x"):
        reg.get("y")


def test_builtin_registries_load_their_modules():
    assert {"ls", "pearson", "least_squares", "ns", "minimax"} <= set(registry.LOSSES.names())
    assert {"lsun_112", "conditional", "dcgan", "mog_mlp", "infogan"} <= set(
        registry.MODELS.names())
    assert {"digits", "mog8"} <= set(registry.DATA_SOURCES.names())


def test_entry_point_plugins_are_imported(tmp_path, monkeypatch):
    """A module named in the ``lsgan_tf.plugins`` group registers itself on first lookup."""
    (tmp_path / "my_plugin.py").write_text(
        "from lsgan_tf.registry import LOSSES\n"
        "LOSSES.register('plugin_loss')(lambda config=None: None)\n")
    dist = tmp_path / "my_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[lsgan_tf.plugins]\nmine = my_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "_plugins_loaded", False)
    monkeypatch.setattr(registry.LOSSES, "_entries", dict(registry.LOSSES._entries))
    assert "mine" in [ep.name for ep in metadata.entry_points(group=registry.ENTRY_POINT_GROUP)]
    assert "plugin_loss" in registry.LOSSES.names()
