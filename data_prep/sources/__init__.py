"""The source plugins of ``lsgan prep``, one module each, registered by name in ``SOURCES``.

A registered source is a ``data_prep.source.Source`` subclass; ``SOURCES.get(name)`` imports
the built-in modules below on first use (and third-party ``lsgan_tf.plugins`` entry points).
"""
from lsgan_tf.registry import Registry

SOURCES: Registry = Registry("prep source", (
    "data_prep.sources.digits",
    "data_prep.sources.folder",
    "data_prep.sources.hwdb",
    "data_prep.sources.idx",
    "data_prep.sources.lsun",
    "data_prep.sources.tfds",
))
