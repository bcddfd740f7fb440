"""hwdb: .gnt files written byte for byte, a vocabulary across files, and every bad-sample rule."""
from __future__ import annotations

import io
import struct

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from data_prep.options import PrepOptions
from data_prep.prepare import REJECTS, SKIPPED, ReadAndPrepare
from data_prep.sources import hwdb
from data_prep.testdata import gnt_sample, gnt_tag, write_gnt
from prep_helpers import run_prep


def glyph(height: int, width: int, ink: int) -> np.ndarray:
    """A dark ``ink`` rectangle filling the whole sample (background would be 255)."""
    return np.full((height, width), ink, np.uint8)


@pytest.fixture(scope="module")
def gnt_dir(tmp_path_factory):
    """Two writers' files. 1.gnt: 啊 A 齄 中 (all good). 2.gnt: 阿, then a size mismatch, an
    undecodable tag, a zero-sized sample, 啊, and a sample cut off by the end of the file."""
    tmp_path = tmp_path_factory.mktemp("hwdb")
    (tmp_path / "w1").mkdir()
    (tmp_path / "w2").mkdir()
    offsets1 = write_gnt(str(tmp_path / "w1" / "1.gnt"), [
        ("啊", glyph(10, 20, 0)), ("A", glyph(8, 8, 30)), ("齄", glyph(9, 7, 60)),
        ("中", glyph(12, 6, 90))])
    samples2 = [gnt_sample("阿", glyph(6, 6, 120))]
    mismatch = bytearray(gnt_sample("中", glyph(5, 5, 0)))
    mismatch[6:8] = struct.pack("<H", 7)  # width says 7, size field and pixels say 5
    samples2.append(bytes(mismatch))
    samples2.append(gnt_sample(b"\xff\xff", glyph(4, 4, 0)))
    samples2.append(gnt_sample("阿", np.zeros((0, 5), np.uint8)))
    samples2.append(gnt_sample("啊", glyph(7, 7, 150)))
    cut = gnt_sample("中", glyph(6, 6, 0))
    offsets2 = np.cumsum([0] + [len(s) for s in samples2]).tolist()
    (tmp_path / "w2" / "2.gnt").write_bytes(b"".join(samples2) + cut[:20])
    return tmp_path, offsets1, offsets2


@pytest.fixture(scope="module")
def all_characters(gnt_dir, tmp_path_factory):
    """The run over both files with --charset=all, 10 x 10 images."""
    return run_prep(str(tmp_path_factory.mktemp("out")), "hwdb", gnt_dir[0], image_size=10)


def test_hwdb_labels_are_characters_sorted_by_gb_code_across_files(gnt_dir, all_characters):
    _, offsets1, offsets2 = gnt_dir
    out = all_characters

    assert out.labels == ["A", "啊", "阿", "中", "齄"]  # 4100 < B0A1 < B0A2 < D6D0 < F6E8
    expected = {f"w1/1.gnt:{offsets1[0]}": "啊", f"w1/1.gnt:{offsets1[1]}": "A",
                f"w1/1.gnt:{offsets1[2]}": "齄", f"w1/1.gnt:{offsets1[3]}": "中",
                f"w2/2.gnt:{offsets2[0]}": "阿", f"w2/2.gnt:{offsets2[4]}": "啊"}
    assert {i: out.labels[e["label"]] for i, e in out.examples.items()} == expected
    assert all(e["image"].shape == (10, 10, 1) for e in out.examples.values())

    # 20 wide x 10 high of ink 0, padded with white above and below, then 20 -> 10.
    wide = out.examples[f"w1/1.gnt:{offsets1[0]}"]["image"][:, :, 0]
    assert (wide[:2] == 255).all() and (wide[-2:] == 255).all() and (wide[3:7] == 0).all()
    # 6 wide x 12 high of ink 90: white columns left and right.
    tall = out.examples[f"w1/1.gnt:{offsets1[3]}"]["image"][:, :, 0]
    assert (tall[:, 0] == 255).all() and (tall[:, -1] == 255).all()
    assert np.abs(tall[:, 4:6].astype(int) - 90).max() <= 2


def test_hwdb_bad_samples_are_rejected_and_the_rest_is_written(gnt_dir, all_characters):
    offsets2 = gnt_dir[2]
    out = all_characters

    assert out.reject_reasons() == {
        f"w2/2.gnt:{offsets2[1]}": "size_mismatch", f"w2/2.gnt:{offsets2[2]}": "undecodable_tag",
        f"w2/2.gnt:{offsets2[3]}": "zero_size", f"w2/2.gnt:{offsets2[5]}": "truncated_sample"}
    assert out.stats["read"] == 10
    assert sum(out.stats["written"].values()) == 6
    assert out.stats["read"] == sum(out.stats["written"].values()) + sum(
        out.stats["rejected"].values())
    assert out.counter("read") == 10
    assert out.counter("written") == 6
    assert out.counter("rejected") == 4
    assert out.counter("rejected_size_mismatch") == 1


def test_charset_gb2312_level1_skips_symbols_and_level2(prepare, gnt_dir):
    root, _, _ = gnt_dir
    out = prepare("hwdb", str(root / "w*" / "*.gnt"), image_size=8, charset="gb2312_level1")
    assert out.labels == ["啊", "阿", "中"]
    assert out.stats["skipped"] == {"not_in_charset": 2}
    assert out.stats["read"] == 8
    assert sum(out.stats["written"].values()) == 4


def test_rejects_and_skips_as_pcollections(gnt_dir):
    root, offsets1, offsets2 = gnt_dir
    options = PrepOptions(image_size=8, charset="gb2312_level1", max_records=6)
    with beam.Pipeline(options=PipelineOptions(["--direct_running_mode=in_memory"])) as p:
        outputs = p | ReadAndPrepare("hwdb", str(root), options)
        assert_that(outputs[SKIPPED] | beam.Map(tuple), equal_to([
            (f"w1/1.gnt:{offsets1[1]}", "not_in_charset"),
            (f"w1/1.gnt:{offsets1[2]}", "not_in_charset")]), label="Skipped")
        assert_that(outputs[REJECTS] | beam.Map(lambda r: (r.id, r.reason)), equal_to([
            (f"w2/2.gnt:{offsets2[1]}", "size_mismatch"),
            (f"w2/2.gnt:{offsets2[2]}", "undecodable_tag"),
            (f"w2/2.gnt:{offsets2[3]}", "zero_size")]), label="Rejects")
        assert_that(outputs["read"], equal_to([6]), label="Read")


@pytest.mark.parametrize("lie", ["size_field", "dimensions"])
def test_parse_gnt_resynchronises_after_a_size_mismatch(lie):
    first = bytearray(gnt_sample("啊", glyph(3, 4, 0)))
    if lie == "size_field":
        first[0:4] = struct.pack("<I", 999)
    else:
        first[8:10] = struct.pack("<H", 2)
    data = bytes(first) + gnt_sample("阿", glyph(2, 2, 0))
    items = list(hwdb.parse_gnt(io.BytesIO(data), len(data)))
    assert [type(item).__name__ for item in items] == ["GntError", "GntSample"]
    assert items[0].reason == "size_mismatch"
    assert (items[1].offset, items[1].tag, items[1].pixels) == (22, gnt_tag("阿"), b"\0" * 4)


def test_tags_decode_as_gbk_or_ascii():
    assert hwdb.decode_tag(b"\xb0\xa1") == "啊"
    assert hwdb.decode_tag(b"A\x00") == "A"
    assert hwdb.decode_tag(gnt_tag("镕")) == "镕"  # GBK, outside GB2312
    for bad in (b"\xff\xff", b"\x00\x00", b"AB", b"\x80\x00"):
        with pytest.raises(ValueError):
            hwdb.decode_tag(bad)
    level1 = [bytes([lead, trail]) for lead in range(0x81, 0xFF) for trail in range(0x40, 0xFF)
              if hwdb.in_gb2312_level1(bytes([lead, trail]))]
    assert len(level1) == 3755
    assert level1[0] == b"\xb0\xa1" and level1[-1] == b"\xd7\xf9"
