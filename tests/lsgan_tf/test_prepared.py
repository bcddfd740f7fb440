"""Complete-or-refused (issue 13, defect 4): a prepared directory with a shard, stats.json or
class names missing is refused by every reader with a message naming what is missing."""
import os
import subprocess
import sys

import numpy as np
import pytest

from lsgan_tf import data as data_lib
from lsgan_tf import example_schema, prepared

from prepared import write_prepared

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def two_shards(tmp_path):
    rng = np.random.default_rng(0)
    return write_prepared(str(tmp_path / "data"), rng.integers(0, 256, (6, 28, 28, 1), np.uint8),
                          [0, 1, 2, 0, 1, 2], ["a", "b", "c"], shards=2)


def test_a_complete_directory_gives_every_shard_it_lists(two_shards):
    folder = example_schema.split_dir(two_shards, "train")
    assert prepared.check(two_shards, "train") == [
        os.path.join(folder, "data-00000-of-00002.tfrecord.gz"),
        os.path.join(folder, "data-00001-of-00002.tfrecord.gz")]
    images, labels = data_lib.load_split(two_shards, "train")
    assert len(images) == 6 and sorted(labels.tolist()) == [0, 0, 1, 1, 2, 2]


def test_a_deleted_shard_is_named_by_every_reader(two_shards):
    os.remove(os.path.join(example_schema.split_dir(two_shards, "train"),
                           "data-00001-of-00002.tfrecord.gz"))
    message = r"incomplete: 1 of the 2 train shards .* missing .*\(data-00001-of-00002"
    with pytest.raises(data_lib.DataError, match=message):
        data_lib.load_split(two_shards, "train")
    with pytest.raises(data_lib.DataError, match=message):
        data_lib.inspect(data_lib.TFRECORD, two_shards)
    assert len(prepared.check(two_shards, "eval")) == 2   # the other split is whole


def test_no_stats_json_means_the_preparation_did_not_finish(two_shards):
    os.remove(os.path.join(two_shards, example_schema.STATS_FILE))
    with pytest.raises(data_lib.DataError, match="stats.json, which `lsgan prep` writes last, "
                                                 "is missing"):
        data_lib.split_files(two_shards, "eval")


def test_damaged_stats_and_missing_class_names_are_refused(two_shards):
    os.remove(os.path.join(two_shards, example_schema.LABELS_FILE))
    with pytest.raises(data_lib.DataError, match="stats.json lists 3 classes, labels.txt holds 0"):
        prepared.check(two_shards, "train")
    stats = os.path.join(two_shards, example_schema.STATS_FILE)
    with open(stats, "w") as handle:
        handle.write('{"read": 12, "writ')
    with pytest.raises(data_lib.DataError, match="stats.json' is damaged"):
        prepared.check(two_shards, "train")


def test_cli_train_on_a_half_written_directory_exits_2_naming_the_shard(two_shards, tmp_path):
    os.remove(os.path.join(example_schema.split_dir(two_shards, "train"),
                           "data-00000-of-00002.tfrecord.gz"))
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "train", "--preset=digits", f"--data={two_shards}",
         "--steps=1", f"--out={tmp_path / 'run'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2, done.stderr[-2000:]
    last = done.stderr.strip().splitlines()[-1]
    assert "incomplete: 1 of the 2 train shards" in last and "data-00000-of-00002" in last
    assert not os.path.exists(tmp_path / "run" / "checkpoints")
