# bazel: size=small
"""lsgan_tf.registry: registration, lookup, and misses that name the known entries.

Also the smallest test that Bazel runs (//tests:test_registry_bazel_smoke), with only the
modules its BUILD deps declare in the runfiles.
"""
import pytest

from lsgan_tf import registry
from lsgan_tf.registry import DATA_SOURCES, Registry


def test_register_and_get():
    widgets = Registry("widget")

    @widgets.register("round")
    def round_widget():
        return "round"

    assert widgets.get("round") is round_widget
    assert "round" in widgets
    assert widgets.names() == ["round"]


def test_register_twice_raises():
    widgets = Registry("widget")
    widgets.register("a")(object())
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        widgets.register("a")(object())


def test_miss_names_registry_and_known_entries():
    widgets = Registry("widget")
    widgets.register("square")(object())
    widgets.register("round")(object())
    with pytest.raises(KeyError) as info:
        widgets.get("oval")
    message = info.value.args[0]
    assert "unknown widget 'oval'" in message
    assert "known widgets: round, square" in message


def test_miss_on_empty_registry_says_none():
    with pytest.raises(KeyError, match=r"known gadgets: \(none\)"):
        Registry("gadget").get("x")


def test_builtin_data_sources_load_on_first_lookup():
    # DATA_SOURCES imports lsgan_tf.builtin_data by name on the first lookup.
    assert {"digits", "mog8"} <= set(DATA_SOURCES.names())
    with pytest.raises(KeyError, match="known data sources: .*digits.*mog8"):
        DATA_SOURCES.get("no-such-data")
    assert registry.ENTRY_POINT_GROUP == "lsgan_tf.plugins"
