"""idx: MNIST/EMNIST IDX files, gzipped or not, labels, transpose, truncation, the official
splits of a folder holding MNIST's train-* and t10k-* files."""
from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from data_prep.source import InputError
from data_prep.sources.idx import IdxSource, official_split, official_splits
from data_prep.options import PrepOptions
from data_prep.testdata import write_idx
from lsgan_tf.example_schema import split_of


def digits_like(count: int) -> np.ndarray:
    """Images [count, 6, 6] whose top row is white (255) and the rest i * 10."""
    images = np.stack([np.full((6, 6), 10 * i, np.uint8) for i in range(count)])
    images[:, 0, :] = 255
    return images


@pytest.fixture
def mnist_dir(tmp_path):
    write_idx(str(tmp_path / "train-images-idx3-ubyte.gz"), digits_like(5))
    write_idx(str(tmp_path / "train-labels-idx1-ubyte.gz"), np.array([3, 1, 4, 1, 5]))
    write_idx(str(tmp_path / "t10k-images-idx3-ubyte"), digits_like(3))
    write_idx(str(tmp_path / "t10k-labels-idx1-ubyte"), np.array([9, 2, 6]))
    return tmp_path


def test_idx_gzipped_and_raw_with_labels(prepare, mnist_dir):
    out = prepare("idx", mnist_dir, image_size=6)
    assert len(out.examples) == 8
    assert out.labels == [str(i) for i in range(10)]
    example = out.examples["train-images-idx3-ubyte.gz:2"]
    assert example["label"] == 4
    assert example["image"].shape == (6, 6, 1)
    assert (example["image"][0] == 255).all() and (example["image"][1:] == 20).all()
    assert out.examples["t10k-images-idx3-ubyte:0"]["label"] == 9


def test_emnist_transpose_and_resize(prepare, mnist_dir):
    out = prepare("idx", mnist_dir / "t10k-images-idx3-ubyte", transpose=True, image_size=12)
    image = out.examples["t10k-images-idx3-ubyte:1"]["image"][:, :, 0]
    assert image.shape == (12, 12)
    assert (image[:, 0] == 255).all() and (image[:, -1] == 10).all()


def test_truncated_images_file_rejects_the_missing_images(prepare, tmp_path):
    path = tmp_path / "cut-images-idx3-ubyte.gz"
    write_idx(str(path), digits_like(4))
    data = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(data[:16 + 2 * 36 + 10])[:-8])  # 2.3 images, no gzip trailer
    out = prepare("idx", path, image_size=6)
    assert sorted(out.examples) == ["cut-images-idx3-ubyte.gz:0", "cut-images-idx3-ubyte.gz:1"]
    assert out.reject_reasons() == {"cut-images-idx3-ubyte.gz:2": "truncated",
                                    "cut-images-idx3-ubyte.gz:3": "truncated"}
    assert out.labels == []


def test_wrong_magic_or_label_count_is_an_input_error(tmp_path):
    write_idx(str(tmp_path / "x-images-idx3-ubyte"), digits_like(3))
    write_idx(str(tmp_path / "x-labels-idx1-ubyte"), np.array([1, 2]))
    with pytest.raises(InputError, match="expected 3 labels"):
        IdxSource(str(tmp_path), PrepOptions()).plan()
    (tmp_path / "y-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x01" + b"\x00" * 8)
    with pytest.raises(InputError, match="not an IDX images file"):
        IdxSource(str(tmp_path / "y-images-idx3-ubyte"), PrepOptions()).plan()


def idx_file(path, magic: int, dims, payload: bytes) -> bytes:
    """Writes an IDX file byte by byte (big-endian magic, one uint32 per dimension, uint8
    data), gzipped for ``.gz``; returns the payload."""
    data = struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims) + payload
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return payload


def official_folder(folder, train_count=23, test_count=9, side=28):
    """MNIST's four files with their official names: random pixels, labels 0..9; returns the
    pixel bytes written, ``{"train": [...], "t10k": [...]}``, one ``bytes`` per image."""
    rng = np.random.default_rng(7)
    written = {}
    for prefix, count in (("train", train_count), ("t10k", test_count)):
        pixels = rng.integers(0, 256, count * side * side, dtype=np.uint8).tobytes()
        idx_file(folder / f"{prefix}-images-idx3-ubyte.gz", 2051, (count, side, side), pixels)
        idx_file(folder / f"{prefix}-labels-idx1-ubyte.gz", 2049, (count,),
                 bytes(i % 10 for i in range(count)))
        written[prefix] = [pixels[i * side * side:(i + 1) * side * side] for i in range(count)]
    return written


@pytest.mark.parametrize("eval_fraction", [0.1, 0.9])
def test_folder_with_official_files_gets_the_official_splits(prepare, tmp_path, eval_fraction):
    folder = tmp_path / "mnist"
    folder.mkdir()
    written = official_folder(folder)
    out = prepare("idx", folder, eval_fraction=eval_fraction)
    by_split = {split: {record_id: example for record_id, example in out.examples.items()
                        if example["split"] == split} for split in ("train", "eval")}
    assert sorted(by_split["eval"]) == sorted(f"t10k-images-idx3-ubyte.gz:{i}"
                                              for i in range(9))
    assert sorted(by_split["train"]) == sorted(f"train-images-idx3-ubyte.gz:{i}"
                                               for i in range(23))
    for split, prefix in (("eval", "t10k"), ("train", "train")):
        for record_id, example in by_split[split].items():
            index = int(record_id.rsplit(":", 1)[1])
            assert example["image"].shape == (28, 28, 1)
            assert example["image"].tobytes() == written[prefix][index], record_id
            assert example["label"] == index % 10
    assert out.stats["written"] == {"train": 23, "eval": 9}


def test_official_split_needs_both_kinds_of_files(prepare, tmp_path):
    folder = tmp_path / "train_only"
    folder.mkdir()
    official_folder(folder, train_count=40)
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).unlink()
    out = prepare("idx", folder, eval_fraction=0.5)
    splits = {example["split"] for example in out.examples.values()}
    assert splits == {"train", "eval"}  # the hash of the id, as for any other input
    for record_id, example in out.examples.items():
        assert example["split"] == split_of(record_id, 0.5)
    # A single test file is not the official split either: hashed like any file.
    single = prepare("idx", tmp_path / "train_only" / "train-images-idx3-ubyte.gz",
                     eval_fraction=0.5)
    assert {example["split"] for example in single.examples.values()} == {"train", "eval"}


def test_official_split_of_a_name():
    assert official_split("train-images-idx3-ubyte.gz") == "train"
    assert official_split("sub/t10k-images-idx3-ubyte") == "eval"
    assert official_split("emnist-digits-test-images-idx3-ubyte.gz") is None
    assert official_splits(["train-images-idx3-ubyte.gz"]) == {}
    assert official_splits(["a/train-images-idx3-ubyte", "a/t10k-images-idx3-ubyte",
                            "a/x-images-idx3-ubyte"]) == {
        "a/train-images-idx3-ubyte": "train", "a/t10k-images-idx3-ubyte": "eval",
        "a/x-images-idx3-ubyte": None}
