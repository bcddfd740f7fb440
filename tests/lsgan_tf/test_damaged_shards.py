"""Damaged prepared data (issue 24): every shard ``stats.json`` lists is checked before
training (present, not empty, gzip, a possible gzip trailer), ``stats.json``'s values are
bounded before use, and damage found while reading (a bit flip, a truncation) stops the run
with one line naming the shard and the record, never a ``DataLossError`` naming none."""
import io
import json
import os
import re

import numpy as np
import pytest

from lsgan_tf import example_schema, prepared
from lsgan_tf.prepared import DamagedData, DataError
from lsgan_tf.training import train

from damage import flip_middle, read, truncate, write
from helpers import tiny_digits
from prepared import write_prepared

RECORDS = 400  # random 28 x 28 images: two shards of ~170 KB (200 records) each
SHARD = "data-00001-of-00002.tfrecord.gz"


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    return write_prepared(str(tmp_path / "data"),
                          rng.integers(0, 256, (RECORDS, 28, 28, 1), np.uint8),
                          np.arange(RECORDS) % 3, ["a", "b", "c"], shards=2)


def shard(root, name=SHARD):
    return os.path.join(example_schema.split_dir(root, "train"), name)


def config_for(root, **overrides):
    return tiny_digits(steps=4, **{"data.source": "tfrecord", "data.path": root,
                                   "data.shuffle_buffer": str(2 * RECORDS), **overrides})


def refused(root, out, **overrides):
    with pytest.raises(DataError) as error:
        train(config_for(root, **overrides), out, stream=io.StringIO())
    message = str(error.value)
    assert "\n" not in message and SHARD in message and "lsgan prep" in message
    assert not os.path.exists(os.path.join(out, "saved_model"))
    return message


@pytest.mark.parametrize("damage, expected", [
    pytest.param(lambda path: write(path, b""), "is empty (0 bytes)", id="zero bytes"),
    pytest.param(lambda path: write(path, b"PK\x03\x04" + bytes(200)), "is not gzip",
                 id="a zip file"),
    pytest.param(lambda path: write(path, read(path)[:12]), "shorter than any gzip file",
                 id="12 bytes left"),
    pytest.param(lambda path: truncate(path, 1 / 3), "is truncated or damaged",
                 id="a third left"),
])
def test_a_damaged_shard_is_refused_before_training(data, tmp_path, damage, expected):
    damage(shard(data))
    with pytest.raises(DamagedData, match=re.escape(expected)):
        prepared.check(data, "train")
    message = refused(data, str(tmp_path / "run"))
    assert expected in message
    assert not os.path.exists(tmp_path / "run" / "checkpoints")  # refused before training


@pytest.mark.parametrize("cache_mb", ["0", "64"])  # decoded batch by batch / cached in memory
def test_a_bit_flip_inside_a_shard_stops_training_naming_the_shard_and_record(
        data, tmp_path, cache_mb):
    flip_middle(shard(data))
    prepared.check(data, "train")  # the cheap checks cannot see it
    message = refused(data, str(tmp_path / "run"), **{"data.cache_mb": cache_mb})
    assert "is damaged: reading stopped at record " in message


def test_the_scan_names_the_first_record_it_cannot_read(data):
    path = shard(data)
    assert prepared.find_damage([shard(data, "data-00000-of-00002.tfrecord.gz"), path]) is None
    truncate(path, 2 / 3)
    damage = prepared.find_damage([path])
    record = int(damage.record)
    assert damage.path == path and 0 < record < RECORDS // 2
    assert f"{SHARD} is damaged: reading stopped at record {record} " in str(damage)
    assert "truncated record at " in str(damage)  # TensorFlow's byte offset


@pytest.mark.parametrize("key, value, allowed", [
    ("shards", {"train": 10 ** 9, "eval": 2}, r"shards.train = 1000000000"),
    ("shards", {"train": "2", "eval": 2}, r"shards.train = '2'"),
    ("shards", {"train": True, "eval": 2}, r"shards.train = True"),
    ("shards", {"train": 2, "eval": -1}, r"shards.eval = -1"),
    ("written", {"train": 10 ** 30, "eval": 1}, r"written.train = 1000000000000000000000000000000"),
    ("written", [1, 2], r"written = \[1, 2\]"),
    ("classes", 2 ** 40, r"classes = 1099511627776"),
    ("classes", 2.5, r"classes = 2.5"),
])
def test_stats_json_values_are_bounded_before_use(data, key, value, allowed):
    path = os.path.join(data, example_schema.STATS_FILE)
    stats = json.loads(read(path))
    stats[key] = value
    write(path, json.dumps(stats).encode())
    with pytest.raises(DataError, match=allowed) as error:
        prepared.check(data, "train")
    assert "\n" not in str(error.value) and "stats.json" in str(error.value)
