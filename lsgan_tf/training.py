"""The one training loop: ``train.steps_per_loop`` steps of the GAN task per ``tf.function``
call, under a strategy.

Every entry point (``lsgan train``, the TFX Trainer's ``run_fn``, the benchmarks) calls
``train(config, out_dir)``. The loop owns the strategy, the step counter, checkpoints,
preemption, logging, samples, the best checkpoint and the export; the GAN itself (networks,
losses, optimisers, EMA, update scheme: one D and one G update per replica and step) is
``lsgan_tf.gan_task.GanTask``, which the loop runs on every replica and knows nothing more of.
Metrics come back to Python once per call (their mean over its steps).

Outputs under ``out_dir``: ``config.json`` (the resolved config), ``run.json`` (what it
resolved to on this machine: the precision ``auto`` chose, the strategy, replicas and workers,
TensorFlow's version; ``write_run_info``), ``checkpoints/`` (every
``train.checkpoint_every`` steps, the last ``keep_checkpoints`` kept; a new run in the same
folder resumes from its newest intact checkpoint, ``lsgan_tf.resume``, unless its config
differs from ``config.json`` in a key of ``config.FIXED_ON_RESUME``: then it stops before
writing anything), ``logs/`` (TensorBoard: the task's ``METRICS`` (every loss part, mean D(x)
and D(G(z))), step time, images/s, sample grids), ``samples/step_NNNNNN.png`` and
``samples/final.png`` (grids from fixed noise) and ``saved_model/`` (the exported generator,
see ``export``).
With ``eval.every`` > 0 (``lsgan_tf.best_checkpoint``) the generator is also scored every
``eval.every`` steps and at the last: ``checkpoints/best/`` holds the best step's checkpoint,
``best.json`` the scores, ``saved_model/`` is the best generator and ``saved_model_last/`` the
last one.
A step whose losses are not finite stops the run with ``TrainingDiverged``; nothing is saved
from it, so the latest checkpoint is the last good state.

Several workers (``train.strategy=multi_worker``, one process per worker with ``TF_CONFIG``):
only the chief (``strategy.worker_role``) writes ``config.json``, checkpoints, logs, samples and
the SavedModel; every other worker makes the same checkpoint saves and export (the strategy may
need every worker in them) into ``<out_dir>/workertemp_<task_id>`` and deletes it at once, as
TensorFlow's multi-worker guide does. Each worker's input pipeline makes its replicas' rows of
the global batch (``data.InputShard``). With ``eval.every`` > 0 only the chief scores; its
verdict reaches the others through one collective, so all make the same best-checkpoint saves.
A peer lost during training (killed, its machine gone) ends each remaining worker's ``train``
with ``peers.PeerLost``, naming the peer and the chief's last checkpoint (``lsgan train``: one
line, exit status 1); starting all workers again resumes from that checkpoint.

Preemption: SIGTERM (what Kubernetes and preemptible VMs send) while ``train`` runs in the main
thread makes the loop save a checkpoint at the end of the call it is in and raise
``Preempted``; ``lsgan train`` then exits with ``EXIT_PREEMPTED`` (143, 128 + SIGTERM) and the
same command resumes from that step. With several workers, the flag rides on each step's
all-reduce, so all workers stop after the same call (the one after the signal) and save
together. (So ``train.steps_per_loop`` bounds how long a stop takes: keep a call well inside
the grace period, Kubernetes' 30 s by default.)
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
import time
from typing import Dict, NamedTuple, Optional

import numpy as np
import tensorflow as tf

from lsgan_tf import best_checkpoint
from lsgan_tf import config as config_lib
from lsgan_tf import data as data_lib
from lsgan_tf import export, images, paths, peers
from lsgan_tf import precision as precision_lib
from lsgan_tf import resume
from lsgan_tf.errors import storage_failure
from lsgan_tf.gan_task import METRICS, GanTask
from lsgan_tf.models import GanModels
from lsgan_tf.strategy import make_strategy, worker_role

SAMPLE_SEED = 1234
PROGRESS_SECONDS = 10.0  # a progress line (and TensorBoard scalars) at least this often
EXIT_PREEMPTED = 143  # 128 + SIGTERM: what `lsgan train` and the Trainer exit with on Preempted
LAST_MODEL_DIR = "saved_model_last"  # the last generator, when saved_model/ is the best one


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite."""


class Preempted(RuntimeError):
    """SIGTERM stopped the run; a checkpoint at ``step`` was saved first (``checkpoint``)."""

    def __init__(self, step: int, checkpoint: str):
        self.step, self.checkpoint = step, checkpoint
        super().__init__(f"preempted (SIGTERM) at step {step}: checkpoint saved to {checkpoint}; "
                         f"run the same command again to resume from step {step}")


class TrainResult(NamedTuple):
    """Where a finished run left its outputs, and its last metrics. ``saved_model`` is the
    best generator with ``eval.every`` > 0 (then ``best_step``, ``best_score`` say which; None
    when no score was finite), the last one otherwise; ``saved_model_last`` the last one."""
    out_dir: str
    step: int
    saved_model: str
    samples: Optional[str]
    logs: str
    checkpoints: str
    metrics: Dict[str, float]
    chief: bool = True  # False on the other workers of a multi-worker run: they wrote nothing
    saved_model_last: Optional[str] = None
    best_step: Optional[int] = None
    best_score: Optional[float] = None


def resolve_for_data(config: config_lib.ExperimentConfig) -> config_lib.ExperimentConfig:
    """Adapts a conditional model's ``num_classes`` to the prepared data's ``labels.txt``."""
    if config.data.source != data_lib.TFRECORD or config.model.num_classes == 0:
        return config
    names = data_lib.inspect(config.data.source, config.data.path).class_names
    if names and len(names) != config.model.num_classes:
        print(f"[lsgan] data has {len(names)} classes (labels.txt): model.num_classes "
              f"{config.model.num_classes} -> {len(names)}", flush=True)
        model = dataclasses.replace(config.model, num_classes=len(names))
        config = dataclasses.replace(config, model=model)
    return config


def fixed_sample_inputs(config, models: GanModels, count: int = 100):
    """Noise (and labels cycling over the first 10 classes) for the sample grids."""
    noise = config.model.noise
    z = data_lib.sample_noise([count, noise.dim], noise.distribution, [SAMPLE_SEED, 0])
    if not models.conditional:
        return z
    rows = min(config.model.num_classes, 10)
    labels = tf.constant(np.arange(count) // max(1, count // rows) % rows, tf.int64)
    return [z, labels]


class GanTrainer:
    """The loop's side of one run: the strategy, the task (``task``, a ``gan_task.GanTask``)
    built in its scope, the step counter, the checkpoint and the compiled step."""

    def __init__(self, config: config_lib.ExperimentConfig, out_dir: str,
                 strategy: Optional[tf.distribute.Strategy] = None):
        self.config = config
        self.out_dir = out_dir
        self.strategy = strategy or make_strategy(config.train.strategy, config.train.tpu)
        self.role = worker_role(self.strategy)
        data_lib.InputShard(replicas=self.strategy.num_replicas_in_sync).rows_per_replica(
            config.train.batch_size)
        self.precision = precision_lib.resolve(config.train.precision, config.train.strategy)
        with self.strategy.scope():
            self.task = GanTask(config, self.precision)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            # The checkpoint's keys: the task's (``GanTask.trackables``) and ``step``
            # (``resume.STEP_KEY``).
            self.checkpoint = tf.train.Checkpoint(**self.task.trackables(), step=self.step)
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, os.path.join(out_dir, "checkpoints"),
            max_to_keep=config.train.keep_checkpoints)

    def restore(self, checkpoint: Optional[str] = None, stream=sys.stdout) -> int:
        """Restores ``checkpoint`` (a prefix ``resume.newest_intact`` verified; by default it
        is found here: the newest intact checkpoint of ``checkpoints/``, damaged newer ones
        moved aside and the state file repaired, see ``lsgan_tf.resume``); returns the step to
        start from, 0 when there is no checkpoint. Intact files that do not fit the models are
        ``resume.IncompatibleCheckpoint`` (one line).

        The learning rates are the config's, not the checkpoint's (Keras keeps them in the
        optimiser's variables): lowering them is how a diverged run is resumed."""
        if checkpoint is None:
            directory, keep = self.manager.directory, self.config.train.keep_checkpoints
            checkpoint = resume.newest_intact(directory, keep, self.role.chief, stream)
            # The manager read the state file before it may have been rebuilt.
            self.manager = tf.train.CheckpointManager(self.checkpoint, directory,
                                                      max_to_keep=keep)
        if checkpoint is None:
            return 0
        try:
            self.checkpoint.restore(checkpoint).assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as error:
            if storage_failure(error):
                raise
            raise resume.IncompatibleCheckpoint(checkpoint, error) from None
        self.task.set_learning_rates()
        return int(self.step.numpy())

    @property
    def worker_temp_dir(self) -> str:
        """Where a worker other than the chief writes what the strategy needs, then deletes."""
        return os.path.join(self.out_dir, f"workertemp_{self.role.task_id}")

    def save(self, step: int, manager: Optional[tf.train.CheckpointManager] = None) -> str:
        """Saves a checkpoint at ``step``: the chief with ``manager`` (default: the one of
        ``checkpoints/``; its path is returned), another worker into ``worker_temp_dir``,
        deleted at once."""
        manager = manager or self.manager
        if self.role.chief:
            return manager.save(checkpoint_number=step)
        temp = os.path.join(self.worker_temp_dir, "checkpoints")
        tf.train.CheckpointManager(self.checkpoint, temp, max_to_keep=1).save(
            checkpoint_number=step)
        paths.rmtree(self.worker_temp_dir)
        return os.path.join(manager.directory, f"ckpt-{step}")

    def dataset(self, start: int):
        """The distributed input from ``start``: each input pipeline makes its replicas' rows."""
        return self.strategy.distribute_datasets_from_function(
            lambda context: data_lib.training_dataset(
                self.config, self.task.models.output_activation, start,
                shard=data_lib.InputShard.of(context)))

    def _global_step(self, batch, stop):
        """One step on every replica: the replicas' metrics averaged (``stop``, 1 where this
        worker wants to stop, rides along: > 0 where any worker does), the task's
        ``after_step`` (the EMA), the step counted."""
        def replica_step(batch, stop):
            metrics = {**self.task.replica_step(batch, self.strategy.num_replicas_in_sync),
                       "stop": tf.identity(stop)}
            return tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.MEAN, metrics)

        # Reduced inside the replicas (a cross-replica reduce inside the tf.range loop of
        # ``make_loop_fn`` returns empty tensors under MirroredStrategy): any copy will do.
        per_replica = self.strategy.run(replica_step, args=(batch, stop))
        metrics = {k: self.strategy.experimental_local_results(v)[0]
                   for k, v in per_replica.items()}
        self.task.after_step()
        self.step.assign_add(1)
        return metrics

    def make_step_fn(self):
        """``step_fn(batch, stop=0.0)`` -> the step's reduced metrics (``METRICS`` and
        ``stop``), for one global batch given as a dict of tensors."""
        @tf.function
        def step_fn(batch, stop=tf.constant(0.0)):
            return self._global_step(batch, stop)
        return step_fn

    def make_loop_fn(self):
        """``loop_fn(iterator, count, stop)``: ``count`` steps (``train.steps_per_loop`` at
        most) in one ``tf.function`` call, a ``tf.range`` loop taking its batches from the
        distributed ``iterator``. Returns, reduced on the device: the mean of each of
        ``METRICS`` over the steps (not finite when any step's value was not) and ``stop``
        (> 0 when any worker asked to stop)."""
        @tf.function
        def loop_fn(iterator, count, stop):
            totals = {k: tf.constant(0.0) for k in METRICS + ("stop",)}
            for _ in tf.range(count):
                metrics = self._global_step(next(iterator), stop)
                totals = {k: totals[k] + metrics[k] for k in totals}
            return {k: v / tf.cast(count, tf.float32) for k, v in totals.items()}
        return loop_fn



class Progress:
    """Console progress: a line with losses, speed and ETA every ``log_every`` steps and at
    least every ``every_seconds`` of wall time (``due``), so short and long runs both show it."""

    def __init__(self, total: int, start: int, batch_size: int, stream=sys.stdout,
                 every_seconds: float = 10.0):
        self.total, self.start, self.batch_size, self.stream = total, start, batch_size, stream
        self.every_seconds = every_seconds
        self.t0 = self.t_last = time.time()
        self.last_step = start

    def due(self) -> bool:
        """Whether ``every_seconds`` have passed since the last line."""
        return time.time() - self.t_last >= self.every_seconds

    def update(self, step: int, metrics: Dict[str, float]) -> Dict[str, float]:
        now = time.time()
        steps = max(1, step - self.last_step)
        step_time = (now - self.t_last) / steps
        rate = self.batch_size / step_time if step_time > 0 else float("inf")
        eta = (self.total - step) * step_time
        self.t_last, self.last_step = now, step
        losses = " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
        print(f"[lsgan] step {step}/{self.total} ({100.0 * step / self.total:.0f}%) {losses} "
              f"| {rate:.0f} img/s | eta {eta:.0f}s", file=self.stream, flush=True)
        return {"step_time": step_time, "images_per_sec": rate}


def steps_in_call(step: int, train_cfg, eval_every: int = 0) -> int:
    """How many steps the call after ``step`` runs: ``train.steps_per_loop``, fewer where the
    next multiple of ``log_every``, ``sample_every``, ``checkpoint_every`` or ``eval_every``
    (``eval.every``; 0: none), or the last step, comes first (Python acts there)."""
    intervals = (train_cfg.log_every, train_cfg.sample_every, train_cfg.checkpoint_every)
    to_boundary = [every - step % every for every in intervals + (eval_every,) if every]
    return min(train_cfg.steps_per_loop, train_cfg.steps - step, *to_boundary)


def _check_finite(first: int, last: int, metrics: Dict[str, float], manager) -> None:
    """Raises ``TrainingDiverged`` when a metric of steps ``first``..``last`` is not finite."""
    bad = {k: v for k, v in metrics.items() if not np.isfinite(v)}
    if bad:
        where = f"step {last}" if first == last else f"steps {first}-{last}"
        checkpoint = manager.latest_checkpoint or "none (no checkpoint was written yet)"
        raise TrainingDiverged(
            f"training diverged at {where}: {bad} is not finite; stopped without saving. "
            f"Last good checkpoint: {checkpoint}. Lower the learning rates (--set optim.lr_d=..., "
            f"optim.lr_g=...) and run again in the same --out folder to resume from it.")


class SigtermWatch:
    """While entered in the main thread, SIGTERM sets ``received`` instead of ending the process
    (the previous handler comes back on exit); elsewhere signals cannot be caught, and
    ``received`` stays False."""

    def __init__(self):
        self.received = False
        self._previous = None
        self._installed = False

    def _handle(self, signum, frame):
        del signum, frame
        self.received = True

    def __enter__(self) -> "SigtermWatch":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            signal.signal(signal.SIGTERM, self._previous)


def _write_samples(trainer: GanTrainer, inputs, step: int, writer, name: str) -> Optional[str]:
    samples = trainer.task.export_generator(inputs, training=False)
    if trainer.task.models.output_activation == "linear":
        return None
    grid_images = images.to_uint8(samples.numpy(), trainer.task.models.output_activation)
    path = images.save_grid(grid_images, os.path.join(trainer.out_dir, "samples", name), ncol=10)
    with writer.as_default(step=step):
        tf.summary.image("samples", images.grid(grid_images, ncol=10)[None], max_outputs=1)
    return path


def check_resume(config: config_lib.ExperimentConfig, out_dir: str) -> None:
    """Refuses (``ConfigError``, one line) to resume in ``out_dir`` when its ``config.json`` is
    not a run's config (``resume.saved_config``: empty, not JSON, ...) or differs from
    ``config`` in a key that may not change on resume; writes nothing."""
    path = os.path.join(out_dir, "config.json")
    if not tf.io.gfile.exists(path):
        return
    conflicts = config_lib.resume_conflicts(resume.saved_config(path), config)
    if conflicts:
        raise config_lib.ConfigError(
            f"--out={out_dir} holds a run with another config ({'; '.join(conflicts)}): "
            f"resume it with its own settings (--config={path}), or start fresh with a new "
            f"--out (or delete {out_dir})")


# A run's outputs in its folder: what a fresh start moves aside (``resume``) before it writes.
RUN_INFO_FILE = "run.json"
RUN_FILES = ("config.json", RUN_INFO_FILE, "checkpoints", "logs", "samples", "saved_model", LAST_MODEL_DIR,
             best_checkpoint.RECORD_FILE)


def write_run_info(trainer: GanTrainer, path: str) -> None:
    """``run.json``: {"precision": the resolved ``train.precision`` (``auto`` -> ``bfloat16``
    or ``float32``), "strategy": the strategy's class, "replicas": replicas in sync, "workers":
    worker processes, "tensorflow": its version} (rewritten by every resume: the machine may
    differ)."""
    info = {"precision": trainer.precision, "strategy": type(trainer.strategy).__name__,
            "replicas": int(trainer.strategy.num_replicas_in_sync),
            "workers": int(trainer.role.workers), "tensorflow": tf.__version__}
    with tf.io.gfile.GFile(path, "w") as handle:
        handle.write(json.dumps(info, indent=2, sort_keys=True) + "\n")


def resume_point(config: config_lib.ExperimentConfig, out_dir: str, fresh: bool, chief: bool,
                 stream=sys.stdout) -> Optional[str]:
    """The checkpoint a run in ``out_dir`` starts from (None: step 0), decided before any model
    is built: with ``fresh`` none, the chief first moving the previous run's ``RUN_FILES`` into
    ``<out_dir>/previous-<time>/``; otherwise the run's ``config.json`` must allow the resume
    (``check_resume``) and it is the newest intact checkpoint (``resume.newest_intact``)."""
    if fresh:
        if chief:
            resume.set_aside_previous_run(out_dir, RUN_FILES, stream)
        return None
    check_resume(config, out_dir)
    return resume.newest_intact(os.path.join(out_dir, "checkpoints"),
                                config.train.keep_checkpoints, chief, stream)


def train(config: config_lib.ExperimentConfig, out_dir: str, stream=sys.stdout,
          export_dir: Optional[str] = None,
          score_fn: Optional[best_checkpoint.ScoreFn] = None,
          fresh: bool = False) -> TrainResult:
    """Trains ``config`` into ``out_dir`` (resuming from its newest intact checkpoint, see
    ``lsgan_tf.resume``; a folder that holds checkpoints of which none is intact is refused)
    and exports G to ``export_dir`` (default ``<out_dir>/saved_model``): the best generator
    with ``eval.every`` > 0, then the last one to ``<out_dir>/saved_model_last``. ``fresh``:
    start at step 0, the previous run's files moved first into ``<out_dir>/previous-<time>/``
    (nothing deleted). ``score_fn`` (generator, step) -> score replaces the chief's
    ``eval.select`` scoring (for tests)."""
    # First: MultiWorkerMirroredStrategy configures collective ops before TensorFlow runs any.
    strategy = make_strategy(config.train.strategy, config.train.tpu)
    config = resolve_for_data(config)
    resume_from = resume_point(config, out_dir, fresh, worker_role(strategy).chief, stream)
    every = config.eval.every
    # Before the trainer seeds Keras and builds its models: training an extractor seeds too.
    scorer = (best_checkpoint.SelectionScorer(config, stream)
              if every and score_fn is None and worker_role(strategy).chief else None)
    # Every worker has read config.json above; making the strategy's variables waits for all
    # workers, so the chief writes it only after that.
    trainer = GanTrainer(config, out_dir, strategy)
    chief = trainer.role.chief
    if chief:
        tf.io.gfile.makedirs(out_dir)
        config_lib.save(config, os.path.join(out_dir, "config.json"))
        write_run_info(trainer, os.path.join(out_dir, RUN_INFO_FILE))
    else:
        print(f"[lsgan] worker {trainer.role.task_id} of {trainer.role.workers}: the chief "
              f"writes the run's files to {out_dir}", file=stream, flush=True)
    start = trainer.restore(resume_from) if resume_from else 0
    total, train_cfg = config.train.steps, config.train
    if start:
        print(f"[lsgan] resuming from {resume_from} at step {start}", file=stream, flush=True)
    keeper = None
    if every:
        score_fn = score_fn or (scorer and scorer.bind(trainer.task.models.output_activation))
        keeper = best_checkpoint.BestKeeper(trainer, score_fn, start, stream)
    batches = iter(trainer.dataset(start))
    loop_fn = trainer.make_loop_fn()
    logs = os.path.join(out_dir, "logs")
    writer = tf.summary.create_file_writer(logs) if chief else tf.summary.create_noop_writer()
    sample_inputs = fixed_sample_inputs(config, trainer.task.models)
    progress = Progress(total, start, train_cfg.batch_size, stream, PROGRESS_SECONDS)
    metrics: Dict[str, float] = {}
    samples_path = None
    step = start
    with SigtermWatch() as sigterm:
        while step < total:
            count = steps_in_call(step, train_cfg, every)
            with peers.named_if_lost(step, trainer.manager.directory), \
                    data_lib.naming_damage(data_lib.prepared_root(config.data)):
                metrics = {k: float(v) for k, v in loop_fn(
                    batches, tf.constant(count), tf.constant(float(sigterm.received))).items()}
            first, step = step + 1, step + count
            # One process stops at once; several stop together, after the call whose
            # all-reduces carried the flag.
            stop = metrics.pop("stop") > 0 or (trainer.role.workers == 1 and sigterm.received)
            _check_finite(first, step, metrics, trainer.manager)
            if step % train_cfg.log_every == 0 or step == total or progress.due():
                timing = progress.update(step, metrics)
                with writer.as_default(step=step):
                    for key, value in {**metrics, **timing}.items():
                        tf.summary.scalar(key, value)
            if chief and step % train_cfg.sample_every == 0:
                _write_samples(trainer, sample_inputs, step, writer, f"step_{step:06d}.png")
            if keeper and keeper.due(step, total):
                keeper.evaluate(step, writer)
            if stop or step % train_cfg.checkpoint_every == 0 or step == total:
                checkpoint = trainer.save(step)
            if stop:
                writer.flush()
                raise Preempted(step, checkpoint)
    del batches  # stops the input pipeline's prefetch threads, which would slow the export
    final_dir = export_dir or os.path.join(out_dir, "saved_model")
    last_dir = os.path.join(out_dir, LAST_MODEL_DIR) if keeper else final_dir
    best_step = best_score = None
    if chief:
        samples_path = _write_samples(trainer, sample_inputs, total, writer, "final.png")
        writer.flush()
        export.export_generator(trainer.task.export_generator, config,
                                trainer.task.models.output_activation, last_dir)
        if keeper:
            keeper.export_best(final_dir)
            best_step, best_score = keeper.record.best_step, keeper.record.best_score
    else:
        export.export_generator(trainer.task.export_generator, config,
                                trainer.task.models.output_activation,
                                os.path.join(trainer.worker_temp_dir, "saved_model"))
        paths.rmtree(trainer.worker_temp_dir)
    return TrainResult(out_dir, total, final_dir, samples_path, logs,
                       trainer.manager.directory, metrics, chief, last_dir, best_step,
                       best_score)
