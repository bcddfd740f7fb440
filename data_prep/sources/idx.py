"""``idx``: MNIST / EMNIST IDX files, gzipped (``.gz``) or not.

IDX: big-endian; a magic number (0, 0, type 0x08 = uint8, number of dimensions), one uint32
per dimension, then the uint8 data. Images: magic 2051, dimensions (count, rows, cols);
labels: magic 2049, dimension (count,).

``--input`` is an images file (``train-images-idx3-ubyte.gz``), a directory or a glob (every
file with ``idx3`` in its name). The labels of an images file are the file named with
``images`` -> ``labels`` and ``idx3`` -> ``idx1`` (unlabeled when there is none); label names are
``0`` .. ``max label``. EMNIST stores images transposed: ``--transpose``. Images are resized to
``image_size`` (default 28, MNIST's own size), grayscale. ``id`` = ``file:index``.
A file that ends early yields rejects (``truncated``) for the images it lacks.
Files are listed and read through Beam's ``FileSystems`` (``data_prep.files``): local or remote;
a ``.gz`` is read raw and decompressed here, so that a truncated one still gives what it holds.
"""
from __future__ import annotations

import struct
import zlib
from typing import Dict, Iterator, List, NamedTuple, Optional, Tuple, Union

import numpy as np

from data_prep import images
from data_prep.files import exists, find_files, join, name_matcher, open_raw
from data_prep.records import Record, Reject
from data_prep.source import InputError, Plan, Source
from data_prep.sources import SOURCES
from lsgan_tf.example_schema import UNLABELED

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGES_PER_SHARD = 2048
TRUNCATED = "truncated"
CORRUPT_FILE = "corrupt_file"


def read_bytes(path: str, limit: Optional[int] = None) -> bytes:
    """The (decompressed) content of an IDX file, or its first ``limit`` bytes; a truncated
    ``.gz`` gives what it holds. Raises ``zlib.error`` for a corrupt ``.gz``."""
    gzipped = path.endswith(".gz")
    with open_raw(path) as handle:
        raw = handle.read(-1 if limit is None else (1 << 16 if gzipped else limit))
    if gzipped:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, limit or 0)
    return raw


def parse_header(data: bytes, path: str) -> Tuple[int, Tuple[int, ...], int]:
    """``(magic, dims, header length)`` of IDX bytes; ``InputError`` when they are not IDX."""
    if len(data) < 4:
        raise InputError(f"idx: {path} is too short to be an IDX file")
    magic, = struct.unpack(">I", data[:4])
    ndim = data[3]
    if magic >> 8 != 0x08 or len(data) < 4 + 4 * ndim:
        raise InputError(f"idx: {path} is not a uint8 IDX file (magic {magic})")
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    return magic, dims, 4 + 4 * ndim


class _Loaded(NamedTuple):
    """One images file in memory: the complete images, the labels, and why the rest is missing."""

    pixels: np.ndarray
    labels: Optional[np.ndarray]
    reason: str
    detail: str


def labels_name(images_name: str) -> str:
    """The labels file that goes with an images file name."""
    return images_name.replace("images", "labels").replace("idx3", "idx1")


@SOURCES.register("idx")
class IdxSource(Source):
    """IDX images (+ labels) -> grayscale squares; shards are index ranges of one file:
    ``(root, images name, labels name or None, start, stop)``."""

    default_image_size = 28
    default_channels = 1

    def _labels(self, root: str, name: str, count: int) -> Optional[np.ndarray]:
        path = join(root, labels_name(name))
        if not exists(path):
            return None
        try:
            data = read_bytes(path)
        except zlib.error as error:
            raise InputError(f"idx: {path} is not a readable gzip file: {error}") from None
        magic, dims, start = parse_header(data, path)
        if magic != LABELS_MAGIC or dims != (count,):
            raise InputError(f"idx: {path} holds {dims} (magic {magic}), expected {count} labels")
        return np.frombuffer(data, np.uint8, offset=start)

    def plan(self) -> Plan:
        root, files = find_files(self.input_path, name_matcher("*idx3*"), "IDX images")
        shards: List[tuple] = []
        labeled, max_label, left = [], -1, self.options.max_records
        for name, _ in files:
            path = join(root, name)
            try:
                magic, dims, _ = parse_header(read_bytes(path, 64), path)
            except zlib.error as error:
                raise InputError(f"idx: {path} is not a readable gzip file: {error}") from None
            if magic != IMAGES_MAGIC or len(dims) != 3:
                raise InputError(f"idx: {path} is not an IDX images file (magic {magic})")
            labels = self._labels(root, name, dims[0])
            labeled.append(labels is not None)
            if labels is not None and len(labels):
                max_label = max(max_label, int(labels.max()))
            count = dims[0] if left is None else min(dims[0], left)
            shards += [(root, name, labels_name(name) if labels is not None else None,
                        start, min(start + IMAGES_PER_SHARD, count))
                       for start in range(0, count, IMAGES_PER_SHARD)]
            if left is not None:
                left -= count
                if left == 0:
                    break
        if any(labeled) and not all(labeled):
            raise InputError(f"idx: some images files in {self.input_path} have no labels file")
        total = sum(stop - start for *_, start, stop in shards)
        return Plan(shards=tuple(shards),
                    class_names=tuple(str(i) for i in range(max_label + 1)),
                    description=f"{total:,} images in {len(labeled)} IDX files")

    def setup(self) -> None:
        self._loaded: Dict[str, _Loaded] = {}

    def _load(self, root: str, name: str, labels_file: Optional[str]) -> "_Loaded":
        """The whole file, decompressed once per worker and kept for the following shards."""
        if name not in self._loaded:
            path = join(root, name)
            try:
                data = read_bytes(path)
            except zlib.error as error:
                self._loaded[name] = _Loaded(np.zeros((0, 1, 1), np.uint8), None,
                                             CORRUPT_FILE, str(error))
                return self._loaded[name]
            _, (_, rows, cols), start = parse_header(data, path)
            complete = (len(data) - start) // (rows * cols)
            pixels = np.frombuffer(data, np.uint8, offset=start, count=complete * rows * cols)
            labels = None
            if labels_file:
                labels_path = join(root, labels_file)
                label_data = read_bytes(labels_path)
                labels = np.frombuffer(label_data, np.uint8,
                                       offset=parse_header(label_data, labels_path)[2])
            self._loaded[name] = _Loaded(pixels.reshape(complete, rows, cols), labels, TRUNCATED,
                                         f"the file holds {complete} complete images")
        return self._loaded[name]

    def read(self, shard: tuple) -> Iterator[Union[Record, Reject]]:
        root, name, labels_file, start, stop = shard
        loaded = self._load(root, name, labels_file)
        for index in range(start, stop):
            record_id = f"{name}:{index}"
            if index >= len(loaded.pixels):
                yield Reject(record_id, loaded.reason, loaded.detail)
            elif loaded.labels is not None and index >= len(loaded.labels):
                yield Reject(record_id, TRUNCATED, "the labels file ends before this label")
            else:
                label = UNLABELED if loaded.labels is None else int(loaded.labels[index])
                yield Record(record_id, loaded.pixels[index], label)

    def decode(self, record: Record) -> np.ndarray:
        pixels = record.payload.T if self.options.transpose else record.payload
        image = images.from_array(pixels)
        if image.size != (self.image_size, self.image_size):
            image = images.crop_to_square(image, self.image_size)
        return images.to_array(image, self.channels)
