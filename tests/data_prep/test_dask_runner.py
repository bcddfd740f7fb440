"""``lsgan prep -- --runner=dask``: on a dask.distributed cluster (2 worker processes on
loopback) the output is the DirectRunner's, record for record, rejects and skips included."""
from __future__ import annotations

import glob
import json
import os
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pytest

from data_prep.testdata import encode_image, gnt_sample, lsun_key, write_gnt, write_lmdb
from lsgan_tf import example_schema
from prep_helpers import read_rejects, solid

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster_address():
    """A LocalCluster of 2 worker processes on 127.0.0.1 (free ports, no dashboard); closed,
    and any of its processes still alive killed by pid, at the end."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                           host="127.0.0.1", scheduler_port=0, dashboard_address=None)
    pids = []
    try:
        with Client(cluster) as client:
            pids = list(client.run(os.getpid).values())
            pids += [nanny.process.process.pid for nanny in cluster.workers.values()
                     if nanny.process is not None and nanny.process.process is not None]
        yield cluster.scheduler_address
    finally:
        cluster.close()
        for pid in set(pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def prep(args, output: str, beam_args=()) -> float:
    """Runs ``lsgan prep ARGS --output=OUTPUT -- BEAM_ARGS`` as a user's shell does; returns
    its wall time in seconds."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", "prep", *args,
                           f"--output={output}", "--", *beam_args],
                          capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stdout + done.stderr[-4000:]
    return time.monotonic() - start


def raw_records(output: str, split: str):
    """The serialized tf.Examples of one split, sorted (the contract fixes their bytes)."""
    import tensorflow as tf

    files = sorted(glob.glob(example_schema.split_pattern(output, split)))
    return sorted(bytes(record.numpy()) for record in
                  tf.data.TFRecordDataset(files, compression_type="GZIP"))


def written(output: str):
    """Everything a run wrote, comparable across runners."""
    with open(os.path.join(output, example_schema.STATS_FILE), encoding="utf-8") as handle:
        stats = json.load(handle)
    return {"stats": stats, "labels": example_schema.read_labels(output),
            "rejects": sorted(read_rejects(output)),
            **{split: raw_records(output, split) for split in example_schema.SPLITS}}


@pytest.fixture(scope="module")
def hostile_inputs(tmp_path_factory):
    """True-format .gnt files (a size mismatch, an undecodable tag, a zero-sized and a cut-off
    sample, characters outside GB2312 level 1) and an LSUN LMDB (truncated, empty and
    non-image values among good JPEG / WebP / PNG ones)."""
    root = tmp_path_factory.mktemp("inputs")
    gnt = root / "hwdb"
    gnt.mkdir()
    characters = "啊阿埃挨哎唉哀皑癌蔼"
    for writer in range(3):
        write_gnt(str(gnt / f"{writer}.gnt"),
                  [(c, solid(6 + writer, 5, 20 * writer, channels=1)[:, :, 0])
                   for c in characters + "A齄"])
    mismatch = bytearray(gnt_sample("中", np.zeros((5, 5), np.uint8)))
    mismatch[6:8] = struct.pack("<H", 7)
    bad = [bytes(mismatch), gnt_sample(b"\xff\xff", np.zeros((4, 4), np.uint8)),
           gnt_sample("阿", np.zeros((0, 5), np.uint8)), gnt_sample("啊", np.ones((7, 7), np.uint8))]
    (gnt / "bad.gnt").write_bytes(b"".join(bad) + gnt_sample("中", np.zeros((6, 6), np.uint8))[:20])

    lmdb_path = str(root / "bedroom_train_lmdb")
    good = {lsun_key(i): encode_image(solid(40 + i, 60 - i, (10 * i, 40, 200 - i)), fmt)
            for i, fmt in enumerate(["JPEG", "WEBP", "PNG"] * 4)}
    broken = {lsun_key(50): encode_image(solid(48, 64, (1, 2, 3)), "JPEG")[:300],
              lsun_key(51): b"", lsun_key(52): b"not an image at all"}
    write_lmdb(lmdb_path, {**good, **broken})
    return {"hwdb": ["--source=hwdb", f"--input={gnt}", "--image_size=12",
                     "--charset=gb2312_level1"],
            "lsun": ["--source=lsun", f"--input={lmdb_path}", "--image_size=16"],
            "digits": ["--source=digits", "--max_records=600"]}


@pytest.mark.parametrize("source", ["digits", "hwdb", "lsun"])
def test_dask_cluster_writes_what_the_direct_runner_writes(source, hostile_inputs,
                                                           cluster_address, tmp_path, capsys):
    args = hostile_inputs[source]
    direct_s = prep(args, str(tmp_path / "direct"))
    dask_s = prep(args, str(tmp_path / "dask"),
                  ["--runner=dask", f"--dask_client_address={cluster_address}"])
    with capsys.disabled():
        print(f"\n{source}: DirectRunner {direct_s:.1f} s, DaskRunner (2 workers) {dask_s:.1f} s")

    direct, dask = written(str(tmp_path / "direct")), written(str(tmp_path / "dask"))
    for key in direct:
        assert dask[key] == direct[key], key
    stats = direct["stats"]
    assert stats["read"] == sum(stats["written"].values()) + sum(stats["rejected"].values())
    assert len(direct["train"]) + len(direct["eval"]) == sum(stats["written"].values())
    assert len(direct["rejects"]) == sum(stats["rejected"].values())
    if source == "hwdb":
        assert stats["rejected"] == {"size_mismatch": 1, "undecodable_tag": 1, "zero_size": 1,
                                     "truncated_sample": 1}
        assert stats["skipped"] == {"not_in_charset": 6}  # A and 齄 in each of 3 files
        assert direct["labels"] == list("啊阿埃挨哎唉哀皑癌蔼")
        assert sum(stats["written"].values()) == 31
    elif source == "lsun":
        assert stats["rejected"] == {"corrupt_image": 1, "empty": 1, "not_an_image": 1}
        assert sum(stats["written"].values()) == 12 and direct["labels"] == []
    else:
        assert sum(stats["written"].values()) == 600 and len(direct["labels"]) == 10
    assert direct["train"] and direct["eval"]
