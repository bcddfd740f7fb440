"""Archives and compressed files told by their first bytes (magic numbers), whatever their names.

``identify(head)`` names what a file whose first bytes are ``head`` (read ``HEAD_BYTES`` of
them) is, or None:
  * an archive of many files: zip (``PK\\3\\4``, ``PK\\5\\6`` empty, ``PK\\7\\10`` spanned), 7z,
    RAR (4 and 5), tar (a 512-byte header whose checksum is right: POSIX, GNU and old v7 tars);
  * a compressed stream: gzip (with deflate), bzip2, xz, zstd; the first bytes of a gzip,
    bzip2 or xz stream are decompressed, so that a compressed tar (``.tar.gz``, ``.tgz``,
    ``.tar.xz``...) is an archive, and another compressed file (``.png.gz``, MNIST's
    ``*-idx3-ubyte.gz``) a ``compression`` that a source may read (``Archive.compression``).
Names play no part: ``data.bin`` holding a zip is a zip, ``x.zip`` holding a PNG is no archive.
``named_like_archive(name)`` is the cheap pre-selection by name, for folders whose other files
are not read (the hwdb and idx sources open only the files they take).
"""
from __future__ import annotations

import bz2
import lzma
import re
import zlib
from typing import NamedTuple, Optional

HEAD_BYTES = 1 << 16  # what a gzip/bzip2/xz stream needs to give a tar header back
ARCHIVE = "archive"  # the reason of a reject: an archive (or compressed file) not read
_TAR_BLOCK = 512

_CONTAINERS = ((b"PK\x03\x04", "a zip archive", "unzip FILE -d FOLDER"),
               (b"PK\x05\x06", "an empty zip archive", "unzip FILE -d FOLDER"),
               (b"PK\x07\x08", "a zip archive", "unzip FILE -d FOLDER"),
               (b"7z\xbc\xaf\x27\x1c", "a 7z archive", "7z x FILE -oFOLDER"),
               (b"Rar!\x1a\x07", "a RAR archive", "unrar x FILE FOLDER/"))
_TAR_HINT = "tar -xf FILE -C FOLDER"
_COMPRESSIONS = (
    (b"\x1f\x8b\x08", "gzip", "gunzip -k FILE", lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)),
    (b"BZh", "bzip2", "bunzip2 -k FILE", bz2.BZ2Decompressor),
    (b"\xfd7zXZ\x00", "xz", "unxz -k FILE", lzma.LZMADecompressor),
    (b"\x28\xb5\x2f\xfd", "zstd", "unzstd FILE", None))
_NAMES = re.compile(r"\.(zip|7z|rar|tar|tgz|tbz2?|txz|tzst|tar\.\w+|gz|bz2|xz|zst)$", re.I)


class Archive(NamedTuple):
    """What a file is: ``description`` ("a gzip-compressed tar archive"), ``how`` to unpack it
    (a command with FILE and FOLDER), ``compression`` (``gzip``, ``bzip2``, ``xz``, ``zstd``)
    when it is one compressed file rather than an archive of many (None for an archive)."""

    description: str
    how: str
    compression: Optional[str] = None


def _is_tar(block: bytes) -> bool:
    """Whether ``block`` is a tar header: its checksum field (octal, bytes 148-155) equals the
    sum of its bytes with that field counted as spaces."""
    if len(block) < _TAR_BLOCK:
        return False
    field = block[148:156].replace(b"\0", b" ").strip()
    if not field or not all(48 <= byte <= 55 for byte in field):
        return False
    total = sum(block[:148]) + 8 * 32 + sum(block[156:_TAR_BLOCK])
    return int(field, 8) == total and any(block[:100])  # a name: all zeros ends an archive


def _inflated(head: bytes, make) -> bytes:
    """The first bytes ``head`` (a compressed stream's start) decompress to; b"" when they do
    not decompress."""
    try:
        return make().decompress(head, max_length=_TAR_BLOCK)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return b""


def identify(head: bytes) -> Optional[Archive]:
    """The archive or compressed file whose first bytes are ``head``, else None (module doc)."""
    for magic, description, how in _CONTAINERS:
        if head.startswith(magic):
            return Archive(description, how)
    if _is_tar(head[:_TAR_BLOCK]):
        return Archive("a tar archive", _TAR_HINT)
    for magic, name, how, make in _COMPRESSIONS:
        if head.startswith(magic):
            if make is not None and _is_tar(_inflated(head, make)):
                return Archive(f"a {name}-compressed tar archive", _TAR_HINT)
            return Archive(f"a {name}-compressed file", how, name)
    return None


def named_like_archive(name: str) -> bool:
    """Whether a file name ends like an archive or a compressed file (``.zip``, ``.tar.gz``,
    ``.gz``...): which files of a folder ``identify`` is worth running on."""
    return _NAMES.search(name) is not None


def unpack_advice(archive: Archive, path: str) -> str:
    """``unpack it (tar -xf PATH -C FOLDER)`` or ``decompress it (gunzip -k PATH)``."""
    verb = "decompress" if archive.compression else "unpack"
    return f"{verb} it ({archive.how.replace('FILE', path)})"
