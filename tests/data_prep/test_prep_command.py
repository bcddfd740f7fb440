"""``lsgan prep``: end to end as a subprocess, then ``lsgan train --data`` on what it made;
exit statuses and messages of the error paths in-process."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from data_prep import command
from data_prep.testdata import lsun_key, write_lmdb
from lsgan_tf import example_schema
from prep_helpers import IN_MEMORY, prep_in_process

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_cli_prep_end_to_end_then_train_on_it(tmp_path):
    out = tmp_path / "digits"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "prep", "--source=digits", f"--output={out}",
         "--max_records=300", "--", *IN_MEMORY],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "digits: 300 scikit-learn digits" in done.stdout
    assert f"lsgan prep: digits -> {out}" in done.stdout
    assert "read      300" in done.stdout and "classes   10" in done.stdout
    for path in (example_schema.split_dir(out, "train"), example_schema.split_dir(out, "eval"),
                 out / "labels.txt", out / "stats.json", out / "rejects"):
        assert os.path.exists(path), path

    from lsgan_tf import data
    from lsgan_tf.presets import get_preset
    from lsgan_tf.training import train

    info = data.inspect(data.TFRECORD, str(out))
    assert (info.image_size, info.channels, info.labeled) == (28, 1, True)
    assert info.class_names == tuple(str(d) for d in range(10))
    # What `lsgan train --preset=digits --data=OUT --steps=1` runs (commands/train.py).
    config = get_preset("digits")
    config = dataclasses.replace(
        config, data=dataclasses.replace(config.data, source=data.TFRECORD, path=str(out)),
        train=dataclasses.replace(config.train, steps=1))
    assert train(config, str(tmp_path / "run")).step == 1


def test_cli_prep_refuses_a_remote_lmdb_with_exit_2_before_any_download(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "prep", "--source=lsun",
         "--input=gs://bucket/x_lmdb", f"--output={out}", "--", *IN_MEMORY],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr[-3000:]
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("lsgan prep: lsun: gs://bucket/x_lmdb is not a local path"), message
    assert "copy the LMDB folder (data.mdb, lock.mdb) to a local disk or to a volume" in message
    assert not os.path.exists(out)


@pytest.fixture
def prep_main(capsys):
    """Runs ``command.main`` in-process with flags; returns (exit status, stdout, stderr)."""
    return prep_in_process(capsys)


def test_unknown_source_and_missing_input_exit_2_before_running(prep_main, tmp_path):
    status, _, err = prep_main("--source=nope", f"--output={tmp_path}")
    assert status == 2 and "known prep sources: digits, folder, hwdb, idx, lsun, tfds" in err
    status, _, err = prep_main("--source=lsun", f"--input={tmp_path}/no.lmdb",
                               f"--output={tmp_path}/out")
    assert status == 2 and "no LMDB at" in err
    status, _, err = prep_main("--source=hwdb", f"--output={tmp_path}/out")
    assert status == 2 and "--input is required" in err
    assert not os.path.exists(tmp_path / "out")


def test_nothing_usable_exits_1_and_an_existing_output_needs_overwrite(prep_main, tmp_path):
    lmdb_path = str(tmp_path / "broken_lmdb")
    write_lmdb(lmdb_path, {lsun_key(0): b"", lsun_key(1): b"\xff\xd8\xff\xe0 cut"})
    out = f"--output={tmp_path}/out"
    status, stdout, err = prep_main("--source=lsun", f"--input={lmdb_path}", out)
    assert status == 1 and "nothing usable was made" in err
    assert "rejected  2  (corrupt_image 1, empty 1)" in stdout

    status, _, err = prep_main("--source=lsun", f"--input={lmdb_path}", out)
    assert status == 2 and "already holds a prepared dataset" in err
    status, stdout, _ = prep_main("--source=digits", "--max_records=20", "--overwrite", out)
    assert status == 0 and "written   train" in stdout
    assert example_schema.read_labels(f"{tmp_path}/out") == [str(d) for d in range(10)]

    status, _, err = prep_main("--source=lsun", f"--input={tmp_path}/gone", "--overwrite", out)
    assert status == 2 and "no LMDB at" in err
    assert os.path.exists(tmp_path / "out" / example_schema.STATS_FILE)  # not deleted


def test_direct_runner_defaults_to_in_memory_and_keeps_a_given_mode():
    options = command.pipeline_options([]).get_all_options()
    assert options["direct_running_mode"] == "in_memory"
    kept = command.pipeline_options(["--direct_running_mode=multi_processing",
                                      "--direct_num_workers=2"]).get_all_options()
    assert kept["direct_running_mode"] == "multi_processing" and kept["direct_num_workers"] == 2
    other = command.pipeline_options(["--runner=FlinkRunner"]).get_all_options()
    assert other["direct_running_mode"] == "in_memory"  # Beam's default, untouched


def test_runner_dask_is_beams_dask_runner_and_an_unknown_runner_exits_2(prep_main, tmp_path):
    options = command.pipeline_options(
        ["--runner=dask", "--dask_client_address=127.0.0.1:8786"]).get_all_options()
    assert options["runner"] == "apache_beam.runners.dask.dask_runner.DaskRunner"
    assert (options["address"], options["npartitions"]) == ("127.0.0.1:8786", 64)
    assert command.pipeline_options(["--runner", "FlinkRunner"]).get_all_options()[
        "runner"] == "FlinkRunner"
    out = str(tmp_path / "out")
    status, _, err = prep_main("--source=digits", f"--output={out}",
                               beam_args=["--runner=Sparkle"])
    assert status == 2
    assert err.strip() == ("lsgan prep: unknown --runner=Sparkle; use one of DataflowRunner, "
                           "BundleBasedDirectRunner, DirectRunner, SwitchingDirectRunner, "
                           "InteractiveRunner, FlinkRunner, FnApiRunner, PortableRunner, "
                           "PrismRunner, SparkRunner, TestDirectRunner, TestDataflowRunner, "
                           "dask, or the dotted path of a PipelineRunner class")
    assert not os.path.exists(out)


def test_num_shards_are_dealt_to_the_splits_and_every_one_is_written(prep_main, tmp_path):
    from data_prep.write import shard_counts
    from lsgan_tf import prepared

    assert shard_counts(10, 0.1) == {"train": 9, "eval": 1}
    assert shard_counts(10, 0.0) == {"train": 10, "eval": 1}  # an empty split: one empty file
    out = str(tmp_path / "out")
    status, _, _ = prep_main("--source=digits", "--max_records=40", "--num_shards=4",
                             "--eval_fraction=0.5", f"--output={out}")
    assert status == 0
    with open(os.path.join(out, example_schema.STATS_FILE), encoding="utf-8") as handle:
        stats = json.load(handle)
    assert stats["shards"] == {"train": 2, "eval": 2, "rejects": 1}
    assert [os.path.basename(p) for p in prepared.check(out, "eval")] == [
        "data-00000-of-00002.tfrecord.gz", "data-00001-of-00002.tfrecord.gz"]
    assert sum(stats["written"].values()) == 40
    status, _, err = prep_main("--source=digits", "--num_shards=0", f"--output={out}2")
    assert (status, err) == (2, "lsgan prep: --num_shards must be at least 1, got 0\n")


def test_worker_threads_write_what_one_worker_writes(prep_main, tmp_path):
    """The default (a thread per core, here at least two) and ``in_memory``: the same records,
    rejects and stats from an LMDB of good, corrupt and empty values."""
    import numpy as np

    from data_prep.testdata import encode_image
    from prep_helpers import read_rejects, read_split

    rng = np.random.default_rng(0)
    values = {lsun_key(i): encode_image(rng.integers(0, 256, (40, 30, 3)), "JPEG")
              for i in range(12)}
    values.update({lsun_key(12): b"", lsun_key(13): b"\xff\xd8\xff\xe0 cut"})
    lmdb_path = str(tmp_path / "lmdb")
    write_lmdb(lmdb_path, values)
    made = {}
    for name, beam_args in (("threads", ["--direct_num_workers=2"]), ("one", IN_MEMORY)):
        out = str(tmp_path / name)
        status, _, _ = prep_main("--source=lsun", f"--input={lmdb_path}", "--image_size=16",
                                 "--num_shards=3", f"--output={out}", beam_args=beam_args)
        assert status == 0
        with open(os.path.join(out, example_schema.STATS_FILE), encoding="utf-8") as handle:
            stats = json.load(handle)
        made[name] = ({split: sorted((e["id"], e["image"].tobytes(), e["label"])
                                     for e in read_split(out, split))
                       for split in example_schema.SPLITS}, sorted(read_rejects(out)), stats)
    records, rejects, stats = made["one"]
    assert sum(len(split) for split in records.values()) == 12 and len(rejects) == 2
    assert stats["rejected"] == {"corrupt_image": 1, "empty": 1}
    assert made["threads"] == made["one"]
