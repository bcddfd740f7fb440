"""The character renderer writes .gnt bytes that follow the CASIA format (docs/PAPER.md section 4)."""
import json
import os
import struct

import numpy as np
import pytest

from tools.render_gnt import render


def _faces_or_skip():
    try:
        return render.available_faces()
    except render.NoFontsError:
        pytest.skip("no Chinese font installed (make fonts)")


def test_gb2312_level1_table():
    chars = render.gb2312_level1()
    assert len(chars) == 3755
    assert chars[0] == "啊" and chars[0].encode("gb2312") == b"\xb0\xa1"
    assert chars[-1].encode("gb2312") == b"\xd7\xf9"
    picked = render.pick_classes(40)
    assert len(picked) == 40 and picked[0] == "啊" and len(set(picked)) == 40


def _parse_by_spec(data: bytes):
    """An independent reader written from the spec: size, tag, width, height, pixels."""
    offset, samples = 0, []
    while offset < len(data):
        size, = struct.unpack_from("<I", data, offset)
        tag = data[offset + 4:offset + 6]
        width, height = struct.unpack_from("<HH", data, offset + 6)
        assert size == 10 + width * height
        pixels = np.frombuffer(data, np.uint8, width * height, offset + 10).reshape(height, width)
        samples.append((tag.decode("gbk"), pixels))
        offset += size
    assert offset == len(data)
    return samples


def test_render_writes_parseable_gnt(tmp_path):
    faces = _faces_or_skip()
    manifest = render.render_dataset(str(tmp_path), num_classes=3, num_writers=2, seed=0)
    files = sorted(p for p in os.listdir(tmp_path) if p.endswith(".gnt"))
    assert files == ["writer_0000.gnt", "writer_0001.gnt"]
    chars = render.pick_classes(3)
    from data_prep.sources.hwdb import GntSample, decode_tag, parse_gnt
    total = 0
    for name in files:
        data = (tmp_path / name).read_bytes()
        samples = _parse_by_spec(data)
        assert [c for c, _ in samples] == chars
        for _, pixels in samples:
            assert pixels.min() < 128 and pixels.max() == 255   # ink on a white background
            assert (pixels[0] > 200).mean() > 0.5               # border mostly background
        with open(tmp_path / name, "rb") as handle:
            parsed = list(parse_gnt(handle, len(data)))
        assert all(isinstance(p, GntSample) for p in parsed)
        assert [decode_tag(p.tag) for p in parsed] == chars
        total += len(samples)
    assert manifest["samples"] == total == 6
    assert json.loads((tmp_path / "render.json").read_text("utf-8"))["characters"] == "".join(chars)
    assert len(faces) >= 1


def test_same_seed_same_bytes_and_writers_differ():
    _faces_or_skip()
    a = render.Renderer(seed=3).sample(0, "啊", 0)
    b = render.Renderer(seed=3).sample(0, "啊", 0)
    c = render.Renderer(seed=3).sample(1, "啊", 0)
    assert a.dtype == np.uint8 and np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)
