"""tfds (a dataset prepared locally, no download) and digits (scikit-learn's, embedded)."""
from __future__ import annotations

import numpy as np
import pytest

from data_prep.options import PrepOptions
from data_prep.source import InputError
from data_prep.sources.tfds import TfdsSource
from lsgan_tf.builtin_data import digits_arrays


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    """``tiny_shades`` prepared in a temporary TFDS data dir: 6 train + 3 test 4x4 RGB images,
    image i of value 20 * i (train) or 200 + i (test), labels dark/light."""
    import tensorflow_datasets as tfds

    class TinyShades(tfds.core.GeneratorBasedBuilder):
        VERSION = tfds.core.Version("1.0.0")

        def _info(self):
            return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(4, 4, 3)),
                "label": tfds.features.ClassLabel(names=["dark", "light"])}))

        def _split_generators(self, dl_manager):
            return {"train": self._generate_examples(range(0, 120, 20)),
                    "test": self._generate_examples(range(200, 203))}

        def _generate_examples(self, values):
            for value in values:
                yield value, {"image": np.full((4, 4, 3), value, np.uint8),
                              "label": int(value >= 100)}

    data_dir = str(tmp_path_factory.mktemp("tfds"))
    TinyShades(data_dir=data_dir).download_and_prepare()
    return data_dir


def test_tfds_reads_every_split_with_class_names(prepare, tfds_dir):
    out = prepare("tfds", "tiny_shades", tfds_data_dir=tfds_dir)
    assert out.labels == ["dark", "light"]
    values = sorted((int(e["image"][0, 0, 0]), e["label"]) for e in out.examples.values())
    assert values == [(v, int(v >= 100)) for v in [*range(0, 120, 20), *range(200, 203)]]
    assert all(e["image"].shape == (4, 4, 3) for e in out.examples.values())
    assert all(i.startswith("tiny_shades-") for i in out.examples)


def test_tfds_missing_or_unprepared_is_a_clear_error(tfds_dir):
    with pytest.raises(InputError, match="no dataset 'no_such_dataset'"):
        TfdsSource("no_such_dataset", PrepOptions(tfds_data_dir=tfds_dir)).plan()
    with pytest.raises(InputError, match="not prepared .* does not download"):
        TfdsSource("mnist", PrepOptions(tfds_data_dir=tfds_dir)).plan()


def test_digits_are_builtin_data_digits(prepare):
    out = prepare("digits", max_records=150)
    images, labels, ids = digits_arrays()
    assert sorted(out.examples, key=lambda i: int(i.split(":")[1])) == ids[:150]
    assert out.labels == [str(d) for d in range(10)]
    for index in (0, 77, 149):
        example = out.examples[ids[index]]
        np.testing.assert_array_equal(example["image"], images[index])
        assert example["label"] == labels[index]


def test_tfds_a_damaged_shard_file_gives_rejects_not_a_crash(tfds_dir, tmp_path):
    """Issue 13: an error reading the prepared files (a TensorFlow OpError: here the shard
    holds fewer records than TFDS expects) ends the range; every example not read is an
    ``unreadable`` reject. Before: the error left ``read`` and stopped the run."""
    import shutil

    from prep_helpers import drive_source

    damaged = tmp_path / "tfds"
    shutil.copytree(tfds_dir, damaged)
    train = [path for path in damaged.rglob("*train.tfrecord*")]
    assert len(train) == 1
    data = train[0].read_bytes()
    train[0].write_bytes(data[:len(data) * 2 // 3])
    driven = drive_source("tfds", "tiny_shades", tfds_data_dir=str(damaged))
    assert driven.read == 9
    reasons = driven.reasons()
    assert set(reasons.values()) == {"unreadable"}
    assert 0 < len(reasons) < 6 and all(i.startswith("tiny_shades/train[") for i in reasons)
    assert len([i for i in driven.written if "train" in i]) == 6 - len(reasons)
    assert next(iter(driven.rejects.values()))[1].startswith(
        ("FailedPreconditionError: ", "DataLossError: "))
