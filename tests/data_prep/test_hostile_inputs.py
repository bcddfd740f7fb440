"""Hostile inputs (issue 13): files that cannot be opened or are not regular files, names that
are not UTF-8 or hold control characters, IDX headers that lie, samples far larger than the
output. Bad input never stops a run and is never silently dropped: read = written + rejected.

Tests that could hang on a regression (a FIFO opened for reading blocks until a writer comes)
run under ``signal.alarm`` (in-process, the source driven in this thread) or in a subprocess
with a timeout, so that a regression fails instead of hanging.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from data_prep import images, records
from data_prep.options import PrepOptions
from data_prep.records import BadRecord, ClassKey, Record
from data_prep.source import InputError
from data_prep.sources import hwdb, idx, lsun
from data_prep.testdata import gnt_sample, lsun_key, write_gnt, write_idx, write_lmdb
from lsgan_tf import example_schema
from helpers import deadline
from prep_helpers import bind_unix, drive_source, read_rejects, solid

MAX_SIDE = 16384  # images.MAX_INPUT_SIDE, the documented maximum input side
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@contextlib.contextmanager
def special_files(folder, suffix: str):
    """A FIFO, a bound UNIX socket, a symbolic link loop and a dangling link in ``folder``,
    named ``fifo<suffix>``, ``sock<suffix>``, ``loop<suffix>``, ``dangling<suffix>``."""
    folder = str(folder)
    os.mkfifo(os.path.join(folder, f"fifo{suffix}"))
    server = socket.socket(socket.AF_UNIX)
    bind_unix(server, os.path.join(folder, f"sock{suffix}"))
    os.symlink(f"loop{suffix}", os.path.join(folder, f"loop{suffix}"))
    os.symlink("no-such-file", os.path.join(folder, f"dangling{suffix}"))
    try:
        yield
    finally:
        server.close()


SPECIAL_REASONS = {"fifo": "not_a_regular_file", "sock": "not_a_regular_file",
                   "loop": "unreadable", "dangling": "unreadable"}


def glyph(height: int, width: int, ink: int = 0) -> np.ndarray:
    return np.full((height, width), ink, np.uint8)


# --- 1 + 2: files that cannot be opened, special files ------------------------------------------


def test_cli_prep_rejects_special_gnt_files_and_keeps_the_good_ones(tmp_path):
    """The probe: before the fix a socket aborted the run (traceback, exit 1, no stats.json),
    a FIFO hung it forever and a symbolic link loop was silently left out."""
    data = tmp_path / "gnt"
    data.mkdir()
    offsets = write_gnt(str(data / "good.gnt"), [("啊", glyph(5, 4)), ("阿", glyph(4, 6))])
    out = tmp_path / "out"
    with special_files(data, ".gnt"):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "prep", "--source=hwdb", f"--input={data}",
             f"--output={out}", "--image_size=8", "--", "--direct_running_mode=in_memory"],
            cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / example_schema.STATS_FILE, encoding="utf-8") as handle:
        stats = json.load(handle)
    assert stats["read"] == 6 and sum(stats["written"].values()) == 2
    assert stats["rejected"] == {"not_a_regular_file": 2, "unreadable": 2}
    assert {i: r for i, r, _ in read_rejects(str(out))} == {
        f"{kind}.gnt": reason for kind, reason in SPECIAL_REASONS.items()}
    assert "rejected  4  (not_a_regular_file 2, unreadable 2)" in done.stdout
    assert example_schema.read_labels(str(out)) == ["啊", "阿"]
    assert offsets == [0, 30]


def test_hwdb_special_files_are_rejects_in_process_and_a_lone_one_is_an_input_error(tmp_path):
    write_gnt(str(tmp_path / "good.gnt"), [("啊", glyph(5, 4))])
    with special_files(tmp_path, ".gnt"), deadline(60):
        for options in ({}, {"max_records": 10}):  # max_records: plan reads the files
            driven = drive_source("hwdb", tmp_path, image_size=4, **options)
            assert list(driven.written) == ["good.gnt:0"]
            assert driven.reasons() == {f"{k}.gnt": r for k, r in SPECIAL_REASONS.items()}
        for kind, reason in SPECIAL_REASONS.items():
            with pytest.raises(InputError, match=f"fifo.gnt|{kind}.gnt"):
                drive_source("hwdb", tmp_path / f"{kind}.gnt")


def test_hwdb_an_oserror_while_reading_a_file_rejects_the_rest_of_it(tmp_path, monkeypatch):
    """A read that fails half-way (EIO, a remote object gone): the samples read stay, the rest
    of the file is one ``unreadable`` reject at the offset where reading stopped."""
    offsets = write_gnt(str(tmp_path / "a.gnt"), [("啊", glyph(3, 3)), ("阿", glyph(3, 3))])
    write_gnt(str(tmp_path / "b.gnt"), [("啊", glyph(2, 2))])
    real_open = hwdb.open_raw

    class Failing:
        def __init__(self, handle):
            self._handle, self._reads = handle, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._handle.close()

        def seek(self, offset):
            return self._handle.seek(offset)

        def read(self, size=-1):
            self._reads += 1
            if self._reads > 2:  # header and pixels of the first sample, then EIO
                raise OSError(5, "Input/output error")
            return self._handle.read(size)

    monkeypatch.setattr(hwdb, "open_raw", lambda path: Failing(real_open(path))
                        if path.endswith("a.gnt") else real_open(path))
    driven = drive_source("hwdb", tmp_path, image_size=4)
    assert sorted(driven.written) == ["a.gnt:0", "b.gnt:0"]
    assert driven.reasons() == {f"a.gnt:{offsets[1]}": "unreadable"}
    assert "Input/output error" in driven.rejects[f"a.gnt:{offsets[1]}"][1]


def test_folder_special_files_are_rejects_without_being_opened(tmp_path):
    root = tmp_path / "pets"
    (root / "cat").mkdir(parents=True)
    Image.fromarray(solid(6, 6, (200, 0, 0))).save(root / "cat" / "ok.png")
    (root / "dog").mkdir()
    Image.fromarray(solid(6, 6, (0, 0, 200))).save(root / "dog" / "ok.png")
    with special_files(root / "cat", ".png"), deadline(60):
        driven = drive_source("folder", root, image_size=4)
    assert driven.plan.class_names == ("cat", "dog")
    assert sorted(driven.written) == ["cat/ok.png", "dog/ok.png"]
    assert driven.reasons() == {f"cat/{k}.png": r for k, r in SPECIAL_REASONS.items()}


def test_idx_special_or_unreadable_files_are_rejects_beside_good_ones(tmp_path):
    write_idx(str(tmp_path / "good-images-idx3-ubyte"), np.zeros((3, 4, 4), np.uint8))
    # an images file whose labels file is a FIFO: one reject for the images file
    write_idx(str(tmp_path / "pair-images-idx3-ubyte"), np.zeros((2, 4, 4), np.uint8))
    os.mkfifo(tmp_path / "pair-labels-idx1-ubyte")
    with special_files(tmp_path, "-images-idx3-ubyte"), deadline(60):
        driven = drive_source("idx", tmp_path, image_size=4)
    assert sorted(driven.written) == [f"good-images-idx3-ubyte:{i}" for i in range(3)]
    expected = {f"{k}-images-idx3-ubyte": r for k, r in SPECIAL_REASONS.items()}
    expected["pair-images-idx3-ubyte"] = "bad_labels"
    assert driven.reasons() == expected
    assert "pair-labels-idx1-ubyte" in driven.rejects["pair-images-idx3-ubyte"][1]


def test_lsun_an_error_while_reading_the_lmdb_is_a_reject(tmp_path, monkeypatch):
    path = str(tmp_path / "x_lmdb")
    png = Image.new("RGB", (4, 4))
    import io
    buffer = io.BytesIO()
    png.save(buffer, format="PNG")
    keys = sorted(lsun_key(i) for i in range(3))
    write_lmdb(path, {key: buffer.getvalue() for key in keys})
    source = lsun.LsunSource(path, PrepOptions(image_size=4))
    plan = source.plan()
    source.setup()

    class Cursor:
        def __init__(self, real):
            self._real, self._moves = real, 0

        def __getattr__(self, name):
            return getattr(self._real, name)

        def next(self):
            self._moves += 1
            if self._moves == 2:
                raise lsun.lmdb.CorruptedError("mdb_cursor_get: MDB_CORRUPTED")
            return self._real.next()

    class Txn:
        def __init__(self, real):
            self._real = real

        def __enter__(self):
            self._real.__enter__()
            return self

        def __exit__(self, *exc):
            return self._real.__exit__(*exc)

        def cursor(self):
            return Cursor(self._real.cursor())

    class Env:
        def __init__(self, real):
            self._real = real

        def begin(self):
            return Txn(self._real.begin())

    monkeypatch.setattr(source, "_env", Env(source._env))
    items = [item for shard in plan.shards for item in source.read(shard)]
    assert [type(item).__name__ for item in items] == ["Record", "Record", "Reject"]
    assert items[2].reason == "unreadable" and "MDB_CORRUPTED" in items[2].detail
    assert items[2].id == f"{keys[1]}.."


# --- 3 + 9: names that are not UTF-8 or hold control characters -------------------------------


def fs_path(*parts: bytes) -> str:
    return os.fsdecode(os.path.join(*parts))


def test_escape_name_is_reversible_single_line_printable_utf8():
    cases = [b"plain/cat.png", b"caf\xe9", b"x\xff\xfe.png", b"a\nb", b"tab\there", b"back\\slash",
             "caf\u00e9 \u2028 \u0085 \u00a0".encode(), b"\\xff", b"\x7f\x00", b"\xed\xa0\x80"]
    escaped = [records.escape_name(case) for case in cases]
    assert len(set(escaped)) == len(cases)  # "\\xff" (4 characters) and b"\xff" differ
    for case, text in zip(cases, escaped):
        assert records.unescape_name(text) == case
        assert text.encode("utf-8").decode("utf-8") == text
        assert len(text.splitlines()) == 1 and "\t" not in text
    assert records.escape_name(b"a\nb") == "a\\u000ab"
    assert records.escape_name(b"caf\xe9") == "caf\\xe9"
    assert records.escape_name("caf\u00e9/x.png") == "caf\u00e9/x.png"  # valid UTF-8 kept as is
    assert records.escape_name(os.fsdecode(b"x\xff")) == "x\\xff"  # a surrogate-escaped str


def test_folder_names_not_utf8_or_with_control_characters_are_escaped(prepare, tmp_path):
    """Before the fix: UnicodeEncodeError (non-UTF-8 names) while the pipeline was built, and
    a class folder ``a<newline>b`` made labels.txt 3 lines for 2 classes."""
    root = os.fsencode(tmp_path / "pets")
    for folder in (b"caf\xe9", b"a\nb"):
        os.makedirs(os.path.join(root, folder))
        Image.fromarray(solid(6, 6, (9, 9, 9))).save(fs_path(root, folder, b"x\xff.png"),
                                                     format="PNG")
        with open(fs_path(root, folder, b"not\timage.txt"), "wb") as handle:
            handle.write(b"text")

    out = prepare("folder", os.fsdecode(root), image_size=4)

    assert out.labels == ["a\\u000ab", "caf\\xe9"]
    with open(os.path.join(out.dir, example_schema.LABELS_FILE), "rb") as handle:
        assert handle.read() == b"a\\u000ab\ncaf\\xe9\n"
    assert {i: e["label"] for i, e in out.examples.items()} == {
        "a\\u000ab/x\\xff.png": 0, "caf\\xe9/x\\xff.png": 1}
    assert out.reject_reasons() == {"a\\u000ab/not\\u0009image.txt": "not_an_image",
                                    "caf\\xe9/not\\u0009image.txt": "not_an_image"}
    assert out.stats["read"] == 4 and out.stats["classes"] == 2
    for record_id in out.examples:
        assert os.path.exists(os.path.join(root, records.unescape_name(record_id)))


def test_hwdb_idx_lsun_ids_from_names_that_are_not_utf8(tmp_path):
    gnt_dir = tmp_path / "gnt"
    gnt_dir.mkdir()
    write_gnt(fs_path(os.fsencode(gnt_dir), b"w\xe9\n1.gnt"), [("啊", glyph(3, 3))])
    assert list(drive_source("hwdb", gnt_dir, image_size=4).written) == ["w\\xe9\\u000a1.gnt:0"]

    idx_dir = tmp_path / "idx"
    idx_dir.mkdir()
    write_idx(fs_path(os.fsencode(idx_dir), b"\xff-images-idx3-ubyte"),
              np.zeros((1, 4, 4), np.uint8))
    assert list(drive_source("idx", idx_dir, image_size=4).written) == [
        "\\xff-images-idx3-ubyte:0"]

    path = str(tmp_path / "keys_lmdb")
    write_lmdb(path, {b"\xff\\xff": b"", b"\\xff": b"", b"a\nb": b""})
    assert sorted(drive_source("lsun", path).reasons()) == ["\\\\xff", "\\xff\\\\xff", "a\\u000ab"]


def test_pipeline_cleans_ids_and_class_names_a_plugin_leaves_raw(prepare, tmp_path, monkeypatch):
    """The steps never crash on a third-party source's raw ids or class names: they are made
    single-line UTF-8 (control characters and surrogates escaped) before they are written."""
    from data_prep.source import Plan, Source
    from data_prep.sources import SOURCES

    class Raw(Source):
        default_image_size = 2
        default_channels = 1
        needs_input = False

        def plan(self):
            return Plan(shards=(0,), class_names=("one\ntwo", os.fsdecode(b"\xff")))

        def read(self, shard):
            yield Record(os.fsdecode(b"bad\xff\nid"), np.zeros((2, 2), np.uint8), 0)
            yield from ()

        def decode(self, record):
            return record.payload[:, :, None]

    SOURCES.names()  # loads the built-in sources first
    monkeypatch.setitem(SOURCES._entries, "raw_names", Raw)
    out = prepare("raw_names")
    assert out.labels == ["one\\u000atwo", "\\xff"]
    assert list(out.examples) == ["bad\\xff\\u000aid"]


# --- 5: IDX headers are checked against the file before anything is planned ------------------


def idx_bytes(dims, payload: bytes, magic_type: int = 0x08) -> bytes:
    return struct.pack(">BBBB", 0, 0, magic_type, len(dims)) + struct.pack(
        f">{len(dims)}I", *dims) + payload


@pytest.mark.parametrize("gzipped", [False, True])
def test_idx_header_claiming_4g_images_is_one_bad_header_reject(tmp_path, gzipped):
    """800 bytes claiming 4,294,967,295 images used to plan 2 million shards and run for hours
    producing rejects."""
    data = idx_bytes((0xFFFFFFFF, 28, 28), bytes(784))
    assert len(data) == 800
    name = "huge-images-idx3-ubyte" + (".gz" if gzipped else "")
    (tmp_path / name).write_bytes(gzip.compress(data) if gzipped else data)
    write_idx(str(tmp_path / "good-images-idx3-ubyte"), np.zeros((2, 4, 4), np.uint8))
    started = time.monotonic()
    with deadline(60):
        driven = drive_source("idx", tmp_path, image_size=4)
    assert time.monotonic() - started < 10
    assert len(driven.plan.shards) == 2
    assert driven.reasons() == {name: "bad_header"}
    assert "4,294,967,295 images of 28 x 28" in driven.rejects[name][1]
    assert sorted(driven.written) == ["good-images-idx3-ubyte:0", "good-images-idx3-ubyte:1"]
    with pytest.raises(InputError, match="4,294,967,295 images of 28 x 28"):
        idx.IdxSource(str(tmp_path / name), PrepOptions()).plan()


@pytest.mark.parametrize("dims", [(3, 0, 28), (3, 28, 0), (3, 0, 0)])
def test_idx_zero_rows_or_cols_is_bad_header_not_zero_division(tmp_path, dims):
    (tmp_path / "zero-images-idx3-ubyte").write_bytes(idx_bytes(dims, b""))
    write_idx(str(tmp_path / "good-images-idx3-ubyte"), np.zeros((1, 4, 4), np.uint8))
    with deadline(60):
        driven = drive_source("idx", tmp_path, image_size=4)
    assert driven.reasons() == {"zero-images-idx3-ubyte": "bad_header"}
    assert list(driven.written) == ["good-images-idx3-ubyte:0"]


def test_idx_not_idx_or_wrong_labels_beside_a_good_file_are_rejects(tmp_path):
    write_idx(str(tmp_path / "good-images-idx3-ubyte"), np.zeros((1, 4, 4), np.uint8))
    (tmp_path / "text-images-idx3-ubyte").write_bytes(b"hello, this is not IDX")
    (tmp_path / "labels-images-idx3-ubyte").write_bytes(idx_bytes((2,), b"\0\0", 0x08)[:-2])
    write_idx(str(tmp_path / "x-images-idx3-ubyte"), np.zeros((3, 4, 4), np.uint8))
    write_idx(str(tmp_path / "x-labels-idx1-ubyte"), np.array([1, 2]))
    write_idx(str(tmp_path / "cut-images-idx3-ubyte.gz"), np.zeros((3, 4, 4), np.uint8))
    (tmp_path / "cut-images-idx3-ubyte.gz").write_bytes(
        (tmp_path / "cut-images-idx3-ubyte.gz").read_bytes()[:12])
    driven = drive_source("idx", tmp_path, image_size=4)
    assert driven.reasons() == {"text-images-idx3-ubyte": "bad_header",
                                "labels-images-idx3-ubyte": "bad_header",
                                "x-images-idx3-ubyte": "bad_labels",
                                "cut-images-idx3-ubyte.gz": "bad_header"}
    assert "expected 3 labels" in driven.rejects["x-images-idx3-ubyte"][1]


def test_idx_truncated_file_holding_at_least_half_gives_truncated_rejects(tmp_path):
    path = tmp_path / "t-images-idx3-ubyte"
    write_idx(str(path), np.zeros((4, 2, 2), np.uint8))
    path.write_bytes(path.read_bytes()[:16 + 2 * 4 + 3])  # 2 of 4 images and a bit
    driven = drive_source("idx", path, image_size=2)
    assert sorted(driven.written) == ["t-images-idx3-ubyte:0", "t-images-idx3-ubyte:1"]
    assert driven.reasons() == {"t-images-idx3-ubyte:2": "truncated",
                                "t-images-idx3-ubyte:3": "truncated"}
    path.write_bytes(path.read_bytes()[:16 + 4 + 3])  # 1 of 4: the header is not trusted
    with pytest.raises(InputError, match="4 images of 2 x 2.*holds 1 complete"):
        drive_source("idx", path, image_size=2)


# --- 6: memory per record is bounded by the output size ---------------------------------------


def old_pad_to_square(image: Image.Image, size: int, fill: int = 255) -> Image.Image:
    """pad_to_square before issue 13: the whole padded square, then one resize."""
    width, height = image.size
    side = max(width, height)
    if width != height:
        fill_value = fill if image.mode == "L" else (fill,) * len(image.getbands())
        square = Image.new(image.mode, (side, side), fill_value)
        square.paste(image, ((side - width) // 2, (side - height) // 2))
        image = square
    return image if side == size else image.resize((size, size), images.RESAMPLE)


def test_pad_to_square_equals_padding_then_resizing_pixel_for_pixel():
    """Tolerance 0: the separable passes run over the same rows and columns as on the padded
    square, so the result is identical (checked on random shapes, both orientations, L/RGB)."""
    rng = np.random.default_rng(13)
    shapes = [(int(rng.integers(1, 200)), int(rng.integers(1, 200))) for _ in range(150)]
    shapes += [(4000, 7), (7, 4000), (1, 3000), (3000, 1), (64, 64), (10, 20), (20, 10)]
    for index, (height, width) in enumerate(shapes):
        size = int(rng.integers(1, 48)) if index % 5 else 28
        shape = (height, width) if index % 3 else (height, width, 3)
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        if index % 2:
            pixels = (pixels > 127).astype(np.uint8) * 255  # glyph-like: ink on white
        image = Image.fromarray(pixels)
        np.testing.assert_array_equal(np.asarray(images.pad_to_square(image, size)),
                                      np.asarray(old_pad_to_square(image, size)),
                                      err_msg=f"{width} x {height} -> {size}")


def test_pad_to_square_refuses_a_side_above_the_maximum():
    assert images.MAX_INPUT_SIDE == MAX_SIDE
    with pytest.raises(BadRecord, match="too_large"):
        images.pad_to_square(Image.new("L", (MAX_SIDE + 1, 1)), 28)


MEASURE = r"""
import resource, sys
from data_prep.options import PrepOptions
from data_prep.records import BadRecord, Record
from data_prep.sources import hwdb

def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

source = hwdb.HwdbSource("unused", PrepOptions(image_size=28))
source.decode(Record("warm:0", (3, 2, bytes(6)), None))  # imports, allocator warm-up
_, hard = resource.getrlimit(resource.RLIMIT_AS)
for case in sys.argv[1:]:
    width, height = map(int, case.split("x"))
    pixels = bytes(width * height)
    # Address space capped 1 GiB above the current one: an unbounded canvas (4 GiB for
    # 65535 x 65535) fails with MemoryError here instead of eating the machine's memory.
    limit = (status_kib("VmSize") + (1 << 20)) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # resets the peak resident size (VmHWM) to the current one
    before = status_kib("VmRSS")
    try:
        image = source.decode(Record("x.gnt:0", (width, height, pixels), None))
        outcome = "shape %s" % (image.shape,)
    except BadRecord as error:
        outcome = "reject " + error.reason
    except MemoryError:
        outcome = "MemoryError"
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    print(case, outcome, (status_kib("VmHWM") - before) // 1024, sep="|")
"""


def test_a_long_thin_sample_is_decoded_in_bounded_memory():
    """One 65 KB .gnt sample of 65535 x 1 used to take 4.4 GB (the padded square); at the
    maximum side (16384) the square would be 256 MiB. The peak memory growth of a decode is
    measured in a fresh process: the peak resident size (VmHWM, reset through
    /proc/self/clear_refs just before) less the resident size then; Pillow's buffers are
    invisible to tracemalloc. Measured here: 0 to 7 MiB, against 255 MiB (16384 x 1 and
    1 x 16384) and MemoryError under a 1 GiB cap (65535 x 1) before."""
    expected = {f"{MAX_SIDE}x1": "shape (28, 28, 1)", f"1x{MAX_SIDE}": "shape (28, 28, 1)",
                "65535x1": "reject too_large", "3000x2999": "shape (28, 28, 1)"}
    done = subprocess.run([sys.executable, "-c", MEASURE, *expected], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line.split("|") for line in done.stdout.splitlines() if line.count("|") == 2]
    assert {case: outcome for case, outcome, _ in lines} == expected
    for case, _, grown_mib in lines:
        limit = 48 if case == "3000x2999" else 16  # the 9 MB input itself: resized, not padded
        assert int(grown_mib) < limit, f"{case}: peak memory grew by {grown_mib} MiB"


def test_hwdb_a_sample_above_the_maximum_side_is_rejected_without_reading_it(tmp_path):
    big = MAX_SIDE + 1
    header = hwdb.HEADER.pack(hwdb.HEADER.size + big * 2, b"\xb0\xa1", big, 2)
    path = tmp_path / "big.gnt"
    path.write_bytes(header + bytes(big * 2) + gnt_sample("阿", glyph(2, 2)))
    source = hwdb.HwdbSource(str(path), PrepOptions())
    plan = source.plan()
    items = [item for shard in plan.shards for item in source.read(shard)]
    assert [(item.id, getattr(item, "reason", None)) for item in items] == [
        ("big.gnt:0", "too_large"), (f"big.gnt:{len(header) + big * 2}", None)]
    assert isinstance(items[1].label, ClassKey)


def test_an_encoded_image_above_the_maximum_side_is_too_large_before_decoding():
    """A PNG header claiming 20000 x 1 (a few bytes of data) is refused from its header."""
    import io
    buffer = io.BytesIO()
    Image.new("L", (MAX_SIDE + 1, 1)).save(buffer, format="PNG")
    with pytest.raises(BadRecord, match="too_large"):
        images.open_encoded(buffer.getvalue(), ("PNG",))
    buffer = io.BytesIO()
    Image.new("L", (MAX_SIDE, 1)).save(buffer, format="PNG")
    assert images.open_encoded(buffer.getvalue(), ("PNG",)).size == (MAX_SIDE, 1)


EPS = (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 4 4\n%%EndComments\n"
       b"newpath 0 0 moveto 4 4 lineto stroke showpage\n%%EOF\n")


def test_pillow_tries_only_the_formats_a_source_expects(tmp_path):
    """An EPS file in a folder source is ``not_an_image``: Pillow's EPS plugin (which would run
    Ghostscript on it) is never tried, though Pillow alone recognises the file."""
    import io
    assert Image.open(io.BytesIO(EPS)).format == "EPS"
    with pytest.raises(BadRecord, match="not_an_image"):
        images.open_encoded(EPS, images.FOLDER_FORMATS)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "drawing.eps").write_bytes(EPS)
    Image.new("RGB", (8, 8), (9, 9, 9)).save(tmp_path / "in" / "photo.bmp")
    driven = drive_source("folder", str(tmp_path / "in"), image_size=8)
    assert {key: reason for key, (reason, _) in driven.rejects.items()} == {
        "drawing.eps": "not_an_image"}
    assert list(driven.written) == ["photo.bmp"]


# --- remote inputs: an object store through Beam's FileSystems --------------------------------


@pytest.fixture
def memory_store():
    """A Beam file system ``lsganmem://`` holding ``objects`` {path: bytes}; opening a path in
    ``failing`` raises ``BeamIOError`` (a remote read that fails: an ``OSError``)."""
    import io
    import posixpath

    from apache_beam.io.filesystem import BeamIOError, FileMetadata, FileSystem

    class MemoryFileSystem(FileSystem):
        objects, failing = {}, set()

        @classmethod
        def scheme(cls):
            return "lsganmem"

        def join(self, basepath, *paths):
            return posixpath.join(basepath, *paths)

        def split(self, path):
            return posixpath.split(path)

        def has_dirs(self):
            return False

        def _list(self, prefix):
            for path, data in sorted(self.objects.items()):
                if path.startswith(prefix):
                    yield FileMetadata(path, len(data), 0.0)

        def exists(self, path):
            return path in self.objects

        def metadata(self, path):
            return FileMetadata(path, len(self.objects[path]), 0.0)

        def size(self, path):
            return len(self.objects[path])

        def open(self, path, mime_type="application/octet-stream", compression_type=None):
            if path in self.failing or path not in self.objects:
                raise BeamIOError("Open operation failed", {path: IOError("503 from the store")})
            return io.BytesIO(self.objects[path])

        def _read_only(self, *args, **kwargs):
            raise BeamIOError("the test's input store is read-only (data_prep only lists and "
                              "reads inputs)", {})

        create = copy = rename = delete = mkdirs = last_updated = checksum = _read_only

    MemoryFileSystem.objects.clear()
    MemoryFileSystem.failing.clear()
    yield MemoryFileSystem
    MemoryFileSystem.objects.clear()


def test_remote_inputs_listed_and_read_through_beam_a_failed_open_is_a_reject(memory_store):
    import io

    store = memory_store.objects
    store["lsganmem://b/gnt/w1/a.gnt"] = gnt_sample("啊", glyph(3, 3))
    store["lsganmem://b/gnt/w2/b.gnt"] = gnt_sample("阿", glyph(3, 3))
    store["lsganmem://b/gnt/notes.txt"] = b"not a .gnt"
    png = io.BytesIO()
    Image.new("RGB", (5, 5)).save(png, format="PNG")
    store["lsganmem://b/pets/cat/x.png"] = png.getvalue()
    store["lsganmem://b/pets/dog/y.png"] = png.getvalue()
    store["lsganmem://b/idx/x-images-idx3-ubyte"] = idx_bytes((1, 4, 4), bytes(16))
    store["lsganmem://b/idx/y-images-idx3-ubyte"] = idx_bytes((1, 4, 4), bytes(16))
    memory_store.failing |= {"lsganmem://b/gnt/w2/b.gnt", "lsganmem://b/pets/dog/y.png",
                             "lsganmem://b/idx/y-images-idx3-ubyte"}

    driven = drive_source("hwdb", "lsganmem://b/gnt", image_size=4)
    assert list(driven.written) == ["w1/a.gnt:0"]
    assert driven.reasons() == {"w2/b.gnt": "unreadable"}
    assert "503 from the store" in driven.rejects["w2/b.gnt"][1]
    driven = drive_source("folder", "lsganmem://b/pets", image_size=4)
    assert driven.plan.class_names == ("cat", "dog")
    assert (list(driven.written), driven.reasons()) == (["cat/x.png"], {"dog/y.png": "unreadable"})
    driven = drive_source("idx", "lsganmem://b/idx", image_size=4)
    assert list(driven.written) == ["x-images-idx3-ubyte:0"]
    assert driven.reasons() == {"y-images-idx3-ubyte": "unreadable"}


def test_folders_that_cannot_be_entered_are_rejects_not_silently_skipped(tmp_path, monkeypatch):
    """A folder that cannot be listed (permissions: simulated, the tests may run as root) and
    a symbolic link to a folder (not followed, as in Beam's local listing) used to vanish from
    the listing; their files might be wanted, so each is one reject naming the folder."""
    root = tmp_path / "pets"
    for folder in ("cat", "dog/private", "elsewhere"):
        (root / folder).mkdir(parents=True)
    for path in ("cat/x.png", "dog/y.png", "dog/private/z.png", "elsewhere/w.png"):
        Image.new("RGB", (4, 4)).save(root / path)
    os.symlink(root / "elsewhere", root / "cat" / "more")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    driven = drive_source("folder", root, image_size=4)
    assert driven.plan.class_names == ("cat", "dog", "elsewhere")
    assert sorted(driven.written) == ["cat/x.png", "dog/y.png", "elsewhere/w.png"]
    assert driven.reasons() == {"cat/more": "not_a_regular_file", "dog/private": "unreadable"}
    assert "cannot list the folder" in driven.rejects["dog/private"][1]

    gnt = tmp_path / "gnt"
    (gnt / "w1").mkdir(parents=True)
    (gnt / "elsewhere").mkdir()
    write_gnt(str(gnt / "w1" / "a.gnt"), [("啊", glyph(2, 2))])
    write_gnt(str(gnt / "top.gnt"), [("啊", glyph(2, 2))])
    os.symlink(gnt / "elsewhere", gnt / "w2")
    for pattern, expected in (("*/*.gnt", {"w2": "not_a_regular_file"}),
                              ("**/*.gnt", {"w2": "not_a_regular_file"}), ("*.gnt", {})):
        assert drive_source("hwdb", f"{gnt}/{pattern}").reasons() == expected, pattern
    assert drive_source("hwdb", gnt).reasons() == {"w2": "not_a_regular_file"}


# --- issue 24, class 5: symbolic links, deep trees, many tiny files, archives -----------------


def png_bytes(color=(9, 9, 9), side: int = 6) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(solid(side, side, color)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_symbolic_links_out_of_the_input_are_counted_rejects_never_read(prepare, tmp_path):
    """Before: a link to a file outside ``--input`` was read (the outside image became a
    training record), a link to an outside folder was a ``not_a_regular_file`` reject like
    one inside. Now both are ``symlink_outside_input`` rejects in stats.json, never opened:
    an outside FIFO behind a link would otherwise block the read."""
    outside = tmp_path / "elsewhere"
    (outside / "more").mkdir(parents=True)
    (outside / "secret.png").write_bytes(png_bytes((200, 0, 0)))
    (outside / "more" / "x.png").write_bytes(png_bytes())
    os.mkfifo(outside / "pipe")
    root = tmp_path / "pets"
    (root / "cat").mkdir(parents=True)
    (root / "cat" / "a.png").write_bytes(png_bytes())
    os.symlink(outside / "secret.png", root / "cat" / "secret.png")  # absolute
    os.symlink("../../elsewhere/secret.png", root / "cat" / "up.png")  # relative, via ..
    os.symlink(outside / "pipe", root / "cat" / "pipe.png")
    os.symlink(outside / "gone.png", root / "cat" / "gone.png")  # dangling, outside
    os.symlink(outside / "more", root / "dog")  # a class folder outside
    os.symlink("/", root / "cat" / "everything")
    with deadline(120):
        out = prepare("folder", root, image_size=4)
    assert list(out.examples) == ["cat/a.png"]
    outside_links = ("cat/everything", "cat/gone.png", "cat/pipe.png", "cat/secret.png",
                     "cat/up.png", "dog")
    assert out.reject_reasons() == {name: "symlink_outside_input" for name in outside_links}
    assert out.stats["rejected"] == {"symlink_outside_input": 6} and out.stats["read"] == 7
    details = {record_id: detail for record_id, _, detail in out.rejects}
    assert details["cat/secret.png"] == (
        f"a symbolic link to {outside / 'secret.png'}, outside the input: not read (copy what "
        "it leads to into the input to use it)")

    gnt = tmp_path / "gnt"
    gnt.mkdir()
    write_gnt(str(gnt / "a.gnt"), [("啊", glyph(2, 2))])
    write_gnt(str(outside / "b.gnt"), [("阿", glyph(2, 2))])
    os.symlink(outside / "b.gnt", gnt / "b.gnt")
    os.symlink(outside, gnt / "w2")
    for input_path in (gnt, f"{gnt}/*.gnt", f"{gnt}/**/*.gnt"):
        driven = drive_source("hwdb", input_path, image_size=4)
        assert list(driven.written) == ["a.gnt:0"], input_path
        expected = {"b.gnt": "symlink_outside_input"}
        if "*" not in str(input_path) or "**" in str(input_path):
            expected["w2"] = "symlink_outside_input"  # a folder the glob could enter
        assert driven.reasons() == expected, input_path

    idx_dir = tmp_path / "idx"
    idx_dir.mkdir()
    write_idx(str(idx_dir / "x-images-idx3-ubyte"), np.zeros((2, 4, 4), np.uint8))
    write_idx(str(outside / "x-labels-idx1-ubyte"), np.array([1, 2]))
    os.symlink(outside / "x-labels-idx1-ubyte", idx_dir / "x-labels-idx1-ubyte")
    write_idx(str(idx_dir / "y-images-idx3-ubyte"), np.zeros((1, 4, 4), np.uint8))
    driven = drive_source("idx", idx_dir, image_size=4)
    assert list(driven.written) == ["y-images-idx3-ubyte:0"]
    assert driven.reasons() == {"x-images-idx3-ubyte": "bad_labels"}
    assert "outside the input: not read (symlink_outside_input)" in \
        driven.rejects["x-images-idx3-ubyte"][1]


def test_symbolic_links_inside_the_input_read_each_file_once_and_never_loop(tmp_path):
    """A link to a file inside the input that is read anyway is a ``duplicate_link`` reject
    (before: the file was read twice, under two ids); one to a file read through no other name
    (in a hidden folder) is read, once however many links lead to it; a link to a folder of
    the input is not followed (its files are listed where they are), so a link to a parent
    folder loops nowhere; a link to itself is ``unreadable``."""
    root = tmp_path / "pets"
    for folder in ("cat", "dog", ".pool"):
        (root / folder).mkdir(parents=True)
    (root / "cat" / "a.png").write_bytes(png_bytes((1, 1, 1)))
    (root / ".pool" / "p.png").write_bytes(png_bytes((2, 2, 2)))
    os.symlink("a.png", root / "cat" / "alias.png")
    os.symlink(root / "cat" / "a.png", root / "dog" / "also-a.png")
    os.symlink("../.pool/p.png", root / "cat" / "p.png")
    os.symlink("../.pool/p.png", root / "dog" / "p.png")
    os.symlink("cat", root / "kitty")
    os.symlink("..", root / "cat" / "up")
    os.symlink("self.png", root / "cat" / "self.png")
    with deadline(60):
        driven = drive_source("folder", root, image_size=4)
    assert driven.plan.class_names == ("cat", "dog")
    assert sorted(driven.written) == ["cat/a.png", "cat/p.png"]
    assert driven.reasons() == {"cat/alias.png": "duplicate_link", "dog/also-a.png":
                                "duplicate_link", "dog/p.png": "duplicate_link",
                                "kitty": "not_a_regular_file", "cat/up": "not_a_regular_file",
                                "cat/self.png": "unreadable"}
    assert driven.rejects["dog/p.png"][1] == (
        "a symbolic link to the same file as cat/p.png, which is read (each file once)")
    assert "link to the folder cat of the input" in driven.rejects["kitty"][1]

    gnt = tmp_path / "gnt"
    (gnt / "w1").mkdir(parents=True)
    (gnt / "raw").mkdir()
    write_gnt(str(gnt / "w1" / "a.gnt"), [("啊", glyph(2, 2))])
    write_gnt(str(gnt / "raw" / "b.dat"), [("阿", glyph(2, 2))])  # not a .gnt name
    os.symlink("../w1/a.gnt", gnt / "raw" / "a-again.gnt")
    os.symlink("../raw/b.dat", gnt / "w1" / "b.gnt")
    driven = drive_source("hwdb", gnt, image_size=4)
    assert sorted(driven.written) == ["w1/a.gnt:0", "w1/b.gnt:0"]
    assert driven.reasons() == {"raw/a-again.gnt": "duplicate_link"}


def make_deep_tree(root, levels: int, files) -> None:
    """Folders ``d/d/d...`` ``levels`` deep below ``root``, and ``files`` {level: (name,
    bytes)}, made by relative ``chdir`` steps (paths beyond PATH_MAX cannot be named whole)."""
    here = os.getcwd()
    os.chdir(root)
    try:
        for level in range(1, levels + 1):
            os.mkdir("d")
            os.chdir("d")
            if level in files:
                name, data = files[level]
                with open(name, "wb") as handle:
                    handle.write(data)
    finally:
        os.chdir(here)


def remove_deep_tree(root) -> None:
    """Deletes a ``make_deep_tree`` tree bottom up without recursion (``shutil.rmtree``
    recurses per level and names paths beyond PATH_MAX)."""
    here = os.getcwd()
    os.chdir(root)
    try:
        depth = 0
        while os.path.isdir("d"):
            os.chdir("d")
            depth += 1
        for _ in range(depth):
            for name in os.listdir("."):
                os.remove(name)
            os.chdir("..")
            os.rmdir("d")
    finally:
        os.chdir(here)


def test_a_folder_tree_of_any_depth_loses_no_image(prepare, tmp_path):
    """Before: a tree deeper than Python's recursion limit (1,000 levels; one-letter folder
    names give a 3,000-byte path, within PATH_MAX) ended the listing with RecursionError, and
    the run with a traceback. Now every image at every depth is read; below the depth whose
    path the system no longer takes (PATH_MAX, 4,096 bytes) the first folder it refuses is
    one ``path_too_long`` reject (nothing below it can be opened by its path)."""
    root = tmp_path / "deep"
    (root / "cls").mkdir(parents=True)
    room = (4000 - len(os.fsencode(root / "cls"))) // 2  # levels within PATH_MAX
    assert room > 1200, "the temporary folder's path is too long for this test"
    levels = [1, 500, 1001, 1200, room]
    files = {level: (f"at{level}.png", png_bytes((level % 256, 0, 0))) for level in levels}
    files[room + 100] = ("lost.png", png_bytes())  # beyond PATH_MAX
    make_deep_tree(root / "cls", room + 120, files)
    try:
        out = prepare("folder", root, image_size=4)
        written = {record_id.rsplit("/", 1)[1]: record_id.count("/d")
                   for record_id in out.examples}
        assert written == {f"at{level}.png": level for level in levels}
        assert out.stats["rejected"] == {"path_too_long": 1}
        ((record_id, reason, detail),) = out.rejects
        assert len(os.fsencode(root / record_id)) >= 4095 and record_id.startswith("cls/d/d/")
        assert "more than the system takes (nothing below it is read)" in detail

        gnt = tmp_path / "gnt"
        gnt.mkdir()
        write_gnt(str(gnt / "top.gnt"), [("阿", glyph(2, 2))])
        make_deep_tree(gnt, 1300, {1300: ("deep.gnt", gnt_sample("啊", glyph(2, 2)))})
        try:
            assert sorted(drive_source("hwdb", gnt).written) == [
                "d/" * 1300 + "deep.gnt:0", "top.gnt:0"]
        finally:
            remove_deep_tree(gnt)
    finally:
        remove_deep_tree(root / "cls")


MANY_FILES = int(os.environ.get("LSGAN_MANY_FILES", "20000"))

RUN_MEASURED = r"""
import resource, subprocess, sys, time
start = time.monotonic()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(done.returncode, time.monotonic() - start,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, sep="|")
sys.stderr.write(done.stderr[-3000:])
"""


@pytest.mark.parametrize("source", ["folder", "hwdb"])
def test_many_tiny_or_empty_files_are_each_counted_in_bounded_time_and_memory(source, tmp_path):
    """``MANY_FILES`` files (``LSGAN_MANY_FILES``, default 20,000) in 10 folders, half empty,
    half a few bytes that are no image (no sample): ``lsgan prep`` counts each, as ``empty``
    or as the reason of its bytes. Before: an empty ``.gnt`` gave nothing at all (read 10,000
    of 20,000, silently). Measured here (``lsgan prep`` alone on 2 cores), wall time and peak
    resident size: 20,000 files: folder 8.4 s, 275 MB; hwdb 18.5 s, 285 MB; 100,000 files:
    folder 36 s, 389 MB; hwdb 34 s, 482 MB. Bounds: 30 s + 3 ms a file, 600 MB + 5 KB a file
    (the peak resident size of the whole ``lsgan prep`` process). At 100,000 files Beam's
    multi_threading DirectRunner (``lsgan prep``'s default) lost 16 to 1,250 of the records
    after the read step had counted them, in 4 of 12 runs (none in 10 runs at 20,000, none
    with ``--direct_running_mode=in_memory``): this test then fails on ``read``."""
    data = tmp_path / "in"
    suffix = ".png" if source == "folder" else ".gnt"
    for folder in range(10):
        (data / f"c{folder}").mkdir(parents=True)
    for index in range(MANY_FILES):
        with open(data / f"c{index % 10}" / f"f{index:06d}{suffix}", "wb") as handle:
            handle.write(b"x%d" % index if index % 2 else b"")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", RUN_MEASURED, sys.executable, "-m", "pipeline.cli", "prep",
         f"--source={source}", f"--input={data}", f"--output={out}"],
        cwd=REPO, capture_output=True, text=True, timeout=60 + MANY_FILES // 100)
    status, seconds, peak_kib = done.stdout.strip().splitlines()[-1].split("|")
    assert int(status) == 1, done.stderr  # 1: nothing usable was made
    with open(out / example_schema.STATS_FILE, encoding="utf-8") as handle:
        stats = json.load(handle)
    tiny = "not_an_image" if source == "folder" else "truncated_sample"
    half = MANY_FILES // 2
    assert stats["read"] == MANY_FILES
    assert stats["rejected"] == {"empty": MANY_FILES - half, tiny: half}
    assert len(read_rejects(str(out))) == MANY_FILES
    assert float(seconds) < 30 + 0.003 * MANY_FILES, seconds
    assert int(peak_kib) < 600 * 1024 + 5 * MANY_FILES, f"peak {int(peak_kib) // 1024} MiB"


def write_archives(folder) -> dict:
    """One of each archive and compressed kind in ``folder``: {file name: (what it is, the
    command that unpacks it)}; the names do not all say what the files are."""
    import bz2
    import lzma
    import tarfile
    import zipfile

    folder = str(folder)
    inner = os.path.join(folder, "inner")
    os.makedirs(os.path.join(inner, "cat"))
    with open(os.path.join(inner, "cat", "x.png"), "wb") as handle:
        handle.write(png_bytes())
    with zipfile.ZipFile(os.path.join(folder, "pets.zip"), "w") as archive:
        archive.write(os.path.join(inner, "cat", "x.png"), "cat/x.png")
    os.rename(os.path.join(folder, "pets.zip"), os.path.join(folder, "download.bin"))
    with zipfile.ZipFile(os.path.join(folder, "HWDB1.1trn_gnt.zip"), "w") as archive:
        archive.writestr("1001-c.gnt", gnt_sample("啊", glyph(2, 2)))
    for name, mode in (("pets.tar", "w"), ("pets.tgz", "w:gz"), ("pets.tar.bz2", "w:bz2"),
                       ("pets.tar.xz", "w:xz"), ("v7.tar", "w")):
        with tarfile.open(os.path.join(folder, name), mode,
                          format=tarfile.USTAR_FORMAT if name != "v7.tar" else
                          tarfile.GNU_FORMAT) as archive:
            archive.add(inner, "pets")
    with open(os.path.join(folder, "pets.7z"), "wb") as handle:
        handle.write(b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(40))
    with open(os.path.join(folder, "pets.rar"), "wb") as handle:
        handle.write(b"Rar!\x1a\x07\x01\x00" + bytes(40))
    with open(os.path.join(folder, "x.png.gz"), "wb") as handle:
        handle.write(gzip.compress(png_bytes()))
    with open(os.path.join(folder, "x.png.bz2"), "wb") as handle:
        handle.write(bz2.compress(png_bytes()))
    with open(os.path.join(folder, "x.png.xz"), "wb") as handle:
        handle.write(lzma.compress(png_bytes()))
    shutil.rmtree(inner)
    return {"download.bin": ("a zip archive", "unzip FILE -d FOLDER"),
            "HWDB1.1trn_gnt.zip": ("a zip archive", "unzip FILE -d FOLDER"),
            "pets.tar": ("a tar archive", "tar -xf FILE -C FOLDER"),
            "v7.tar": ("a tar archive", "tar -xf FILE -C FOLDER"),
            "pets.tgz": ("a gzip-compressed tar archive", "tar -xf FILE -C FOLDER"),
            "pets.tar.bz2": ("a bzip2-compressed tar archive", "tar -xf FILE -C FOLDER"),
            "pets.tar.xz": ("a xz-compressed tar archive", "tar -xf FILE -C FOLDER"),
            "pets.7z": ("a 7z archive", "7z x FILE -oFOLDER"),
            "pets.rar": ("a RAR archive", "unrar x FILE FOLDER/"),
            "x.png.gz": ("a gzip-compressed file", "gunzip -k FILE"),
            "x.png.bz2": ("a bzip2-compressed file", "bunzip2 -k FILE"),
            "x.png.xz": ("a xz-compressed file", "unxz -k FILE")}


def test_an_archive_given_as_input_is_one_line_saying_how_to_unpack_it(tmp_path, capsys):
    """By its first bytes, whatever its name, for every source that reads files; before: the
    folder source said "not a directory", hwdb parsed a zip as samples (``size_mismatch``),
    lsun "not a readable LMDB". idx reads gzip: a gzipped IDX file passes, a ``.tgz`` not."""
    from absl import flags

    from data_prep import command
    from data_prep.prepare import make_source

    kinds = write_archives(tmp_path)
    for name, (what, how) in kinds.items():
        path = str(tmp_path / name)
        compressed = "compressed file" in what
        for source in ("folder", "hwdb", "idx", "lsun"):
            if source == "idx" and name == "x.png.gz":
                continue  # a gzip file: what idx reads (its header is checked by plan)
            reader = make_source(source, path, PrepOptions())
            with pytest.raises(InputError) as raised:
                reader.check_input()
            assert str(raised.value) == (
                f"{source}: --input={path} is {what}; "
                f"{'decompress' if compressed else 'unpack'} it ({how.replace('FILE', path)}) "
                f"and pass the {'file it gives' if compressed else 'folder it makes'} as "
                "--input"), (name, source)
            with pytest.raises(InputError, match="unpack it|decompress it"):
                reader.plan()
    write_idx(str(tmp_path / "t-images-idx3-ubyte.gz"), np.zeros((1, 4, 4), np.uint8))
    make_source("idx", str(tmp_path / "t-images-idx3-ubyte.gz"), PrepOptions()).check_input()
    for folder_or_glob in (tmp_path, f"{tmp_path}/*.zip", tmp_path / "nothing"):
        make_source("folder", str(folder_or_glob), PrepOptions()).check_input()

    out = tmp_path / "out"
    argv = flags.FLAGS(["lsgan prep", "--source=hwdb", f"--input={tmp_path / 'HWDB1.1trn_gnt.zip'}",
                        f"--output={out}", "--", "--direct_running_mode=in_memory"])
    try:
        with pytest.raises(SystemExit) as exited:
            command.main(argv)
    finally:
        flags.FLAGS.unparse_flags()
    assert exited.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"lsgan prep: hwdb: --input={tmp_path / 'HWDB1.1trn_gnt.zip'} is a "
                           "zip archive; unpack it (unzip ")
    assert not out.exists()


def test_archives_inside_an_input_folder_are_counted_rejects(tmp_path):
    """Before: in a folder source an archive was ``not_an_image`` after being read whole; in
    hwdb and idx folders one whose name is not the source's was silently left out, and a zip
    named ``.gnt`` was parsed as samples. Now each is one ``archive`` reject saying how to
    unpack it; a compressed single file is still read by the folder source (``not_an_image``),
    and gzip files are idx's own (a labels file ``*.gz`` is no reject)."""
    kinds = write_archives(tmp_path / "pets" / "cat")
    (tmp_path / "pets" / "cat" / "ok.png").write_bytes(png_bytes())
    driven = drive_source("folder", tmp_path / "pets", image_size=4)
    assert list(driven.written) == ["cat/ok.png"]
    compressed = {name for name, (what, _) in kinds.items() if "compressed file" in what}
    assert driven.reasons() == {f"cat/{name}": "not_an_image" if name in compressed else
                                "archive" for name in kinds}
    assert driven.rejects["cat/pets.tgz"][1] == (
        "a gzip-compressed tar archive, not read: unpack it (tar -xf cat/pets.tgz -C FOLDER) "
        "in the input")

    gnt = tmp_path / "gnt"
    kinds = write_archives(gnt)
    write_gnt(str(gnt / "a.gnt"), [("啊", glyph(2, 2))])
    (gnt / "zipped.gnt").write_bytes((gnt / "HWDB1.1trn_gnt.zip").read_bytes())
    (gnt / "empty.gnt").write_bytes(b"")
    (gnt / "notes.txt").write_text("not listed: no .gnt, no archive")
    (gnt / "named.zip").write_text("not a zip after all: not listed")
    driven = drive_source("hwdb", gnt, image_size=4)
    assert list(driven.written) == ["a.gnt:0"]
    by_name = {name for name in kinds if name != "download.bin"}  # found by an archive's name
    assert driven.reasons() == {**{name: "archive" for name in by_name},
                                "zipped.gnt": "archive", "empty.gnt": "empty"}
    assert driven.rejects["zipped.gnt"][1].startswith("a zip archive, not read: unpack it")

    idx_dir = tmp_path / "idx"
    kinds = write_archives(idx_dir)
    write_idx(str(idx_dir / "t-images-idx3-ubyte.gz"), np.zeros((2, 4, 4), np.uint8))
    write_idx(str(idx_dir / "t-labels-idx1-ubyte.gz"), np.array([3, 4]))
    packed = tar_gz_of(idx_dir / "t-images-idx3-ubyte.gz")
    (idx_dir / "u-images-idx3-ubyte.tar.gz").write_bytes(packed)
    driven = drive_source("idx", idx_dir, image_size=4)
    assert sorted(driven.written) == ["t-images-idx3-ubyte.gz:0", "t-images-idx3-ubyte.gz:1"]
    assert driven.reasons() == {**{name: "archive" for name in kinds
                                   if name not in ("download.bin", "x.png.gz")},
                                "u-images-idx3-ubyte.tar.gz": "archive"}


def tar_gz_of(path) -> bytes:
    """The bytes of a ``.tar.gz`` holding the file ``path``."""
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(str(path), os.path.basename(str(path)))
    return buffer.getvalue()
