"""Dotted keys of nested config dataclasses: ``flatten(config)`` -> {"model.noise.dim": 64, ...}.

Shared by the config chain (``resume_conflicts``), validation (the bounds are keyed by dotted
name) and the memory estimate; imports nothing of the project.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict


def flatten(config: Any, prefix: str = "") -> Dict[str, Any]:
    """{"model.noise.dim": 64, ...}: every leaf of a config by dotted key."""
    flat: Dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value):
            flat.update(flatten(value, key + "."))
        else:
            flat[key] = value
    return flat
