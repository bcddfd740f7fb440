"""``idx``: MNIST / EMNIST IDX files, gzipped (``.gz``) or not.

IDX: big-endian; a magic number (0, 0, type 0x08 = uint8, number of dimensions), one uint32
per dimension, then the uint8 data. Images: magic 2051, dimensions (count, rows, cols);
labels: magic 2049, dimension (count,).

``--input`` is an images file (``train-images-idx3-ubyte.gz``), a directory or a glob (every
file with ``idx3`` in its name). The labels of an images file are the file named with
``images`` -> ``labels`` and ``idx3`` -> ``idx1`` (unlabeled when there is none); label names are
``0`` .. ``max label``. EMNIST stores images transposed: ``--transpose``. Images are resized to
``image_size`` (default 28, MNIST's own size), grayscale. ``id`` = ``file:index``, the file's
path relative to the root escaped by ``records.escape_name``.

Splits. When the images files ``--input`` names (a folder, searched below as always, or a glob)
include both MNIST's official training files and its official test files, by their base names
``train-*`` and ``t10k-*`` (MNIST's and Fashion-MNIST's own names:
``train-images-idx3-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``), the split is the official one:
every image of a ``t10k-*`` file is in ``eval`` (MNIST: exactly its 10,000 test images), every
image of a ``train-*`` file in ``train`` (the 60,000 training images), whatever
``--eval_fraction``. Images of other files there, and every input without both kinds (a single
file, a folder of training files only, EMNIST's ``*-train-*`` / ``*-test-*`` names), get the
split of every source: the stable hash of the id (``example_schema.split_of`` with
``--eval_fraction``). ``lsgan run --source=idx`` gets the same splits: the pipeline's ExampleGen
runs the same ``ReadAndPrepare``.
Files are listed and read through Beam's ``FileSystems`` (``data_prep.files``): local or remote;
a ``.gz`` is read raw and decompressed here, so that a truncated one still gives what it holds.

Headers are not trusted: ``plan`` checks each images file before anything is planned, against
what the file holds (its size; for a ``.gz`` the data decompressed, streamed on the driver and
not kept, reading no further than the header declares). A file that fails is ONE reject whose
id is the file's path (nothing else of it is read), and the other files are prepared:
  ``unreadable`` / ``not_a_regular_file``  it cannot be read at all (``data_prep.files``)
  ``bad_header``   not a uint8 IDX images file (magic, dimensions), zero rows or columns, or a
                   header declaring more than twice the images the file holds (an 800-byte
                   file claiming 4,294,967,295 images): the header is not trusted
  ``too_large``    rows or columns above ``images.MAX_INPUT_SIDE``
  ``corrupt_file`` a ``.gz`` whose data is corrupt before half of the declared images
  ``bad_labels``   its labels file cannot be read, is not an IDX labels file, does not hold
                   one label per image, or is a symbolic link out of the input
  ``archive``      not IDX but an archive (a zip, a tar, a ``.tar.gz``... by its first bytes,
                   ``data_prep.archives``): unpack it; an archive in the folder whose name is
                   not an images file's is one too (``files.find_files``)
  ``symlink_outside_input`` / ``duplicate_link`` / ``path_too_long``  (``data_prep.files``)
An ``--input`` that is one archive (or a compressed file other than gzip) is an ``InputError``
saying how to unpack it.
When no images file named by ``--input`` is usable (e.g. the only one), ``plan`` raises
``InputError`` with the reason instead, as for a missing path: the same rule as the other
file sources (``source.unusable_inputs``). A file holding at least half of the images its
header declares is trusted: the images it lacks are rejects (``truncated``, or ``corrupt_file``
after corrupt gzip data), one per image, so their number never exceeds the images written.
Bytes after the declared images are ignored.
"""
from __future__ import annotations

import os
import posixpath
import struct
import zlib
from typing import Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from data_prep import images
from data_prep.files import (UNREADABLE, Found, archive_problem, check_file, describe, exists,
                             find_files, input_root, join, name_matcher, open_raw,
                             refuse_archive, sniff_archive)
from data_prep.records import Record, Reject, escape_name
from data_prep.source import InputError, Plan, Source, unusable_inputs
from data_prep.sources import SOURCES
from lsgan_tf.example_schema import EVAL, TRAIN, UNLABELED

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGES_PER_SHARD = 2048
TRUNCATED = "truncated"
CORRUPT_FILE = "corrupt_file"
BAD_HEADER = "bad_header"
BAD_LABELS = "bad_labels"
_CHUNK = 1 << 20
# Base-name prefixes of MNIST's official files -> their split (module docstring, "Splits").
OFFICIAL_SPLITS = (("train-", TRAIN), ("t10k-", EVAL))


class Unusable(Exception):
    """A whole file that cannot be used: ``reason`` and ``detail`` of its reject."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def _inflate(path: str, limit: Optional[int], sink: Callable[[bytes], None]) -> Optional[str]:
    """Feeds the content of an IDX file (decompressed for ``.gz``), its first ``limit`` bytes
    or all of it, to ``sink`` chunk by chunk; returns why it ended early (corrupt gzip data) or
    None. A truncated ``.gz`` gives what it holds. ``OSError`` from the file passes through."""
    gzipped = path.endswith(".gz")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    left = limit
    with open_raw(path) as handle:
        while left is None or left > 0:
            chunk = handle.read(_CHUNK if left is None or gzipped else min(left, _CHUNK))
            if not chunk:
                return None
            if inflate is not None:
                try:
                    chunk = inflate.decompress(chunk, left or 0)
                except zlib.error as error:
                    return f"corrupt gzip data: {error}"
            if left is not None:
                chunk = chunk[:left]
                left -= len(chunk)
            sink(chunk)
            if inflate is not None and inflate.eof:
                return None
    return None


def read_bytes(path: str, limit: Optional[int] = None) -> Tuple[bytes, Optional[str]]:
    """``(content, why it ends early or None)`` of an IDX file (decompressed), or of its first
    ``limit`` bytes; see ``_inflate``."""
    parts: List[bytes] = []
    problem = _inflate(path, limit, parts.append)
    return b"".join(parts), problem


def _length(path: str, limit: int) -> Tuple[int, Optional[str]]:
    """How many bytes the (decompressed) file holds, counting no further than ``limit``."""
    total = [0]
    problem = _inflate(path, limit, lambda chunk: total.__setitem__(0, total[0] + len(chunk)))
    return total[0], problem


def parse_header(data: bytes, what: str = "an IDX file") -> Tuple[int, Tuple[int, ...], int]:
    """``(magic, dims, header length)`` of IDX bytes; ``Unusable`` (``bad_header``) when they
    are not uint8 IDX."""
    if len(data) < 4:
        raise Unusable(BAD_HEADER, f"{len(data)} bytes, too short to be {what}")
    magic, = struct.unpack(">I", data[:4])
    ndim = data[3]
    if magic >> 8 != 0x08:
        raise Unusable(BAD_HEADER, f"not a uint8 IDX file (magic {magic})")
    if len(data) < 4 + 4 * ndim:
        raise Unusable(BAD_HEADER, f"{len(data)} bytes, too short for the header of {what}")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return magic, dims, 4 + 4 * ndim


def official_split(name: str) -> Optional[str]:
    """The split of an images file by its base name (``train-*``: train, ``t10k-*``: eval), or
    None for any other name."""
    base = posixpath.basename(name.replace(os.sep, "/"))
    for prefix, split in OFFICIAL_SPLITS:
        if base.startswith(prefix):
            return split
    return None


def official_splits(names) -> Dict[str, Optional[str]]:
    """name -> split for every images file name, when they include both an official training
    file and an official test file; ``{}`` (the hash split for all) otherwise."""
    splits = {name: official_split(name) for name in names}
    if {TRAIN, EVAL} <= set(splits.values()):
        return splits
    return {}


def labels_name(images_name: str) -> str:
    """The labels file that goes with an images file name."""
    return images_name.replace("images", "labels").replace("idx3", "idx1")


def _images_header(data: bytes, problem: Optional[str]) -> Tuple[int, int, int, int]:
    """``(count, rows, cols, header length)`` of an images file's first bytes, or
    ``Unusable``."""
    try:
        magic, dims, start = parse_header(data, "an IDX images file")
    except Unusable:
        if problem:  # the gzip data is corrupt within the header
            raise Unusable(CORRUPT_FILE, problem) from None
        raise
    if magic != IMAGES_MAGIC or len(dims) != 3:
        raise Unusable(BAD_HEADER, f"not an IDX images file (magic {magic}, dimensions {dims})")
    count, rows, cols = dims
    if rows == 0 or cols == 0:
        raise Unusable(BAD_HEADER, f"images of {rows} x {cols} pixels")
    if max(rows, cols) > images.MAX_INPUT_SIDE:
        raise Unusable(images.TOO_LARGE, f"images of {rows} x {cols}, more than "
                                         f"{images.MAX_INPUT_SIDE} pixels on a side")
    return count, rows, cols, start


class _Checked(NamedTuple):
    """An images file that passed ``plan``'s checks."""

    count: int
    labels: Optional[str]  # the labels file's path relative to the root
    max_label: int


class _Loaded(NamedTuple):
    """One images file in memory: the complete images, the labels, and why the rest is missing."""

    pixels: np.ndarray
    labels: Optional[np.ndarray]
    reason: str
    detail: str


@SOURCES.register("idx")
class IdxSource(Source):
    """IDX images (+ labels) -> grayscale squares; shards are index ranges of one file:
    ``(root, images name, labels name or None, start, stop, problem, split)`` (paths as bytes;
    ``split`` the official split of the file, or None for the hash split); a file rejected as a
    whole is the shard ``(root, name, None, 0, 1, (reason, detail), None)``."""

    default_image_size = 28
    default_channels = 1

    def _labels(self, root: str, name: str, count: int) -> Tuple[Optional[str], Optional[bytes]]:
        """``(labels name, their bytes after the header)``, ``(None, None)`` when the images
        file has no labels file; ``Unusable`` (``bad_labels``) when it is unusable."""
        labels = labels_name(name)
        path = join(root, labels)
        if labels == name or not exists(path):
            return None, None

        def bad(detail: str) -> Unusable:
            return Unusable(BAD_LABELS, f"labels file {escape_name(labels)}: {detail}")

        problem = check_file(path, inside=input_root(self.input_path))
        if problem:
            raise bad(f"{problem[1]} ({problem[0]})")
        try:
            data, corrupt = read_bytes(path)
        except OSError as error:
            raise bad(f"{describe(error)} ({UNREADABLE})") from None
        try:
            magic, dims, start = parse_header(data, "an IDX labels file")
        except Unusable as error:
            raise bad(corrupt or error.detail) from None
        if magic != LABELS_MAGIC or dims != (count,):
            raise bad(f"holds {dims} (magic {magic}), expected {count} labels")
        return labels, data[start:]

    def _check(self, root: str, entry: Found) -> _Checked:
        """``plan``'s checks of one images file (module docstring), or ``Unusable``."""
        if entry.problem:
            raise Unusable(*entry.problem)
        path = join(root, entry.rel)
        problem = check_file(path)
        if problem:
            raise Unusable(*problem)
        try:
            try:
                count, rows, cols, start = _images_header(*read_bytes(path, 64))
            except Unusable as error:
                archive = sniff_archive(path)
                if archive is None or archive.compression or error.reason != BAD_HEADER:
                    raise  # one compressed file (a gzipped IDX): its header is what is wrong
                raise Unusable(*archive_problem(archive, entry.rel)) from None
            declared = start + count * rows * cols
            if path.endswith(".gz") or entry.size < 0:
                held, corrupt = _length(path, declared)
            else:
                held, corrupt = min(entry.size, declared), None
            complete = min(count, max(0, held - start) // (rows * cols))
            if count - complete > complete:
                if corrupt:
                    raise Unusable(CORRUPT_FILE, f"{corrupt} after {complete:,} of {count:,} "
                                                 "images")
                raise Unusable(BAD_HEADER, (
                    f"the header declares {count:,} images of {rows} x {cols} ({declared:,} "
                    f"bytes), the file holds {complete:,} complete ones: fewer than half, so "
                    "the header is not trusted"))
            labels, label_bytes = self._labels(root, entry.rel, count)
        except OSError as error:
            raise Unusable(UNREADABLE, describe(error)) from None
        max_label = max(label_bytes) if label_bytes else -1
        return _Checked(count, labels, max_label)

    def check_input(self) -> None:
        refuse_archive(self.input_path, "idx", reads=("gzip",))

    def plan(self) -> Plan:
        self.check_input()
        root, files = find_files(self.input_path, name_matcher("*idx3*"), "IDX images",
                                 reads=("gzip",))
        splits = official_splits(entry.rel for entry in files if not entry.folder)
        shards: List[tuple] = []
        checked: List[Found] = []
        labeled, max_label, left = [], -1, self.options.max_records
        for entry in files:
            base = (os.fsencode(root), os.fsencode(entry.rel))
            try:
                good = self._check(root, entry)
            except Unusable as error:
                checked.append(entry._replace(problem=(error.reason, error.detail)))
                shards.append(base + (None, 0, 1, (error.reason, error.detail), None))
                count = 1
            else:
                checked.append(entry)
                labeled.append(good.labels is not None)
                max_label = max(max_label, good.max_label)
                count = good.count if left is None else min(good.count, left)
                labels = os.fsencode(good.labels) if good.labels is not None else None
                split = splits.get(entry.rel)
                shards += [base + (labels, start, min(start + IMAGES_PER_SHARD, count), None,
                                   split)
                           for start in range(0, count, IMAGES_PER_SHARD)]
            if left is not None:
                left -= count
                if left == 0:
                    break
        if len(checked) == len(files):
            unusable_inputs(checked, f"idx: {self.input_path}")
        if any(labeled) and not all(labeled):
            raise InputError(f"idx: some images files in {self.input_path} have no labels file")
        total = sum(shard[4] - shard[3] for shard in shards)
        description = f"{total:,} records from {len(checked)} IDX files"
        if splits:
            description += ": official splits, train-* to train, t10k-* to eval"
        return Plan(shards=tuple(shards),
                    class_names=tuple(str(i) for i in range(max_label + 1)),
                    description=description)

    def setup(self) -> None:
        self._loaded: Dict[str, _Loaded] = {}

    def _load(self, root: str, name: str, labels_file: Optional[str]) -> _Loaded:
        """The whole file, decompressed once per worker and kept for the following shards; a
        file that became unusable since ``plan`` gives no images and the reason."""
        if name not in self._loaded:
            try:
                self._loaded[name] = self._read_file(root, name, labels_file)
            except Unusable as error:
                self._loaded[name] = _Loaded(np.zeros((0, 1, 1), np.uint8), None,
                                             error.reason, error.detail)
            except OSError as error:
                self._loaded[name] = _Loaded(np.zeros((0, 1, 1), np.uint8), None, UNREADABLE,
                                             describe(error))
        return self._loaded[name]

    def _read_file(self, root: str, name: str, labels_file: Optional[str]) -> _Loaded:
        path = join(root, name)
        problem = check_file(path)
        if problem:
            raise Unusable(*problem)
        data, corrupt = read_bytes(path)
        count, rows, cols, start = _images_header(data, corrupt)
        complete = min(count, max(0, len(data) - start) // (rows * cols))
        pixels = np.frombuffer(data, np.uint8, offset=start, count=complete * rows * cols)
        labels = None
        if labels_file:
            labels = np.frombuffer(self._labels(root, name, count)[1] or b"", np.uint8)
        reason, detail = ((CORRUPT_FILE, f"{corrupt} after {complete} images") if corrupt else
                          (TRUNCATED, f"the file holds {complete} complete images"))
        return _Loaded(pixels.reshape(complete, rows, cols), labels, reason, detail)

    def read(self, shard: tuple) -> Iterator[Union[Record, Reject]]:
        root, name, labels_file, start, stop, problem, split = shard
        root, name = os.fsdecode(root), os.fsdecode(name)
        file_id = escape_name(name)
        if problem is not None:
            yield Reject(file_id, *problem)
            return
        loaded = self._load(root, name, os.fsdecode(labels_file) if labels_file else None)
        for index in range(start, stop):
            record_id = f"{file_id}:{index}"
            if index >= len(loaded.pixels):
                yield Reject(record_id, loaded.reason, loaded.detail)
            elif loaded.labels is not None and index >= len(loaded.labels):
                yield Reject(record_id, TRUNCATED, "the labels file ends before this label")
            else:
                label = UNLABELED if loaded.labels is None else int(loaded.labels[index])
                yield Record(record_id, loaded.pixels[index], label, split)

    def decode(self, record: Record) -> np.ndarray:
        pixels = record.payload.T if self.options.transpose else record.payload
        image = images.from_array(pixels)
        if image.size != (self.image_size, self.image_size):
            image = images.crop_to_square(image, self.image_size)
        return images.to_array(image, self.channels)
