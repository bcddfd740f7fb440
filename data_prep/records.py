"""The values that flow between the steps of the preprocessing pipeline.

A source's ``read`` yields, per input record, exactly one of:
  ``Record``   read fine; goes on to ``decode``
  ``Reject``   bad input (id + reason): counted, written to ``rejects/``, never silently dropped
  ``Skipped``  deliberately left out by an option (e.g. a character outside ``--charset``):
               counted in ``stats.json`` but not read
``decode`` turns a ``Record`` into a ``Decoded`` image or raises ``BadRecord``.
"""
from __future__ import annotations

from typing import Any, NamedTuple, Union

import numpy as np

from lsgan_tf.example_schema import UNLABELED


class ClassKey(NamedTuple):
    """A class found while reading; the run's vocabulary is every key seen, sorted.

    ``sort_key`` orders the vocabulary (e.g. the GB tag code bytes); ``name`` goes to labels.txt.
    """

    sort_key: bytes
    name: str


Label = Union[int, ClassKey]


class Record(NamedTuple):
    """One input record as read: ``payload`` is source-specific (encoded bytes, pixels...)."""

    id: str
    payload: Any
    label: Label = UNLABELED


class Decoded(NamedTuple):
    """One image at the output size: uint8 H x W x C."""

    id: str
    image: np.ndarray
    label: Label = UNLABELED


class Reject(NamedTuple):
    """A bad input: ``reason`` is a short code (e.g. ``corrupt_image``), ``detail`` free text."""

    id: str
    reason: str
    detail: str = ""


class Skipped(NamedTuple):
    """A record left out on purpose by an option; ``reason`` e.g. ``not_in_charset``."""

    id: str
    reason: str


class BadRecord(ValueError):
    """Raised by ``Source.decode`` for a record that cannot become an image."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
