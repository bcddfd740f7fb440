"""The contract of a source plugin: one class in ``data_prep/sources/``, one decorator.

    @SOURCES.register("name")
    class MySource(Source):
        default_image_size = 64
        default_channels = 3
        def plan(self) -> Plan: ...          # driver: check the input, list work units
        def check_input(self): ...           # optional: checks of the input path alone
        def read(self, shard): ...           # worker: yield Record | Reject | Skipped
        def decode(self, record): ...        # worker: Record -> uint8 H x W x C (or BadRecord)

Life cycle: the driver builds ``Source(input_path, options)`` and calls ``plan()`` while the
pipeline is constructed, so a missing or malformed input is an ``InputError`` before anything
runs. Every worker builds its own instances from the same arguments: the read step calls
``setup()`` once (open files or databases there) and ``read(shard)`` for each of its shards;
the decode step calls only ``decode``, which must not need what ``setup`` opened.

Bad input never stops a run (docs/DESIGN.md, data contract): ``read`` yields a ``Reject`` for what it
cannot read (a file that cannot be opened is one reject whose id is its path), ``decode`` raises
``BadRecord``. ``InputError`` is for an input that cannot be used at all: a missing path, or a
whole input none of whose files can be read (``unusable_inputs``); one bad file among good ones
is a reject.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Iterable, Optional, Tuple, Union

import numpy as np

from data_prep.options import PrepOptions
from data_prep.records import Record, Reject, Skipped, escape_name


class InputError(ValueError):
    """The input cannot be used at all (missing path, wrong format, dataset not prepared)."""


@dataclasses.dataclass(frozen=True)
class Plan:
    """What ``Source.plan`` found.

    Attributes:
      shards: picklable work units; each is read by one ``Source.read`` call on some worker.
      class_names: label id -> class name when labels are ints known up front; () when the
        data is unlabeled or when ``discover_labels`` is set.
      discover_labels: records carry ``ClassKey`` labels and the vocabulary is built from the
        whole run (sorted by ``sort_key``), e.g. HWDB tags spread over many files.
      description: one line for the console, e.g. ``2,000 records in 8 key ranges``.
    """

    shards: Tuple[Any, ...]
    class_names: Tuple[str, ...] = ()
    discover_labels: bool = False
    description: str = ""


class Source(abc.ABC):
    """Base class of the source plugins; see the module docstring for the life cycle."""

    default_image_size: Optional[int] = None
    default_channels: int = 3
    needs_input: bool = True

    def __init__(self, input_path: str, options: PrepOptions):
        self.input_path = input_path
        self.options = options

    @property
    def image_size(self) -> Optional[int]:
        """The output side: ``options.image_size`` or this source's default."""
        return self.options.image_size or self.default_image_size

    @property
    def channels(self) -> int:
        """The output channels: ``options.channels`` or this source's default."""
        return self.options.channels or self.default_channels

    def check_input(self) -> None:
        """Driver side, before the pipeline is built: the checks of ``input_path`` that need
        no listing (``InputError``), e.g. an ``--input`` that is one archive to unpack
        (``files.refuse_archive``); ``plan`` runs them too. Nothing by default."""

    @abc.abstractmethod
    def plan(self) -> Plan:
        """Driver side: checks the input (``InputError``) and lists the shards to read."""

    def setup(self) -> None:
        """Worker side, once per read step instance: open files or databases."""

    @abc.abstractmethod
    def read(self, shard: Any) -> Iterable[Union[Record, Reject, Skipped]]:
        """Yields one ``Record``, ``Reject`` or ``Skipped`` per input record of the shard."""

    @abc.abstractmethod
    def decode(self, record: Record) -> np.ndarray:
        """uint8 H x W x C image at the output size; raises ``BadRecord`` for bad input."""

    def teardown(self) -> None:
        """Worker side: release what ``setup`` opened."""


def chunked(items, size: int) -> Tuple[tuple, ...]:
    """``items`` cut into tuples of at most ``size`` (the last one shorter), as shards."""
    items = tuple(items)
    return tuple(items[start:start + size] for start in range(0, len(items), size))


def unusable_inputs(found, what: str) -> None:
    """Raises ``InputError`` when every input file listed in ``found`` (``files.Found``
    entries) has a problem (cannot be read at all), naming the first ones."""
    problems = [entry for entry in found if entry.problem]
    if not found or len(problems) < len(found):
        return
    shown = "; ".join(f"{escape_name(entry.rel)}: {entry.problem[1]} ({entry.problem[0]})"
                      for entry in problems[:3])
    more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
    raise InputError(f"{what}: no input file can be read: {shown}{more}")
