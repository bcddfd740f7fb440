"""The other workers of a multi-worker run (``TF_CONFIG``): met before TensorFlow starts its
server, and named when one is lost. Each fault ends ``lsgan train`` with one line.

``meet(cluster)`` runs before ``MultiWorkerMirroredStrategy`` starts this worker's gRPC server
(``strategy.make_strategy``):
  * this worker's own port (the one of its ``TF_CONFIG`` address; the server listens on every
    interface) must be free: another process holding it is ``PortInUse``;
  * while holding that port open (so that peers see this worker as up), it waits until every
    peer's address accepts a TCP connection, ``peer_timeout_s()`` at most: the
    ``LSGAN_PEER_TIMEOUT_S`` environment variable, else ``PEER_TIMEOUT_S`` (600 s: room for
    pods scheduled minutes apart). Peers that never answered are ``PeersMissing``.
Without it, TensorFlow's rendezvous waits for a missing peer up to an hour (measured: either
worker alone still waiting after 90 s, deaf to SIGTERM), and a port in use is an
``UnknownError: Could not start gRPC server`` traceback. Both are ``UsageError``s (one line,
exit status 2: nothing ran; fix ``TF_CONFIG`` or start the missing workers). A peer that
meets this worker and then dies before TensorFlow's rendezvous is still waited for by
TensorFlow.

``named_if_lost(step, checkpoint_dir)`` wraps a training call: a peer lost during it
(TensorFlow's ``UnavailableError`` and kin, ``PEER_FAULTS``, raised once the peer's connection
resets or its heartbeat times out: within about 10 s of a SIGKILL, measured) becomes
``PeerLost``, a ``RuntimeError`` (``lsgan train`` prints it as one line and exits with status
``EXIT_PEER_LOST`` = 1, a fault at run time; rerunning every worker resumes) naming the lost
task with its address, the step this worker reached and the chief's latest checkpoint in
``checkpoint_dir``. The lost task is the one TensorFlow's message names (``/job:worker/
replica:0/task:1`` or the ``ipv4:host:port`` it called), else the peers that no longer accept
a connection.
"""
from __future__ import annotations

import contextlib
import math
import os
import re
import socket
import time
from typing import Iterator, List, NamedTuple, Optional, Tuple

import tensorflow as tf

from lsgan_tf.cluster_role import TRAINING_JOBS, TfConfig, read_tf_config
from lsgan_tf.errors import UsageError

PEER_TIMEOUT_S = 600.0  # how long a worker waits for its peers when LSGAN_PEER_TIMEOUT_S is unset
TIMEOUT_ENV = "LSGAN_PEER_TIMEOUT_S"
EXIT_PEER_LOST = 1  # what `lsgan train` exits with on PeerLost (a run-time fault)
POLL_S = 0.25  # between two rounds of connection attempts
CONNECT_TIMEOUT_S = 1.0
PEER_FAULTS = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError,
               tf.errors.AbortedError, tf.errors.CancelledError)

_TASK_IN_TEXT = re.compile(r"/job:(\w+)/(?:replica:\d+/)?task:(\d+)")
_ADDRESS_IN_TEXT = re.compile(r"ipv[46]:\[?([0-9A-Za-z.:%-]+?)\]?:(\d+)")
_CHECKPOINT_STEP = re.compile(r"-(\d+)$")
_met = set()  # clusters this process has met (its own server holds its port afterwards)


class PortInUse(UsageError):
    """This worker's ``TF_CONFIG`` port is held by another process."""


class PeersMissing(UsageError):
    """Peers of ``TF_CONFIG`` did not answer within the peer timeout."""


class PeerLost(RuntimeError):
    """A peer went away during training; ``lost`` names it, ``step`` is where this worker
    was, ``checkpoint`` the chief's latest (None when it has saved none)."""

    def __init__(self, lost: List["Task"], step: int, checkpoint_dir: str,
                 checkpoint: Optional[str]):
        self.lost, self.step, self.checkpoint = lost, step, checkpoint
        names = ", ".join(task.label for task in lost)
        if checkpoint:
            number = _CHECKPOINT_STEP.search(checkpoint)
            at = f" (step {number.group(1)})" if number else ""
            saved = f"the chief's last checkpoint is {checkpoint}{at}"
            again = "to resume"
        else:
            saved = f"the chief has saved no checkpoint in {checkpoint_dir} yet"
            again = "to train from the start"
        super().__init__(f"lost {names} at step {step}; {saved}; start all workers again "
                         f"with the same command {again}")


class Task(NamedTuple):
    """One training task of ``TF_CONFIG``: its job, index and ``host:port`` address."""
    job: str
    index: int
    address: str

    @property
    def label(self) -> str:
        return f"{self.job} {self.index} ({self.address})"

    @property
    def host_port(self) -> Tuple[str, int]:
        host, _, port = self.address.rpartition(":")
        return host.strip("[]"), int(port)


class Cluster(NamedTuple):
    """The training tasks of ``TF_CONFIG`` and this process's (``me``)."""
    tasks: Tuple[Task, ...]
    me: Task

    @property
    def peers(self) -> List[Task]:
        return [task for task in self.tasks if task != self.me]

    @classmethod
    def from_environment(cls) -> Optional["Cluster"]:
        """The cluster ``TF_CONFIG`` describes; None without one of several training tasks.
        An address that is not ``host:port`` or a task missing from its cluster is a
        ``UsageError``."""
        spec = read_tf_config() or TfConfig({}, None, 0)
        try:
            tasks = tuple(Task(job, index, str(address)) for job in TRAINING_JOBS
                          for index, address in enumerate(spec.cluster.get(job) or ()))
        except TypeError:
            raise UsageError(f"TF_CONFIG is not a JSON object with 'cluster' and 'task': "
                             f"{os.environ['TF_CONFIG'][:80]!r}") from None
        me = (str(spec.task_type), spec.index)
        if len(tasks) < 2:
            return None
        for each in tasks:
            host, _, port = each.address.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise UsageError(f"TF_CONFIG: {each.job} {each.index} has the address "
                                 f"{each.address!r}; give every task a host:port")
        mine = [each for each in tasks if (each.job, each.index) == me]
        if not mine:
            raise UsageError(f"TF_CONFIG: this process's task {me[0]} {me[1]} is not in its "
                             f"cluster ({', '.join(t.label for t in tasks)})")
        return cls(tasks, mine[0])


def peer_timeout_s() -> float:
    """``LSGAN_PEER_TIMEOUT_S`` (seconds > 0), else ``PEER_TIMEOUT_S``."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return PEER_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(f"{TIMEOUT_ENV}={text!r} is not a number of seconds > 0; unset it "
                         f"for the default {PEER_TIMEOUT_S:g} s")
    return value


def _hold_port(me: Task) -> socket.socket:
    """A listening socket on ``me``'s port on every interface, as TensorFlow's server binds
    it (``PortInUse`` when another process has it)."""
    _, port = me.host_port
    dual = socket.has_dualstack_ipv6()
    try:
        return socket.create_server(("", port), family=socket.AF_INET6 if dual else
                                    socket.AF_INET, dualstack_ipv6=dual, backlog=128)
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise PortInUse(f"TF_CONFIG gives this process ({me.label}) port {port}, which it "
                        f"cannot listen on ({reason}): another process holds it (an earlier "
                        f"worker still running?); stop that process or give {me.job} "
                        f"{me.index} a free port in TF_CONFIG") from None


def _answers(task: Task) -> bool:
    """Whether ``task``'s address accepts a TCP connection (an unknown host does not)."""
    try:
        with socket.create_connection(task.host_port, timeout=CONNECT_TIMEOUT_S):
            return True
    except OSError:
        return False


def meet(cluster: Cluster, timeout_s: Optional[float] = None) -> None:
    """Holds this worker's port while every peer of ``cluster`` is tried until each has
    answered once (module docstring); ``PortInUse``, ``PeersMissing``. A cluster already met
    by this process returns at once."""
    if cluster in _met:
        return
    timeout_s = peer_timeout_s() if timeout_s is None else timeout_s
    deadline = time.monotonic() + timeout_s
    missing = cluster.peers
    with _hold_port(cluster.me):
        while missing:
            missing = [task for task in missing if not _answers(task)]
            if missing and time.monotonic() >= deadline:
                raise PeersMissing(
                    f"{cluster.me.label} waited {timeout_s:g} s for "
                    f"{', '.join(task.label for task in missing)} of TF_CONFIG, which never "
                    f"answered; start the same command in every worker, within "
                    f"{TIMEOUT_ENV}={timeout_s:g} s of each other, or fix TF_CONFIG's "
                    f"addresses")
            if missing:
                time.sleep(POLL_S)
    _met.add(cluster)


def lost_peers(text: str, cluster: Cluster) -> List[Task]:
    """The peers an error's ``text`` names (as a task or by the address TensorFlow called),
    else those that no longer accept a connection, else every peer."""
    named = {(job, int(index)) for job, index in _TASK_IN_TEXT.findall(text)}
    ports = {int(port) for _, port in _ADDRESS_IN_TEXT.findall(text)}
    peers = cluster.peers
    lost = [task for task in peers if (task.job, task.index) in named]
    lost = lost or [task for task in peers if task.host_port[1] in ports]
    return lost or [task for task in peers if not _answers(task)] or peers


@contextlib.contextmanager
def named_if_lost(step: int, checkpoint_dir: str) -> Iterator[None]:
    """Turns a ``PEER_FAULTS`` error of a multi-worker run into ``PeerLost`` (module
    docstring); any other error, or one outside a cluster, passes unchanged."""
    try:
        yield
    except PEER_FAULTS as error:
        cluster = Cluster.from_environment()
        if cluster is None:
            raise
        raise PeerLost(lost_peers(str(error), cluster), step, checkpoint_dir,
                       tf.train.latest_checkpoint(checkpoint_dir)) from error
