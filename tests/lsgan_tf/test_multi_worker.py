"""Multi-worker training as TensorFlow documents it: 2 ``lsgan train`` processes on loopback
ports with ``TF_CONFIG`` train together; only the chief writes the run's files, and the final
generator equals that of a one-process ``mirrored`` run over 2 logical CPUs on the same data
and seed. SIGTERM to one worker stops both with a checkpoint, and a rerun resumes; that test
runs the workers as processes (marker ``slow``) and as two containers of the project's image
on the host's network, TF_CONFIG naming 127.0.0.1 ports, as a Vertex custom job with 2 replicas
would run them (marker ``containers``, ``make test-containers``). The input pipelines
(``data.InputShard``) are checked in process, quickly."""
import json
import os
import re
import signal
import socket
import sys

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import data as data_lib
from lsgan_tf import example_schema
from lsgan_tf.config import ConfigError, apply_overrides
from lsgan_tf.presets import get_preset
from lsgan_tf.strategy import make_strategy
from lsgan_tf.training import EXIT_PREEMPTED

import docker_cli
from helpers import TINY_MODEL, as_flags
from prepared import write_prepared
from test_preemption import Run, checkpoint_state

STEPS = 20
SETTINGS = [*TINY_MODEL, "train.batch_size=8", "train.log_every=5", "train.sample_every=10",
            "train.checkpoint_every=10", f"train.steps={STEPS}", "train.seed=3",
            "train.precision=float32"]  # the comparisons below are float32 round-off
# Largest |difference| allowed between the 2-worker and the mirrored run's generator weights.
# Measured: 0.0 (bit-identical) on this machine's CPU; the bound leaves room for another
# all-reduce order (a float32 sum of 2 gradients can round differently).
TOLERANCE = 1e-6
MIRRORED = """
import sys
from lsgan_tf.strategy import split_cpu
split_cpu(2)
from lsgan_tf.config import resolve
from lsgan_tf.training import train
train(resolve("digits", overrides=sys.argv[2:], needs_data_path=True), sys.argv[1])
"""


def prepared_digits(root, shards=1, count=96):
    images, labels = data_lib.load_split("digits", "train", max_records=count)
    return write_prepared(str(root), images, labels, [str(d) for d in range(10)], shards=shards)


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def tf_config(ports, index):
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def generator_state(checkpoints):
    """G's weights in a checkpoint: its trainable variables (which Keras saves under its
    optimiser) and its batch-norm statistics."""
    return {k: v for k, v in checkpoint_state(checkpoints).items()
            if k.startswith(("generator/", "g_optimizer/_trainable_variables/"))}


@pytest.mark.slow
def test_two_workers_write_once_and_match_mirrored(tmp_path):
    data = prepared_digits(tmp_path / "data")  # 1 shard for 2 workers: sharded by record
    out, mirrored = tmp_path / "run", tmp_path / "mirrored"
    sets = [*SETTINGS, "data.source=tfrecord", f"data.path={data}"]
    ports = free_ports(2)
    runs = []
    try:
        for index in range(2):
            runs.append(Run(["train", "--preset=digits", f"--out={out}",
                             *as_flags([*sets, "train.strategy=multi_worker"])], tmp_path,
                            f"worker{index}", env={"TF_CONFIG": tf_config(ports, index)}))
        runs.append(Run(["-c", MIRRORED, str(mirrored), *sets, "train.strategy=mirrored"],
                        tmp_path, "mirrored", command=[sys.executable]))
        for run in runs:
            assert run.wait(timeout=600) == 0, run.stderr()[-3000:]
    finally:
        for run in runs:
            run.kill()
    chief, worker = runs[0], runs[1]
    assert "saved model" in chief.stdout()
    assert "worker 1 of 2: the chief writes the run's files" in worker.stdout()
    assert "saved model" not in worker.stdout()
    assert sorted(os.listdir(out)) == [".lsgan-output", "checkpoints", "config.json", "logs",
                                       "run.json", "run.lock", "samples", "saved_model"]
    run_info = json.loads((out / "run.json").read_text())
    assert (run_info["workers"], run_info["replicas"]) == (2, 2), run_info
    assert run_info["strategy"] == "CollectiveAllReduceStrategy", run_info  # TF's MWMS class
    assert sorted(os.listdir(out / "samples")) == ["final.png", "step_000010.png",
                                                   "step_000020.png"]
    events = os.listdir(out / "logs")
    assert len(events) == 1 and events[0].startswith("events.out.tfevents"), events
    steps = [event.step
             for event in tf.compat.v1.train.summary_iterator(str(out / "logs" / events[0]))
             if any(value.tag == "d_loss" for value in event.summary.value)]
    assert len(steps) == len(set(steps)) and {5, 10, 15, 20} <= set(steps), steps  # once each
    state = tf.train.get_checkpoint_state(str(out / "checkpoints"))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == ["ckpt-10", "ckpt-20"]
    assert {name.split(".")[0] for name in os.listdir(out / "checkpoints")} == {
        "checkpoint", "ckpt-10", "ckpt-20"}
    assert tf.saved_model.contains_saved_model(str(out / "saved_model"))

    together = generator_state(str(out / "checkpoints"))
    alone = generator_state(str(mirrored / "checkpoints"))
    assert together.keys() == alone.keys() and len(together) > 4
    difference = max(float(np.max(np.abs(together[k] - alone[k]))) for k in together)
    print(f"\nmax |2-worker - mirrored| over the generator's weights: {difference:.3g}")
    assert difference <= TOLERANCE
    initial = generator_state(str(mirrored / "checkpoints" / "ckpt-10"))
    assert any(not np.array_equal(initial[k], alone[k]) for k in alone)  # training moved G


def pipeline_rows(config, shard, steps=2):
    """The ``real`` rows each replica of ``shard``'s pipeline gets, per step."""
    dataset = data_lib.training_dataset(config, "sigmoid", shard=shard)
    elements = list(dataset.take(steps * shard.local_replicas))
    return [np.concatenate([e["real"].numpy() for e in elements[s * shard.local_replicas:
                                                                (s + 1) * shard.local_replicas]])
            for s in range(steps)], elements


def tfrecord_config(data):
    return apply_overrides(get_preset("digits"), [*SETTINGS, "data.source=tfrecord",
                                                  f"data.path={data}"])


def test_by_record_each_pipeline_makes_its_rows_of_the_global_batch(tmp_path):
    config = tfrecord_config(prepared_digits(tmp_path / "data"))
    (whole,), _ = pipeline_rows(config, data_lib.InputShard(), steps=1)
    assert whole.shape == (8, 28, 28, 1)
    parts = [pipeline_rows(config, data_lib.InputShard(2, i, 2), steps=1) for i in range(2)]
    np.testing.assert_array_equal(np.concatenate([rows[0] for rows, _ in parts]), whole)
    one_process, elements = pipeline_rows(config, data_lib.InputShard(1, 0, 2), steps=1)
    assert [e["real"].shape[0] for e in elements] == [4, 4]  # one element per replica
    np.testing.assert_array_equal(one_process[0], whole)
    z_whole = next(iter(data_lib.training_dataset(config, "sigmoid")))["z_d"].numpy()
    np.testing.assert_array_equal(parts[1][1][0]["z_d"].numpy(), z_whole[4:])


def test_by_file_when_every_pipeline_has_a_shard(tmp_path):
    root = prepared_digits(tmp_path / "data", shards=2, count=64)
    config = tfrecord_config(root)
    shard_images = []
    for path in data_lib.split_files(root, example_schema.TRAIN):
        shard_images.append({tf.io.decode_png(tf.io.parse_single_example(
            record, example_schema.feature_spec())["image"]).numpy().tobytes()
            for record in tf.data.TFRecordDataset(path, compression_type="GZIP")})
    assert not shard_images[0] & shard_images[1]
    for index in range(2):
        rows, _ = pipeline_rows(config, data_lib.InputShard(2, index, 2), steps=3)
        for batch in rows:
            assert batch.shape == (4, 28, 28, 1)
            for image in batch:
                assert np.round(image * 255).astype(np.uint8).tobytes() in shard_images[index]


def test_a_cluster_with_a_single_process_strategy_is_refused(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", tf_config([1, 2], 0))
    with pytest.raises(ConfigError, match="TF_CONFIG names 2 tasks.*train.strategy=multi_worker"):
        make_strategy("default")


def test_batch_not_divisible_by_the_replicas_is_refused():
    with pytest.raises(data_lib.DataError, match="train.batch_size=9 must be a multiple of the 2"):
        data_lib.InputShard(replicas=2).rows_per_replica(9)


class ProcessWorkers:
    """``lsgan`` workers as processes of this machine; SIGTERM goes to the process."""

    def __init__(self, log_dir):
        self.log_dir = log_dir

    def start(self, args, name, tf_config_json):
        return Run(args, self.log_dir, name, env={"TF_CONFIG": tf_config_json})

    def terminate(self, run):
        run.process.send_signal(signal.SIGTERM)


class ContainerWorkers(ProcessWorkers):
    """``lsgan`` workers as containers of the image on the host's network (``TF_CONFIG``
    passed in); SIGTERM goes to the container's main process, as Kubernetes sends it."""

    def __init__(self, log_dir, containers):
        super().__init__(log_dir)
        self.containers = containers

    def start(self, args, name, tf_config_json):
        command = self.containers.command(["lsgan"], env=["TF_CONFIG"])
        run = Run(args, self.log_dir, name, env={"TF_CONFIG": tf_config_json}, command=command)
        run.container = self.containers.names[-1]  # the name that command gave it
        return run

    def terminate(self, run):
        self.containers.signal(run.container, signal.SIGTERM)


@pytest.fixture(params=[pytest.param("process", marks=pytest.mark.slow),
                        pytest.param("container", marks=pytest.mark.containers)])
def workers(request, tmp_path):
    if request.param == "process":
        yield ProcessWorkers(tmp_path)
        return
    image = docker_cli.image_under_test()
    with docker_cli.Containers(image, mounts=[tmp_path], network="host") as containers:
        yield ContainerWorkers(tmp_path, containers)


def test_sigterm_to_one_worker_stops_both_at_one_step_and_they_resume_there(tmp_path, workers):
    data = prepared_digits(tmp_path / "data")
    out = tmp_path / "run"
    args = ["train", "--preset=digits", f"--out={out}", *as_flags(
        [*SETTINGS, "data.source=tfrecord", f"data.path={data}", "train.strategy=multi_worker",
         "train.steps=400", "train.log_every=1", "train.checkpoint_every=1000"])]
    runs = []
    try:
        ports = free_ports(2)
        runs = [workers.start(args, f"worker{i}", tf_config(ports, i)) for i in range(2)]
        runs[1].wait_for_step(3)
        workers.terminate(runs[1])  # the non-chief worker is preempted
        assert [run.wait(timeout=120) for run in runs] == [EXIT_PREEMPTED] * 2
        stopped = {int(re.search(r"preempted \(SIGTERM\) at step (\d+)", run.stderr()).group(1))
                   for run in runs}
        assert len(stopped) == 1, stopped
        step = stopped.pop()
        assert tf.train.latest_checkpoint(str(out / "checkpoints")).endswith(f"ckpt-{step}")
        assert sorted(os.listdir(out)) == [".lsgan-output", "checkpoints", "config.json",
                                           "logs", "run.json", "run.lock"]
        ports = free_ports(2)
        runs += [workers.start(args, f"again{i}", tf_config(ports, i)) for i in range(2)]
        for run in runs[2:]:
            run.wait_for_step(step + 1)
            assert f"at step {step}\n" in run.stdout()
            assert re.search(r"step (\d+)/", run.stdout()).group(1) == str(step + 1)
    finally:
        for run in runs:
            run.kill()
