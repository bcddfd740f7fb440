"""Distributed faults of ``lsgan train --set train.strategy=multi_worker`` end in one line
(issue 24, class 4; ``lsgan_tf.peers``): a port of ``TF_CONFIG`` already in use, peers that
never come up (``LSGAN_PEER_TIMEOUT_S``), and a worker SIGKILLed mid-training, after which the
survivor names the lost peer and the chief's last checkpoint. The workers are ``lsgan``
processes on 127.0.0.1 (a fault must not start TensorFlow's server in the test process, and
before the fix two of them hung for an hour); the rendezvous and the naming of the lost peer
are also checked in process, on TensorFlow's own error texts."""
import os
import re
import signal
import socket
import threading
import time

import pytest
import tensorflow as tf

from lsgan_tf import peers
from lsgan_tf.errors import UsageError

from helpers import as_flags
from test_multi_worker import SETTINGS, free_ports, prepared_digits, tf_config
from test_preemption import Run

# TensorFlow 2.16's own C++ log records (its coordination service logs through absl, which
# TF_CPP_MIN_LOG_LEVEL does not reach) and their continuation lines: not lsgan's output.
CPP_RECORD = re.compile(r"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]")
CPP_PREAMBLE = "WARNING: All log messages before absl::InitializeLog() is called"
LOST = (r"lsgan train: lost worker (\d) \(127\.0\.0\.1:(\d+)\) at step (\d+); the chief's last "
        r"checkpoint is (\S+) \(step (\d+)\); start all workers again with the same command to "
        r"resume")


def train_args(out, data, extra=()):
    return ["train", "--preset=digits", f"--out={out}", *as_flags(
        [*SETTINGS, "data.source=tfrecord", f"data.path={data}", "train.strategy=multi_worker",
         *extra])]


def lsgan_lines(stderr):
    """stderr without TensorFlow's C++ log records (a record runs up to the next line that
    starts another record, lsgan's line, or the end)."""
    lines, in_record = [], False
    for line in stderr.splitlines():
        if CPP_RECORD.match(line) or line.startswith(CPP_PREAMBLE):
            in_record = True
        elif line.startswith("lsgan ") or not in_record:
            in_record = False
            lines.append(line)
    return lines


def finished(run, timeout):
    """(exit status, seconds) of ``run``; killed and failed after ``timeout`` s."""
    start = time.monotonic()
    try:
        status = run.wait(timeout=timeout)
    except Exception:  # noqa: BLE001 (subprocess.TimeoutExpired: the fault hung)
        run.kill()
        raise AssertionError(f"still running after {timeout} s:\n{run.stderr()[-3000:]}")
    return status, time.monotonic() - start


@pytest.fixture
def data(tmp_path):
    return prepared_digits(tmp_path / "data")


def test_a_port_in_use_is_one_line_before_tensorflow_starts(tmp_path, data):
    ports = free_ports(2)
    holder = socket.create_server(("127.0.0.1", ports[0]))  # another process's server
    try:
        run = Run(train_args(tmp_path / "run", data), tmp_path, "worker0",
                  env={"TF_CONFIG": tf_config(ports, 0)})
        status, _ = finished(run, timeout=240)
    finally:
        run.kill()
        holder.close()
    assert status == 2, run.stderr()[-3000:]
    assert run.stderr().strip().splitlines() == [
        f"lsgan train: TF_CONFIG gives this process (worker 0 (127.0.0.1:{ports[0]})) port "
        f"{ports[0]}, which it cannot listen on (Address already in use): another process "
        f"holds it (an earlier worker still running?); stop that process or give worker 0 a "
        f"free port in TF_CONFIG"]


def test_peers_that_never_come_up_are_named_after_the_timeout(tmp_path, data):
    ports = free_ports(2)
    run = Run(train_args(tmp_path / "run", data), tmp_path, "worker0",
              env={"TF_CONFIG": tf_config(ports, 0), peers.TIMEOUT_ENV: "3"})
    try:
        status, seconds = finished(run, timeout=240)
    finally:
        run.kill()
    print(f"\nworker 0 alone: stopped after {seconds:.1f} s (3 s of it waiting)")
    assert status == 2, run.stderr()[-3000:]
    assert run.stderr().strip().splitlines() == [
        f"lsgan train: worker 0 (127.0.0.1:{ports[0]}) waited 3 s for worker 1 "
        f"(127.0.0.1:{ports[1]}) of TF_CONFIG, which never answered; start the same command in "
        f"every worker, within LSGAN_PEER_TIMEOUT_S=3 s of each other, or fix TF_CONFIG's "
        f"addresses"]


@pytest.mark.slow
@pytest.mark.parametrize("victim", [1, 0], ids=["worker_killed", "chief_killed"])
def test_a_worker_killed_mid_training_leaves_one_line_naming_it(tmp_path, data, victim):
    out = tmp_path / "run"
    args = train_args(out, data, ["train.steps=100000", "train.log_every=1",
                                  "train.checkpoint_every=5"])
    ports = free_ports(2)
    runs = []
    try:
        runs = [Run(args, tmp_path, f"worker{i}", env={"TF_CONFIG": tf_config(ports, i)})
                for i in range(2)]
        survivor = runs[1 - victim]
        seen = survivor.wait_for_step(12)
        os.kill(runs[victim].process.pid, signal.SIGKILL)
        status, seconds = finished(survivor, timeout=120)
    finally:
        for run in runs:
            run.kill()
    print(f"\nsurvivor (worker {1 - victim}) stopped {seconds:.1f} s after worker {victim}'s "
          f"SIGKILL")
    stderr = survivor.stderr()
    assert status == peers.EXIT_PEER_LOST == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    (line,) = lsgan_lines(stderr)
    match = re.fullmatch(LOST, line)
    assert match, stderr[-3000:]
    task, port, step, checkpoint, saved = match.groups()
    assert (int(task), int(port)) == (victim, ports[victim])
    assert int(step) >= seen
    assert checkpoint == tf.train.latest_checkpoint(str(out / "checkpoints"))
    assert checkpoint == str(out / "checkpoints" / f"ckpt-{saved}")
    assert int(saved) % 5 == 0 and 10 <= int(saved) <= int(step)


# In process: the rendezvous, the timeout setting and the naming of a lost peer.

def cluster_of(ports, index):
    tasks = tuple(peers.Task("worker", i, f"127.0.0.1:{port}") for i, port in enumerate(ports))
    return peers.Cluster(tasks, tasks[index])


def test_workers_started_apart_meet_and_a_late_one_is_waited_for():
    """Each worker, once met, listens on its port as TensorFlow's server then does."""
    ports = free_ports(2)
    servers, errors = [], []

    def worker(index):
        try:
            peers.meet(cluster_of(ports, index), timeout_s=30)
            servers.append(socket.create_server(("127.0.0.1", ports[index])))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    first = threading.Thread(target=worker, args=(0,))
    start = time.monotonic()
    first.start()
    try:
        time.sleep(1.0)  # worker 1 starts a second later
        worker(1)
        first.join(timeout=30)
        assert not first.is_alive() and not errors, errors
        assert 1.0 <= time.monotonic() - start < 10 and len(servers) == 2
    finally:
        for server in servers:
            server.close()


def test_the_peer_timeout_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(peers.TIMEOUT_ENV, raising=False)
    assert peers.peer_timeout_s() == peers.PEER_TIMEOUT_S == 600
    monkeypatch.setenv(peers.TIMEOUT_ENV, "2.5")
    assert peers.peer_timeout_s() == 2.5
    for bad in ("0", "-1", "nan", "inf", "soon"):
        monkeypatch.setenv(peers.TIMEOUT_ENV, bad)
        with pytest.raises(UsageError, match=f"LSGAN_PEER_TIMEOUT_S='{bad}' is not a number of "
                                             "seconds > 0; unset it for the default 600 s"):
            peers.peer_timeout_s()


def test_a_bad_tf_config_is_one_line(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["127.0.0.1:1", "host"]}, '
                                    '"task": {"type": "worker", "index": 0}}')
    with pytest.raises(UsageError, match="worker 1 has the address 'host'; give every task a "
                                         "host:port"):
        peers.Cluster.from_environment()
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 2))
    with pytest.raises(UsageError, match="this process's task worker 2 is not in its cluster"):
        peers.Cluster.from_environment()
    monkeypatch.setenv("TF_CONFIG", tf_config([1], 0))
    assert peers.Cluster.from_environment() is None  # one task: nobody to meet


# TensorFlow's messages on the survivor, as measured after a SIGKILL of the other worker:
# a collective's RPC to the dead task reset, and the coordination service's heartbeat timeout.
RESET = ("Collective ops is aborted by: Connection reset by peer\nAdditional GRPC error "
         "information from remote target /job:worker/replica:0/task:1 while calling "
         "/tensorflow.WorkerService/RecvBuf:\n:{\"created\":\"@1796300085.601363056\","
         "\"description\":\"Error received from peer ipv4:127.0.0.1:{port}\"}")
HEARTBEAT = ("Collective ops is aborted by: Error reported from /job:worker/task:1: Task "
             "/job:worker/replica:0/task:1 heartbeat timeout. This indicates that the remote "
             "task has failed, got preempted, or crashed unexpectedly.")


@pytest.mark.parametrize("text", [RESET, HEARTBEAT], ids=["reset", "heartbeat"])
def test_the_lost_peer_is_the_one_tensorflow_names(text, monkeypatch, tmp_path):
    ports = free_ports(3)
    monkeypatch.setenv("TF_CONFIG", tf_config(ports, 0))
    checkpoints = tmp_path / "checkpoints"
    with pytest.raises(peers.PeerLost) as lost:
        with peers.named_if_lost(7, str(checkpoints)):
            raise tf.errors.UnavailableError(None, None, text.replace("{port}", str(ports[1])))
    assert str(lost.value) == (
        f"lost worker 1 (127.0.0.1:{ports[1]}) at step 7; the chief has saved no checkpoint in "
        f"{checkpoints} yet; start all workers again with the same command to train from the "
        f"start")


def test_a_lost_peer_unnamed_by_the_error_is_the_one_that_no_longer_answers(monkeypatch):
    ports = free_ports(3)
    cluster = cluster_of(ports, 0)
    with socket.create_server(("127.0.0.1", ports[2])):  # worker 2 is alive, worker 1 is not
        assert peers.lost_peers("Socket closed", cluster) == [cluster.tasks[1]]


def test_other_errors_pass_unchanged(monkeypatch, tmp_path):
    monkeypatch.setenv("TF_CONFIG", tf_config(free_ports(2), 0))
    with pytest.raises(tf.errors.DataLossError):
        with peers.named_if_lost(3, str(tmp_path)):
            raise tf.errors.DataLossError(None, None, "corrupted record at 12")
    monkeypatch.delenv("TF_CONFIG")
    with pytest.raises(tf.errors.UnavailableError):  # no cluster: not a peer's fault
        with peers.named_if_lost(3, str(tmp_path)):
            raise tf.errors.UnavailableError(None, None, "Socket closed")
