"""idx: MNIST/EMNIST IDX files, gzipped or not, labels, transpose, truncation."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from data_prep.source import InputError
from data_prep.sources.idx import IdxSource
from data_prep.options import PrepOptions
from data_prep.testdata import write_idx


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
