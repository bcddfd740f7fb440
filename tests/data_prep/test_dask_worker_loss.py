"""A dask worker SIGKILLed while ``lsgan prep -- --runner=dask`` runs (issue 24, class 4;
``data_prep.dask_faults``): its tasks run again on the workers left and the output is the
DirectRunner's, record for record; when dask gives up on a task instead
(``distributed.scheduler.allowed-failures=0``), nothing is published (no ``stats.json``) and
the command ends with one line and exit status 1. Each run has its own LocalCluster of 2
worker processes on 127.0.0.1, whose processes are killed by pid at the end; the line itself
is also checked in process."""
from __future__ import annotations

import contextlib
import glob
import os
import re
import signal
import subprocess
import sys
import time
import types

import pytest

from data_prep.dask_faults import worker_loss
from lsgan_tf import example_schema
from test_dask_runner import prep, written
DIGITS = ["--source=digits", "--max_records=600", "--num_shards=20"]


def any_time(output):
    return True


def writing(output):
    """Whether a shard of the output exists (``WritePrepared``'s last steps are running)."""
    return bool(glob.glob(example_schema.split_pattern(output, example_schema.TRAIN)))


def cluster_pids(cluster, client):
    """The pids of the cluster's worker processes and of their nannies."""
    pids = set()
    with contextlib.suppress(Exception):  # workers that are dead or restarting answer nothing
        pids.update(client.run(os.getpid).values())
    pids.update(nanny.process.process.pid for nanny in cluster.workers.values()
                if nanny.process is not None and nanny.process.process is not None)
    return pids


@contextlib.contextmanager
def local_cluster(allowed_failures: int):
    """(cluster, client) of 2 worker processes, each task run at most ``allowed_failures`` + 1
    times when workers die under it."""
    import dask
    from dask.distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                               host="127.0.0.1", scheduler_port=0, dashboard_address=None)
    client = Client(cluster)
    pids = cluster_pids(cluster, client)
    try:
        yield cluster, client
    finally:
        pids |= cluster_pids(cluster, client)  # a restarted worker has a new pid
        client.close()
        cluster.close()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def prep_killing_a_worker(args, output, cluster, client, when=any_time):
    """Runs ``lsgan prep ARGS --output=OUTPUT -- --runner=dask`` on ``cluster`` and SIGKILLs
    the first worker seen running one of its tasks once ``when(output)``; returns (exit
    status, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "prep", *args, f"--output={output}", "--",
         "--runner=dask", f"--dask_client_address={cluster.scheduler_address}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    pids = client.run(os.getpid)  # {worker address: pid}
    try:
        start, killed = time.monotonic(), None
        while killed is None and process.poll() is None and time.monotonic() - start < 300:
            busy = [address for address, keys in client.processing().items() if keys]
            if busy and when(output):
                killed, killed_at = pids[busy[0]], time.monotonic() - start
                os.kill(killed, signal.SIGKILL)
            time.sleep(0.02)
        assert killed and process.poll() is None, "no worker was killed while the prep ran"
        _, stderr = process.communicate(timeout=600)
        print(f"\nworker pid {killed} killed {killed_at:.1f} s into the run, which ended "
              f"{time.monotonic() - start:.1f} s in with status {process.returncode}")
        return process.returncode, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("when", [any_time, writing], ids=["reading", "writing"])
def test_a_killed_workers_tasks_run_again_and_the_output_is_the_direct_runners(tmp_path, when):
    prep(DIGITS, str(tmp_path / "direct"))
    with local_cluster(allowed_failures=3) as (cluster, client):  # dask's default
        status, stderr = prep_killing_a_worker(DIGITS, str(tmp_path / "dask"), cluster, client,
                                               when)
    assert status == 0, stderr[-3000:]
    direct, dask = written(str(tmp_path / "direct")), written(str(tmp_path / "dask"))
    for key in direct:
        assert dask[key] == direct[key], key
    assert sum(direct["stats"]["written"].values()) == 600


def test_when_dask_gives_up_on_a_task_nothing_is_published_and_one_line_says_so(tmp_path):
    output = tmp_path / "dask"
    with local_cluster(allowed_failures=0) as (cluster, client):
        status, stderr = prep_killing_a_worker(DIGITS, str(output), cluster, client)
    assert status == 1, stderr[-3000:]
    (line,) = stderr.strip().splitlines()
    assert re.fullmatch(
        rf"lsgan prep: dask gave up on a task after 1 worker\(s\) died running it \(the last: "
        rf"tcp://127\.0\.0\.1:\d+; distributed\.scheduler\.allowed-failures=0\); nothing was "
        rf"published: {re.escape(str(output))} has no stats\.json, so every reader refuses it\. "
        rf"See the workers' logs \(memory\?\), then run the same command again with "
        rf"--overwrite", line), line
    assert not (output / example_schema.STATS_FILE).exists()


def test_the_line_names_dask_giving_up_through_any_wrapper_and_nothing_else():
    from distributed.scheduler import KilledWorker

    worker = types.SimpleNamespace(address="tcp://10.0.0.7:4242")
    try:
        try:
            raise KilledWorker(("apply_dofn_to_bundle-0", 3), worker, 2)
        except KilledWorker as error:
            raise RuntimeError("the runner's wrapper") from error
    except RuntimeError as wrapped:
        line = worker_loss(wrapped, "gs://bucket/prepared")
    assert line == (
        "dask gave up on a task after 3 worker(s) died running it (the last: "
        "tcp://10.0.0.7:4242; distributed.scheduler.allowed-failures=2); nothing was published: "
        "gs://bucket/prepared has no stats.json, so every reader refuses it. See the workers' "
        "logs (memory?), then run the same command again with --overwrite")
    assert worker_loss(ValueError("a bad flag"), "gs://bucket/prepared") is None
