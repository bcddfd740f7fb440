"""folder: class subdirectories give labels, a flat folder is unlabeled, non-images are rejects."""
from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from PIL import Image

from data_prep.options import PrepOptions
from data_prep.records import BadRecord
from data_prep.sources.folder import FolderSource
from prep_helpers import solid

RED, BLUE, GREEN = (230, 20, 20), (20, 20, 230), (20, 200, 20)


def save(path, pixels, image_format=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=image_format)


def test_class_folders_give_sorted_labels_and_bad_files_are_rejects(prepare, tmp_path):
    root = tmp_path / "pets"
    save(root / "dog" / "d1.webp", solid(30, 40, BLUE), "WEBP")
    save(root / "cat" / "c1.png", solid(20, 20, RED))
    save(root / "cat" / "kittens" / "c2.jpg", solid(50, 30, RED), "JPEG")
    save(root / "cat" / "gray.png", solid(20, 20, 128, channels=1)[:, :, 0])
    (root / "dog" / "notes.txt").write_text("not an image")
    (root / "dog" / "empty.png").write_bytes(b"")
    (root / "README.md").write_text("a file next to the class folders")
    save(root / ".cache" / "ignored.png", solid(8, 8, GREEN))

    out = prepare("folder", root, image_size=8)

    assert out.labels == ["cat", "dog"]
    assert {i: e["label"] for i, e in out.examples.items()} == {
        "cat/c1.png": 0, "cat/kittens/c2.jpg": 0, "cat/gray.png": 0, "dog/d1.webp": 1}
    for record_id, colour in [("cat/c1.png", RED), ("cat/kittens/c2.jpg", RED),
                              ("dog/d1.webp", BLUE), ("cat/gray.png", (128, 128, 128))]:
        image = out.examples[record_id]["image"]
        assert image.shape == (8, 8, 3)
        np.testing.assert_allclose(image.reshape(-1, 3).mean(axis=0), colour, atol=8)
    assert out.reject_reasons() == {"dog/notes.txt": "not_an_image", "dog/empty.png": "empty",
                                    "README.md": "outside_class_dir"}
    assert out.stats["read"] == 7


def test_flat_folder_is_unlabeled_and_channels_can_be_one(prepare, tmp_path):
    save(tmp_path / "flat" / "a.png", solid(16, 12, GREEN))
    save(tmp_path / "flat" / "b.bmp", solid(12, 16, (90, 90, 90)), "BMP")
    out = prepare("folder", tmp_path / "flat", image_size=4, channels=1)
    assert out.labels == []
    assert sorted(out.examples) == ["a.png", "b.bmp"]
    assert all(e["label"] == -1 and e["image"].shape == (4, 4, 1) for e in out.examples.values())
    assert abs(int(out.examples["b.bmp"]["image"].mean()) - 90) <= 1


def test_folder_is_listed_and_read_as_stored_whatever_its_path(tmp_path, monkeypatch):
    """Through Beam's FileSystems: glob characters in the folder's name are literal, a
    relative path gives the same ids, a ``.gz`` name is read raw (not decompressed)."""
    root = tmp_path / "pets [v2]*"
    save(root / "cat" / "c1.png", solid(6, 6, RED))
    save(root / "dog" / "sub" / "d1.png", solid(6, 6, BLUE))
    png = io.BytesIO()
    Image.fromarray(solid(6, 6, GREEN)).save(png, format="PNG")
    (root / "cat" / "c2.png.gz").write_bytes(png.getvalue())  # a PNG despite its name
    (root / "dog" / "d2.gz").write_bytes(gzip.compress(png.getvalue()))  # really gzipped
    save(root / "dog" / ".cache" / "hidden.png", solid(6, 6, RED))
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")

    source = FolderSource(str(root), PrepOptions(image_size=4))

    def read(path):
        reader = FolderSource(str(path), PrepOptions())
        plan = reader.plan()
        return plan, {r.id: r for shard in plan.shards for r in reader.read(shard)}

    plan, records = read(root)
    assert plan.class_names == ("cat", "dog")
    assert {i: r.label for i, r in records.items()} == {
        "cat/c1.png": 0, "cat/c2.png.gz": 0, "dog/d2.gz": 1, "dog/sub/d1.png": 1}
    assert records["cat/c2.png.gz"].payload == png.getvalue()
    green = source.decode(records["cat/c2.png.gz"])
    np.testing.assert_allclose(green.reshape(-1, 3).mean(axis=0), GREEN, atol=8)
    assert records["dog/d2.gz"].payload[:2] == b"\x1f\x8b"
    with pytest.raises(BadRecord, match="not_an_image"):
        source.decode(records["dog/d2.gz"])

    monkeypatch.chdir(tmp_path)
    for relative in (root.name, f"{root.name}/"):
        assert read(relative)[1] == records
