"""``hwdb``: CASIA-HWDB offline isolated characters, ``.gnt`` files (files, directories, globs).

A ``.gnt`` file holds samples back to back, no header (docs/PAPER.md section 4):

    uint32 LE  size = 10 + W * H
    2 bytes    tag code, GB bytes in file order (``B0 A1`` = the first level-1 character)
    uint16 LE  width W
    uint16 LE  height H
    W * H      uint8 pixels, row by row, background 255

Tags decode as GBK (a second byte 0 marks an ASCII symbol). Images are padded to a square
with white, resized to ``image_size`` (default 28), grayscale. Labels: the vocabulary of every
tag kept in the run, sorted by tag code bytes; ``labels.txt`` holds the characters.
``--charset=gb2312_level1`` keeps the 3,755 level-1 characters (lead B0-D7, trail A1-FE, up to
D7F9); the others are counted as skipped. ``id`` = ``path/relative/to/root.gnt:byte_offset``.
Files are listed and read through Beam's ``FileSystems`` (``data_prep.files``): local or remote.

Bad samples are rejects and reading goes on after them: a size field that disagrees with
W x H (the next sample is found from whichever of the two lengths leads to a consistent header),
a file that ends mid-sample, a tag that does not decode, a zero-sized image, a side above
``images.MAX_INPUT_SIDE`` (``too_large``; its pixels are not read).

A file that cannot be read at all is one reject whose id is the file's path (no offset):
``unreadable`` (any ``OSError`` opening it: a link loop, a dangling link, a socket, a failed
remote read), ``not_a_regular_file`` (a FIFO, socket or device: never opened), ``empty`` (0
bytes), ``archive`` (a zip, tar, gzip... by its first bytes, ``data_prep.archives``, whether
named ``.gnt`` or found by an archive's name in a folder: unpack it), and the rejects of
``data_prep.files``' listing (``symlink_outside_input``, ``duplicate_link``, ``path_too_long``).
An ``--input`` that is one archive is an ``InputError`` saying how to unpack it. When reading
fails part-way, the samples read stay and the rest of the file is one ``unreadable`` reject
``file:offset``. When no file named by ``--input`` can be read at all (a lone FIFO, say),
``plan`` raises ``InputError``, as for a missing path. Non-UTF-8 bytes and control characters
in file names are escaped in ids (``records.escape_name``).
"""
from __future__ import annotations

import os
import struct
from typing import BinaryIO, Iterator, NamedTuple, Optional, Tuple, Union

import numpy as np

from data_prep import archives, images
from data_prep.files import (UNREADABLE, archive_problem, check_file, describe, find_files, join,
                             name_matcher, open_raw, refuse_archive)
from data_prep.options import CHARSET_GB2312_LEVEL1
from data_prep.records import BadRecord, ClassKey, Record, Reject, Skipped, escape_name
from data_prep.source import Plan, Source, unusable_inputs
from data_prep.sources import SOURCES

HEADER = struct.Struct("<I2sHH")
TRUNCATED = "truncated_sample"
SIZE_MISMATCH = "size_mismatch"
UNDECODABLE_TAG = "undecodable_tag"
NOT_IN_CHARSET = "not_in_charset"


class GntSample(NamedTuple):
    """One sample as stored; ``pixels`` is None when the parse skipped them."""

    offset: int
    tag: bytes
    width: int
    height: int
    pixels: Optional[bytes]


class GntError(NamedTuple):
    """A sample (or the rest of a file) that cannot be read."""

    offset: int
    reason: str
    detail: str


def _consistent_at(handle: BinaryIO, file_size: int, offset: int) -> bool:
    """Whether ``offset`` is the end of the file or starts a self-consistent, complete sample."""
    if offset == file_size:
        return True
    if offset + HEADER.size > file_size:
        return False
    handle.seek(offset)
    size, _, width, height = HEADER.unpack(handle.read(HEADER.size))
    return size == HEADER.size + width * height and offset + size <= file_size


def parse_gnt(handle: BinaryIO, file_size: int, read_pixels: bool = True,
              max_side: int = images.MAX_INPUT_SIDE) -> Iterator[Union[GntSample, GntError]]:
    """Every sample of a ``.gnt`` file in order, bad ones as ``GntError``; a sample with a side
    above ``max_side`` is a ``too_large`` error (its pixels are not read). An ``OSError`` while
    reading ends the file with an ``unreadable`` error at the offset reached."""
    offset = 0
    try:
        while offset < file_size:
            handle.seek(offset)
            header = handle.read(HEADER.size)
            if len(header) < HEADER.size:
                yield GntError(offset, TRUNCATED,
                               f"file ends {len(header)} bytes into a header")
                return
            size, tag, width, height = HEADER.unpack(header)
            expected = HEADER.size + width * height
            if size != expected:
                yield GntError(offset, SIZE_MISMATCH,
                               f"size field {size}, but 10 + {width} x {height} = {expected}")
                candidates = [offset + size, offset + expected]
                following = [c for c in candidates
                             if offset < c <= file_size and _consistent_at(handle, file_size, c)]
                if not following:
                    return
                offset = following[0]
                continue
            if offset + size > file_size:
                yield GntError(offset, TRUNCATED, f"sample needs {size} bytes, the file has "
                                                  f"{file_size - offset} left")
                return
            if max(width, height) > max_side:
                yield GntError(offset, images.TOO_LARGE,
                               f"{width} x {height}, more than {max_side} pixels on a side")
            else:
                pixels = handle.read(width * height) if read_pixels else None
                if pixels is not None and len(pixels) < width * height:
                    yield GntError(offset, TRUNCATED, "the file ended while it was read")
                    return
                yield GntSample(offset, tag, width, height, pixels)
            offset += size
    except OSError as error:
        yield GntError(offset, UNREADABLE, describe(error))


def decode_tag(tag: bytes) -> str:
    """The character of a tag: GBK, or ASCII when the second byte is 0; ValueError otherwise."""
    if tag[1] == 0:
        if 0x21 <= tag[0] <= 0x7E:
            return chr(tag[0])
        raise ValueError(f"tag {tag.hex()} is not a printable ASCII symbol")
    text = tag.decode("gbk")
    if len(text) != 1:
        raise ValueError(f"tag {tag.hex()} decodes to {text!r}, not one character")
    return text


def in_gb2312_level1(tag: bytes) -> bool:
    """Whether a tag is one of the 3,755 GB2312 level-1 characters (B0A1 to D7F9)."""
    lead, trail = tag[0], tag[1]
    return 0xB0 <= lead <= 0xD7 and 0xA1 <= trail <= (0xF9 if lead == 0xD7 else 0xFE)


def _archive_at_start(handle: BinaryIO) -> Optional[archives.Archive]:
    """The archive or compressed file whose first bytes ``handle``'s file starts with, else
    None (``OSError`` passes)."""
    handle.seek(0)
    return archives.identify(handle.read(archives.HEAD_BYTES))


@SOURCES.register("hwdb")
class HwdbSource(Source):
    """CASIA-HWDB ``.gnt`` characters -> grayscale squares; one shard per file:
    ``(root, name relative to root, file size, how many samples to read or None for all,
    problem (reason, detail) found by the listing or None)``, paths as bytes."""

    default_image_size = 28
    default_channels = 1

    def _classify(self, name: str, item: Union[GntSample, GntError]
                  ) -> Union[Record, Reject, Skipped]:
        record_id = f"{escape_name(name)}:{item.offset}"
        if isinstance(item, GntError):
            return Reject(record_id, item.reason, item.detail)
        try:
            character = decode_tag(item.tag)
        except ValueError as error:
            return Reject(record_id, UNDECODABLE_TAG, str(error))
        if self.options.charset == CHARSET_GB2312_LEVEL1 and not in_gb2312_level1(item.tag):
            return Skipped(record_id, NOT_IN_CHARSET)
        return Record(record_id, (item.width, item.height, item.pixels),
                      ClassKey(item.tag, character))

    def _items(self, root: str, name: str, file_size: int, read_pixels: bool,
               problem: Optional[Tuple[str, str]] = None
               ) -> Iterator[Union[Record, Reject, Skipped]]:
        """The file's samples; one reject with the file's path as id when it cannot be read at
        all (``problem`` found by the listing, or found now)."""
        path = join(root, name)
        problem = problem or check_file(path)
        if problem is None and file_size == 0:
            problem = (images.EMPTY, "0 bytes: no samples")
        if problem is None:
            try:
                handle = open_raw(path)
            except OSError as error:
                problem = (UNREADABLE, describe(error))
        if problem is not None:
            yield Reject(escape_name(name), *problem)
            return
        with handle:
            for item in parse_gnt(handle, file_size, read_pixels):
                if isinstance(item, GntError) and item.offset == 0 and \
                        item.reason in (SIZE_MISMATCH, TRUNCATED):  # no sample at the start
                    try:
                        archive = _archive_at_start(handle)
                    except OSError:
                        archive = None  # parse_gnt meets the error again and says so
                    if archive is not None:
                        yield Reject(escape_name(name), *archive_problem(archive, name))
                        return
                yield self._classify(name, item)

    def check_input(self) -> None:
        refuse_archive(self.input_path, "hwdb")

    def plan(self) -> Plan:
        self.check_input()
        root, files = find_files(self.input_path, name_matcher("*.gnt"), ".gnt")
        unusable_inputs(files, f"hwdb: {self.input_path}")
        # Shards carry paths as bytes (os.fsencode): a name that is not UTF-8 (a surrogate
        # escape in a str) could not be encoded by Beam's coders.
        limit = self.options.max_records
        if limit is None:
            shards = tuple((os.fsencode(root), os.fsencode(entry.rel), entry.size, None,
                            entry.problem) for entry in files)
            return Plan(shards, discover_labels=True, description=f"{len(files)} .gnt files")
        shards, total = [], 0
        for entry in files:
            count = 0
            for item in self._items(root, entry.rel, entry.size, False, entry.problem):
                if total + count == limit:
                    break
                count += not isinstance(item, Skipped)
            shards.append((os.fsencode(root), os.fsencode(entry.rel), entry.size, count,
                           entry.problem))
            total += count
            if total == limit:
                break
        return Plan(tuple(shards), discover_labels=True,
                    description=f"the first {total:,} samples of {len(shards)} .gnt files")

    def read(self, shard: Tuple[bytes, bytes, int, Optional[int], Optional[Tuple[str, str]]]
             ) -> Iterator[Union[Record, Reject, Skipped]]:
        root, name, size, limit, problem = shard
        count = 0
        for item in self._items(os.fsdecode(root), os.fsdecode(name), size, True, problem):
            if count == limit:
                return
            count += not isinstance(item, Skipped)
            yield item

    def decode(self, record: Record) -> np.ndarray:
        width, height, pixels = record.payload
        if width == 0 or height == 0:
            raise BadRecord(images.ZERO_SIZE, f"{width} x {height}")
        if max(width, height) > images.MAX_INPUT_SIDE:
            raise BadRecord(images.TOO_LARGE, f"{width} x {height}")
        glyph = images.from_array(np.frombuffer(pixels, np.uint8).reshape(height, width))
        return images.to_array(images.pad_to_square(glyph, self.image_size), self.channels)
