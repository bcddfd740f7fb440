"""One registry class for every plugin slot (models, losses, presets, data sources, extractors).

Contract:
  * ``REGISTRY.register(name, **info)`` is a decorator; registering a name twice raises
    ``ValueError``. ``info`` is what the plugin states about itself for ``config.validate()``
    (a model's ``supports=ModelSupport(...)``); ``REGISTRY.info(name)`` returns it.
  * ``REGISTRY.get(name)`` returns the registered object; a miss raises ``KeyError`` whose
    message names the registry and every known entry.
  * Modules that register plugins import TensorFlow and Keras inside their functions, not at
    the top: validating a config imports them all, and must not wait for TensorFlow.
  * Third-party plugins are modules named by entry points in the group ``lsgan_tf.plugins``;
    they are imported on the first lookup of any registry, and register themselves on import.
"""
from __future__ import annotations

import importlib
from importlib import metadata
from typing import Any, Callable, Dict, Generic, List, TypeVar

ENTRY_POINT_GROUP = "lsgan_tf.plugins"
T = TypeVar("T")

_plugins_loaded = False


def load_entry_point_plugins() -> List[str]:
    """Imports every module named in the ``lsgan_tf.plugins`` entry-point group once.

    Returns the names of the entry points loaded by this call (empty after the first call).
    """
    global _plugins_loaded
    if _plugins_loaded:
        return []
    _plugins_loaded = True
    loaded = []
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        entry_point.load()
        loaded.append(entry_point.name)
    return loaded


class Registry(Generic[T]):
    """A named collection of plugins of one kind."""

    def __init__(self, kind: str, builtin_modules: tuple = ()):
        self.kind = kind
        self._entries: Dict[str, T] = {}
        self._info: Dict[str, Dict[str, Any]] = {}
        self._builtin_modules = builtin_modules
        self._builtins_loaded = False

    def register(self, name: str, **info: Any) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            self._info[name] = dict(info)
            return obj
        return decorator

    def _load(self) -> None:
        if not self._builtins_loaded:
            self._builtins_loaded = True
            for module in self._builtin_modules:
                importlib.import_module(module)
        load_entry_point_plugins()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries)) or "(none)"
            raise KeyError(f"unknown {self.kind} {name!r}; known {self.kind}s: {known}") from None

    def info(self, name: str) -> Dict[str, Any]:
        """What ``name`` stated when it registered (a miss raises ``get``'s ``KeyError``)."""
        self.get(name)
        return dict(self._info[name])

    def names(self) -> List[str]:
        self._load()
        return sorted(self._entries)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._entries


MODELS: Registry = Registry("model", ("lsgan_tf.models",))
LOSSES: Registry = Registry("loss", ("lsgan_tf.losses",))
PRESETS: Registry = Registry("preset", ("lsgan_tf.presets",))
DATA_SOURCES: Registry = Registry("data source", ("lsgan_tf.builtin_data",))
EXTRACTORS: Registry = Registry("feature extractor", ("lsgan_tf.metrics.extractors",))
