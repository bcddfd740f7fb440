"""``lsun``: an LSUN scene LMDB (``{category}_{split}_lmdb/`` or its ``data.mdb``).

Keys are 40 hex digits, values the encoded image with nothing around it (JPEG, some exports
WebP, PNG accepted too), recognised by magic bytes and decoded with Pillow, converted to RGB,
the shorter side resized and centre-cropped to ``image_size`` (default 112). ``id`` = the key.

Reading is split over key ranges: the driver walks the keys only (values are not touched) and
cuts them into ranges of about ``RANGE_SIZE`` records; each shard is ``(start, stop)`` and a
worker reads the keys ``start <= key < stop`` with a cursor. The environment is opened
read-only without locks once per worker process (``setup``; py-lmdb refuses a second open of
the same path in one process, so every user in the process shares it).

Local paths only. The other sources list and read their files through Beam's ``FileSystems``
and so take ``gs://`` inputs; an LMDB is memory-mapped by py-lmdb, which needs the folder on a
local disk of every process that reads it. ``plan`` (the key walk) runs on the launching
machine while pipeline construction goes on, and ``setup``/``read`` run on the workers, which
under Dataflow, Flink or Spark are other machines that build their own ``LsunSource`` from the
same ``--input``: a copy made by ``plan`` would not be on them, and there is no step that runs
once per worker machine before the reads. Copying in ``setup`` instead would download the
whole LMDB (LSUN bedroom: 43 GB) once per worker process (the DirectRunner runs one per core),
and ``teardown`` is not guaranteed to run, so copies would be left on the workers' disks. So a
remote ``--input`` (any path with a scheme, e.g. ``gs://``) is refused in ``plan``, before
anything is downloaded, with an ``InputError`` that says to copy the LMDB folder to a local
disk or to a volume mounted on the workers (gcsfuse, NFS) and pass that path.

An ``--input`` that is an archive (LSUN's downloads are ``<category>_<split>_lmdb.zip``) is an
``InputError`` saying how to unpack it (``files.refuse_archive``).

Keys are made ids by ``records.escape_name`` (a key that is not UTF-8 or holds control
characters stays traceable and unique). An LMDB error or ``OSError`` while a key range is read
(a corrupt page, an I/O error) ends the range with one ``unreadable`` reject whose id is
``<last key read>..<end of the range>`` (the keys after it could not be read, and how many
there are is unknown); the records read before it are kept.
"""
from __future__ import annotations

import math
import os
import threading
from typing import Dict, Iterator, Optional, Tuple, Union

import lmdb
import numpy as np

from data_prep import images
from data_prep.files import UNREADABLE, describe, is_local, refuse_archive
from data_prep.records import Record, Reject, escape_name
from data_prep.source import InputError, Plan, Source
from data_prep.sources import SOURCES

RANGE_SIZE = 256
MAX_RANGES = 10000
FORMATS = ("JPEG", "WEBP", "PNG")

_environments: Dict[str, lmdb.Environment] = {}
_environments_lock = threading.Lock()


def open_environment(path: str) -> lmdb.Environment:
    """The process's read-only, lock-free environment of an LMDB directory or ``data.mdb``."""
    path = os.path.realpath(path)
    with _environments_lock:
        if path not in _environments:
            _environments[path] = lmdb.open(
                path, subdir=os.path.isdir(path), readonly=True, lock=False)
        return _environments[path]


def key_ranges(env: lmdb.Environment, max_records: Optional[int]
               ) -> Tuple[Tuple[Tuple[Optional[bytes], Optional[bytes]], ...], int]:
    """``((start, stop), ...)`` covering the first ``max_records`` keys (all when None), and
    how many keys they hold. ``start`` None = from the first key, ``stop`` None = to the end."""
    with env.begin() as txn:
        entries = txn.stat()["entries"]
        wanted = entries if max_records is None else min(entries, max_records)
        size = max(RANGE_SIZE, math.ceil(wanted / MAX_RANGES))
        starts, stop, count = [None], None, 0
        for key in txn.cursor().iternext(keys=True, values=False):
            if count == wanted:
                stop = key
                break
            if count and count % size == 0:
                starts.append(key)
            count += 1
    stops = starts[1:] + [stop]
    return tuple(zip(starts, stops)), count


@SOURCES.register("lsun")
class LsunSource(Source):
    """LSUN scene LMDB -> RGB squares; one shard per key range."""

    default_image_size = 112
    default_channels = 3

    def check_input(self) -> None:
        if is_local(self.input_path):  # a remote one is refused by plan, unread
            refuse_archive(self.input_path, "lsun")

    def plan(self) -> Plan:
        self.check_input()
        if not is_local(self.input_path):
            raise InputError(
                f"lsun: {self.input_path} is not a local path; an LMDB is memory-mapped, so it "
                "must be on a local disk of every Beam worker: copy the LMDB folder (data.mdb, "
                "lock.mdb) to a local disk or to a volume mounted on the workers (e.g. gcsfuse) "
                "and pass that path as --input")
        if not os.path.exists(self.input_path):
            raise InputError(f"lsun: no LMDB at {self.input_path}")
        try:
            env = open_environment(self.input_path)
        except lmdb.Error as error:
            raise InputError(f"lsun: {self.input_path} is not a readable LMDB: {error}") from None
        ranges, count = key_ranges(env, self.options.max_records)
        return Plan(shards=ranges, description=f"{count:,} records in {len(ranges)} key ranges")

    def setup(self) -> None:
        self._env = open_environment(self.input_path)

    def read(self, shard: Tuple[Optional[bytes], Optional[bytes]]
             ) -> Iterator[Union[Record, Reject]]:
        start, stop = shard
        last = start
        try:
            with self._env.begin() as txn:
                cursor = txn.cursor()
                found = cursor.set_range(start) if start is not None else cursor.first()
                while found:
                    key = cursor.key()
                    if stop is not None and key >= stop:
                        break
                    yield Record(id=escape_name(key), payload=cursor.value())
                    last = key
                    found = cursor.next()
        except (lmdb.Error, OSError) as error:
            after = "the start" if last is None else f"key {escape_name(last)}"
            yield Reject(f"{escape_name(last or b'')}..{escape_name(stop or b'')}", UNREADABLE,
                         f"reading stopped after {after}: {describe(error)}")

    def decode(self, record: Record) -> np.ndarray:
        image = images.open_encoded(record.payload, FORMATS, draft_size=self.image_size,
                                    channels=self.channels)
        return images.to_array(images.crop_to_square(image, self.image_size), self.channels)
