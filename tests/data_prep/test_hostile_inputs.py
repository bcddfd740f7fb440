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
import json
import os
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
from prep_helpers import bind_unix, deadline, drive_source, read_rejects, solid

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
