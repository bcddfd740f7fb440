"""Fuzzing the sources (issue 13): valid small files in the true formats (.gnt, IDX, LSUN LMDB
values, image folders), mutated with a seeded RNG (bit flips, truncation, random header fields,
inserted and deleted bytes, names that are not UTF-8), then read and decoded as the pipeline's
steps do, in-process without Beam (``prep_helpers.drive_source``).

Every case asserts: no exception escapes (``decode`` raises only ``BadRecord``), every record
read is a written image or a reject with a reason (read = written + rejected, ids unique), ids
and reject lines are clean single-line UTF-8 that Beam's coders and the output files take, a
read count bounded by what the file holds, and nothing hangs (``signal.alarm``, 60 s a case).

The short run (``SHORT_SEEDS`` = 10 seeds per format, about a second) is part of every test
run. The long run (``LSGAN_FUZZ_SEEDS`` seeds per format, default 1,000, about 20 seconds) is
marked ``fuzz``: ``make fuzz`` (``pytest -m fuzz tests/data_prep/test_fuzz.py``) runs it, and so
does any run with ``LSGAN_FUZZ_SEEDS`` set; otherwise it is skipped (``make test`` deselects it:
``-m "not slow and not fuzz"``). A failure names the format and seed; rerun that case alone with
``LSGAN_FUZZ_SEEDS=1 LSGAN_FUZZ_FIRST=<seed> pytest -m fuzz -k <format> tests/data_prep/``.
"""
# bazel: size=medium
from __future__ import annotations

import gzip
import io
import os
import re
import socket

import numpy as np
import pytest
from apache_beam import coders
from apache_beam.transforms.core import Create
from PIL import Image

from data_prep.records import Reject, clean_text
from data_prep.sources import hwdb
from data_prep.testdata import gnt_sample, write_gnt, write_idx, write_lmdb
from data_prep.write import reject_line
from lsgan_tf import example_schema
from helpers import deadline
from prep_helpers import bind_unix, drive_source

SHORT_SEEDS = 10
LONG_SEEDS = int(os.environ.get("LSGAN_FUZZ_SEEDS", "1000"))
LONG_FIRST = int(os.environ.get("LSGAN_FUZZ_FIRST", "1000"))
FORMATS = ("gnt", "idx", "lsun", "folder")
CASE_SECONDS = 60
REASON = re.compile(r"[a-z][a-z_]*")


# --- mutations -----------------------------------------------------------------------------------


def interesting(rng: np.random.Generator, size: int, original: int) -> int:
    """A value for a ``size``-byte field: edges, powers of two, near the original, random."""
    top = (1 << (8 * size)) - 1
    choices = [0, 1, top, top - 1, 1 << (8 * size - 1), original + 1, max(0, original - 1),
               original * 2, int(rng.integers(0, top + 1, dtype=np.uint64))]
    return min(top, choices[int(rng.integers(len(choices)))])


def mutate(data: bytes, rng: np.random.Generator, fields=(), big_endian: bool = False) -> bytes:
    """1 to 3 stacked mutations of ``data``; ``fields`` are ``(offset, size)`` header fields
    that a mutation may overwrite with an interesting value."""
    data = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        kind = int(rng.integers(6 if fields else 5))
        if not data:
            data = bytearray(rng.integers(0, 256, int(rng.integers(1, 32)), dtype=np.uint8))
        if kind == 0:  # bit flips
            for _ in range(int(rng.integers(1, 9))):
                bit = int(rng.integers(len(data) * 8))
                data[bit // 8] ^= 1 << (bit % 8)
        elif kind == 1:  # truncation
            del data[int(rng.integers(len(data))):]
        elif kind == 2:  # random bytes inserted
            at = int(rng.integers(len(data) + 1))
            data[at:at] = rng.integers(0, 256, int(rng.integers(1, 17)), dtype=np.uint8).tobytes()
        elif kind == 3:  # bytes deleted
            at = int(rng.integers(len(data)))
            del data[at:at + int(rng.integers(1, 17))]
        elif kind == 4:  # a random run of bytes overwritten
            at = int(rng.integers(len(data)))
            run = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
            data[at:at + len(run)] = run
        else:  # a header field set to an interesting value
            offset, size = fields[int(rng.integers(len(fields)))]
            if offset + size <= len(data):
                order = "big" if big_endian else "little"
                value = interesting(rng, size, int.from_bytes(data[offset:offset + size], order))
                data[offset:offset + size] = value.to_bytes(size, order)
    return bytes(data)


def random_name(rng: np.random.Generator, suffix: bytes) -> bytes:
    """A file name of random bytes (not UTF-8, control characters...), never ``/`` or NUL and
    never hidden; or a plain one."""
    if rng.random() < 0.5:
        return b"f%d" % int(rng.integers(1 << 30)) + suffix
    raw = bytes(b for b in rng.integers(1, 256, int(rng.integers(1, 12)), dtype=np.uint8)
                if b != ord("/"))
    return b"n" + raw + suffix


def encoded(pixels: np.ndarray, image_format: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=image_format, quality=80)
    return buffer.getvalue()


def image_fields(data: bytes):
    """Header fields of an encoded image: PNG IHDR, JPEG SOF, WebP/BMP/GIF sizes."""
    if data.startswith(b"\x89PNG"):
        return [(16, 4), (20, 4), (24, 1), (25, 1), (8, 4)], True
    if data.startswith(b"\xff\xd8"):
        sof = data.find(b"\xff\xc0")
        return ([(sof + 5, 2), (sof + 7, 2), (sof + 9, 1), (sof + 2, 2)] if sof > 0 else []), True
    if data.startswith(b"RIFF"):
        return [(4, 4), (16, 4), (26, 2), (28, 2)], False
    if data.startswith(b"BM"):
        return [(2, 4), (10, 4), (18, 4), (22, 4), (28, 2), (30, 4)], False
    if data.startswith(b"GIF"):
        return [(6, 2), (8, 2), (10, 1)], False
    return [], False


def base_images(rng: np.random.Generator):
    """Small valid encodings: PNG (grey, RGB, RGBA), JPEG, WebP, BMP, GIF."""
    rgb = rng.integers(0, 256, (9, 13, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (12, 7), dtype=np.uint8)
    rgba = rng.integers(0, 256, (6, 6, 4), dtype=np.uint8)
    return [encoded(rgb, "PNG"), encoded(grey, "PNG"), encoded(rgba, "PNG"),
            encoded(rgb, "JPEG"), encoded(grey, "JPEG"), encoded(rgb, "WEBP"),
            encoded(rgb, "BMP"), encoded(grey, "GIF")]


# --- checks common to every case -----------------------------------------------------------------


def check(driven, kind: str, seed: int, most_read: int) -> None:
    """What every case must hold, beyond ``drive_source``'s own checks."""
    where = f"{kind} seed {seed}"
    assert driven.read <= most_read, f"{where}: {driven.read} records read"
    shard_coder = coders.registry.get_coder(Create(list(driven.plan.shards)).get_output_type())
    for shard in driven.plan.shards:
        shard_coder.encode(shard)  # what beam.Create does with the plan
    for record_id, image in driven.written.items():
        assert clean_text(record_id) == record_id, where
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] in (1, 3), where
        example_schema.serialize_example(image, 0, record_id)
    for record_id, (reason, detail) in driven.rejects.items():
        assert clean_text(record_id) == record_id, where
        assert REASON.fullmatch(reason), f"{where}: reason {reason!r}"
        line = reject_line(Reject(record_id, reason, detail))
        assert len(line.encode("utf-8").splitlines()) == 1 and line.count("\t") == 2, where
    for name in driven.plan.class_names:
        assert clean_text(name) == name and name, where


def drive(kind: str, seed: int, source: str, path, most_read: int, **options):
    with deadline(CASE_SECONDS, f"{kind} seed {seed}"):
        driven = drive_source(source, path, **options)
    check(driven, kind, seed, most_read)
    return driven


# --- one case per format -------------------------------------------------------------------------


def fuzz_gnt(seed: int, folder) -> None:
    rng = np.random.default_rng(seed)
    samples = [("啊", rng.integers(0, 256, (5, 4), dtype=np.uint8)),
               ("A", rng.integers(0, 256, (3, 3), dtype=np.uint8)),
               (b"\xff\xff", rng.integers(0, 256, (2, 2), dtype=np.uint8)),
               ("镕", rng.integers(0, 256, (1, 7), dtype=np.uint8)),
               ("阿", rng.integers(0, 256, (6, 2), dtype=np.uint8))]
    data = b"".join(gnt_sample(tag, pixels) for tag, pixels in samples)
    starts = np.cumsum([0] + [len(gnt_sample(t, p)) for t, p in samples[:-1]]).tolist()
    fields = [(start + offset, size) for start in starts
              for offset, size in ((0, 4), (4, 2), (6, 2), (8, 2))]
    mutated = mutate(data, rng, fields)
    (folder / "gnt").mkdir()
    (folder / "gnt" / os.fsdecode(random_name(rng, b".gnt"))).write_bytes(mutated)
    write_gnt(str(folder / "gnt" / "good.gnt"), samples[:2])
    options = {"image_size": int(rng.integers(1, 12))}
    if rng.random() < 0.3:
        options["charset"] = "gb2312_level1"
    if rng.random() < 0.3:
        options["max_records"] = int(rng.integers(1, 8))
    drive("gnt", seed, "hwdb", folder / "gnt", len(mutated) // hwdb.HEADER.size + 3, **options)


def fuzz_idx(seed: int, folder) -> None:
    rng = np.random.default_rng(seed)
    root = folder / "idx"
    root.mkdir()
    write_idx(str(root / "good-images-idx3-ubyte"), rng.integers(0, 256, (2, 6, 6)))
    write_idx(str(root / "good-labels-idx1-ubyte"), np.array([1, 2]))
    gz = ".gz" if rng.random() < 0.5 else ""
    images_path = root / f"fuzz-images-idx3-ubyte{gz}"
    labels_path = root / f"fuzz-labels-idx1-ubyte{gz}"
    write_idx(str(images_path), rng.integers(0, 256, (5, 6, 6)))
    write_idx(str(labels_path), rng.integers(0, 10, 5))
    target = images_path if rng.random() < 0.8 else labels_path
    fields = ([(0, 4), (4, 4), (8, 4), (12, 4), (2, 1), (3, 1)] if target == images_path
              else [(0, 4), (4, 4), (2, 1), (3, 1)])
    if gz and rng.random() < 0.5:  # the compressed bytes (CRC, deflate stream, gzip header)
        target.write_bytes(mutate(target.read_bytes(), rng))
    else:  # the IDX bytes, then compressed again
        raw = gzip.decompress(target.read_bytes()) if gz else target.read_bytes()
        raw = mutate(raw, rng, fields, big_endian=True)
        target.write_bytes(gzip.compress(raw) if gz else raw)
    # declared images are trusted up to twice what the file holds: 5 images -> at most 10
    driven = drive("idx", seed, "idx", root, 2 + 2 * 5 + 2 * 36, image_size=6)
    assert [i for i in driven.written if i.startswith("good")] == [
        "good-images-idx3-ubyte:0", "good-images-idx3-ubyte:1"], f"idx seed {seed}"


def fuzz_lsun(seed: int, folder) -> None:
    rng = np.random.default_rng(seed)
    bases = base_images(rng)
    values = {}
    for index in range(6):
        base = bases[int(rng.integers(len(bases)))]
        fields, big_endian = image_fields(base)
        value = mutate(base, rng, fields, big_endian) if rng.random() < 0.85 else base
        key = (b"%040x" % index if rng.random() < 0.7 else
               random_name(rng, b"") + b"%d" % index)
        values[key] = value
    path = str(folder / "fuzz_lmdb")
    write_lmdb(path, values)
    drive("lsun", seed, "lsun", path, len(values), image_size=int(rng.integers(1, 12)))


def fuzz_folder(seed: int, folder) -> None:
    rng = np.random.default_rng(seed)
    bases = base_images(rng)
    root = os.fsencode(folder / "images")
    count = 0
    for klass in (b"cat", random_name(rng, b"")):
        os.makedirs(os.path.join(root, klass), exist_ok=True)
        for _ in range(3):
            base = bases[int(rng.integers(len(bases)))]
            fields, big_endian = image_fields(base)
            value = mutate(base, rng, fields, big_endian) if rng.random() < 0.85 else base
            name = os.path.join(root, klass, random_name(rng, b".img"))
            with open(name, "wb") as handle:
                handle.write(value)
            count += 1
    server = None
    if rng.random() < 0.2:  # a special file now and then
        special = os.path.join(root, b"cat", b"special.img")
        if rng.random() < 0.5:
            os.mkfifo(special)
        else:
            server = socket.socket(socket.AF_UNIX)
            bind_unix(server, special)
        count += 1
    try:
        drive("folder", seed, "folder", os.fsdecode(root), count,
              image_size=int(rng.integers(1, 12)), channels=int(rng.choice([1, 3])))
    finally:
        if server is not None:
            server.close()


CASES = {"gnt": fuzz_gnt, "idx": fuzz_idx, "lsun": fuzz_lsun, "folder": fuzz_folder}


@pytest.mark.parametrize("seed", range(SHORT_SEEDS))
@pytest.mark.parametrize("kind", FORMATS)
def test_fuzz_short(kind, seed, tmp_path):
    CASES[kind](seed, tmp_path)


def _long_run_selected(config) -> bool:
    """``-m fuzz`` (a marker expression naming fuzz, not as ``not fuzz``) or LSGAN_FUZZ_SEEDS."""
    if os.environ.get("LSGAN_FUZZ_SEEDS"):
        return True
    return re.search(r"(?<!not )\bfuzz\b", config.getoption("markexpr") or "") is not None


@pytest.mark.fuzz
@pytest.mark.parametrize("kind", FORMATS)
def test_fuzz_long(kind, tmp_path, request):
    if not _long_run_selected(request.config):
        pytest.skip("the long fuzz run: make fuzz (pytest -m fuzz) or LSGAN_FUZZ_SEEDS=N")
    for seed in range(LONG_FIRST, LONG_FIRST + LONG_SEEDS):
        folder = tmp_path / str(seed)
        folder.mkdir()
        try:
            CASES[kind](seed, folder)
        except Exception as error:
            raise AssertionError(f"{kind} seed {seed}: {type(error).__name__}: {error}") from error
