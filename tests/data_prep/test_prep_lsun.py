"""lsun: an LMDB of JPEG / WebP / PNG values under 40-hex-digit keys, bad values among them."""
from __future__ import annotations

import numpy as np
import pytest

from data_prep.options import PrepOptions
from data_prep.source import InputError
from data_prep.sources import lsun
from data_prep.testdata import encode_image, lsun_key, write_lmdb, write_lsun_lmdb
from prep_helpers import solid

CENTRE = (200, 40, 40)
MARGIN = (20, 20, 220)


def framed(height: int, width: int) -> np.ndarray:
    """MARGIN image with a CENTRE square of side min(height, width) in the middle: the centre
    crop keeps only CENTRE."""
    image = solid(height, width, MARGIN)
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    image[top:top + side, left:left + side] = CENTRE
    return image


@pytest.fixture
def scenes(tmp_path):
    """Landscape and portrait scenes in JPEG, WebP and PNG, plus 3 bad values."""
    path = str(tmp_path / "bedroom_train_lmdb")
    good = {lsun_key(i): encode_image(framed(*shape), fmt, quality=95)
            for i, (shape, fmt) in enumerate([((48, 64), "JPEG"), ((64, 48), "WEBP"),
                                              ((40, 60), "PNG"), ((64, 96), "JPEG"),
                                              ((96, 64), "WEBP")])}
    truncated = encode_image(framed(48, 64), "JPEG")[:300]
    bad = {lsun_key(10): truncated, lsun_key(11): b"", lsun_key(12): b"not an image at all"}
    write_lmdb(path, {**good, **bad})
    return path, sorted(good), {lsun_key(10): "corrupt_image", lsun_key(11): "empty",
                                lsun_key(12): "not_an_image"}


def test_lsun_writes_cropped_rgb_squares_and_rejects_bad_values(prepare, scenes):
    path, good_keys, bad = scenes
    out = prepare("lsun", path, image_size=16)

    assert sorted(out.examples) == good_keys
    for example in out.examples.values():
        assert example["image"].shape == (16, 16, 3)
        assert example["label"] == -1
        centre = example["image"][4:12, 4:12].reshape(-1, 3).mean(axis=0)
        np.testing.assert_allclose(centre, CENTRE, atol=12)
        assert np.abs(example["image"].astype(int) - CENTRE).max() < 60  # no margin left
    assert out.reject_reasons() == bad
    assert out.labels == []
    assert out.stats["read"] == 8
    assert out.stats["rejected"] == {"corrupt_image": 1, "empty": 1, "not_an_image": 1}
    assert sum(out.stats["written"].values()) == 5


def test_lsun_data_mdb_path_and_max_records(scenes):
    path, good_keys, bad = scenes
    source = lsun.LsunSource(f"{path}/data.mdb", PrepOptions(max_records=4))
    plan = source.plan()
    source.setup()
    assert [r.id for shard in plan.shards for r in source.read(shard)] == sorted(
        good_keys + list(bad))[:4]


def test_key_ranges_cover_every_key_once_in_order(tmp_path):
    path = str(tmp_path / "many_lmdb")
    keys = sorted(lsun_key(i) for i in range(2 * lsun.RANGE_SIZE + 50))
    write_lmdb(path, {key: b"x" for key in keys})

    source = lsun.LsunSource(path, PrepOptions())
    plan = source.plan()
    assert len(plan.shards) == 3
    source.setup()
    assert [record.id for shard in plan.shards for record in source.read(shard)] == keys

    limited = lsun.LsunSource(path, PrepOptions(max_records=lsun.RANGE_SIZE + 7)).plan()
    assert [record.id for shard in limited.shards for record in source.read(shard)] == \
        keys[:lsun.RANGE_SIZE + 7]


def test_written_lmdb_has_hex_keys_and_jpeg_webp_values(tmp_path):
    path = str(tmp_path / "church_lmdb")
    keys = write_lsun_lmdb(path, [solid(20, 30, (9, 9, 9))] * 4)
    env = lsun.open_environment(path)
    with env.begin() as txn:
        values = [txn.get(key.encode()) for key in keys]
    assert all(len(key) == 40 and int(key, 16) >= 0 for key in keys)
    assert [v[:3] == b"\xff\xd8\xff" for v in values] == [True, False, True, False]
    assert [v[8:12] == b"WEBP" for v in values] == [False, True, False, True]


@pytest.mark.parametrize("path", ["gs://bucket/bedroom_train_lmdb", "s3://b/x_lmdb/data.mdb"])
def test_a_remote_lmdb_is_refused_before_anything_is_read(path):
    with pytest.raises(InputError, match=f"lsun: {path} is not a local path.*copy the LMDB"):
        lsun.LsunSource(path, PrepOptions()).plan()
