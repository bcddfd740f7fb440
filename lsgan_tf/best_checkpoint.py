"""Keeping a run's best checkpoint (``eval.every`` > 0), as StudioGAN's ``-best`` and mmagic's
best-checkpoint hook do: GAN runs often get worse late, so the exported model is the best one.

At every multiple of ``eval.every`` and at the last step, ``training.train`` calls
``BestKeeper.evaluate``:
  1. the chief scores the generator it would export (the EMA one when on) with a score
     function, by default ``SelectionScorer``: ``eval.select`` of ``eval.select_samples``
     samples from fixed noise against the real ``eval`` split (``train`` for a prepared folder
     without one) under ``eval.select_extractor``;
  2. whether that beats the best so far goes from the chief to every worker (one collective
     that all of them run at that step), so all make the same checkpoint saves;
  3. on an improvement, the whole training state is saved into ``<out>/checkpoints/best/``
     (one kept; another worker saves into its temp folder and deletes it, ``GanTrainer.save``);
  4. the chief prints ``[lsgan] eval step N: fd 12.3 (best 10.1 at step M)``, writes the
     TensorBoard scalar ``eval/<select>`` and replaces ``<out>/best.json``
     (``selection.BestRecord``) atomically: a temporary file renamed over it.
A resumed run reads ``best.json`` back (``BestRecord.resumed_at``); a fresh run (step 0) or a
record of another ``eval.select`` starts a new one. Damage is named, not trained past: a
``best.json`` that cannot be read is moved aside to ``best.json.damaged-<time>`` and a new
record starts; a best checkpoint that is not intact (``resume.damage``) is forgotten, its files
moved into ``checkpoints/best/damaged-<time>/``, and the best is chosen again from the next
score on (one line each). The best checkpoint is looked for in this run's
``checkpoints/best/``, so a run folder moved elsewhere (``previous-<time>/``) still finds it.
``export_best`` restores the best checkpoint's export generator into a new, undistributed copy
and exports that.

Scoring touches no random state of training (stateless fixed noise, inference only), so the
weights stay a function of (config, seed, step); ``SelectionScorer`` (whose extractor training
seeds Keras) is built before the trainer seeds and builds its models.
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys
from typing import Callable, Optional

import numpy as np
import tensorflow as tf

from lsgan_tf import data as data_lib
from lsgan_tf import example_schema, export, images, paths, prepared, resume
from lsgan_tf import precision as precision_lib
from lsgan_tf.config import ConfigError
from lsgan_tf.metrics.evaluate import sample_labels, score_samples, training_data
from lsgan_tf.metrics.extractors import default_extractor_name, get_extractor
from lsgan_tf.metrics.prdc import knn_radii
from lsgan_tf.models import build_models
from lsgan_tf.selection import BestRecord
from lsgan_tf.tf_error_text import reason

RECORD_FILE = "best.json"
BEST_DIR = os.path.join("checkpoints", "best")
SELECT_SEED = 4321  # the fixed noise of the in-training scores
MAX_REAL = 10000  # real records scored against, and extractor training records: as the
MAX_TRAIN_RECORDS = 20000  # evaluator's defaults, so both find the same cached extractor
PRDC_K = 5
BATCH = 500

ScoreFn = Callable[[object, int], float]  # (generator, step) -> score


def real_split(config):
    """(data name, split, images, labels): the real records the selection scores against."""
    tfrecord = config.data.source == data_lib.TFRECORD
    data = config.data.path if tfrecord else config.data.source
    split = example_schema.EVAL
    if tfrecord and not prepared.read_stats(data)["shards"].get(split):
        split = example_schema.TRAIN
    real, labels = data_lib.load_split(data, split, MAX_REAL, config.data.eval_fraction)
    return data, split, real, labels


class SelectionScorer:
    """``eval.select`` of a generator's samples from fixed noise against the real split. The
    extractor is built (trained once, then cached like the evaluator's) and the real
    features computed when this is made; a score that the data and extractor do not give is
    a ``ConfigError`` here, before training."""

    def __init__(self, config, stream=sys.stdout):
        evaluation = config.eval
        data, split, self.real, real_labels = real_split(config)
        name = (default_extractor_name(self.real, real_labels)
                if evaluation.select_extractor == "auto" else evaluation.select_extractor)
        options = {"path": evaluation.inception_path} if name == "inception" else {}
        self.extractor = get_extractor(name, training_data(data, MAX_TRAIN_RECORDS), None,
                                       **options)
        self.select, n = evaluation.select, evaluation.select_samples
        self.real_features = self.extractor.features(self.real)
        self.options = dict(real_radii=knn_radii(self.real_features, PRDC_K), prdc_k=PRDC_K)
        if self.real.ndim == 2:
            from lsgan_tf.builtin_data import MOG_STD, mog8_centres

            self.options["modes"] = (mog8_centres(), MOG_STD)
        self.labels = sample_labels(config.model.num_classes, real_labels, n)
        self.noise = data_lib.sample_noise([n, config.model.noise.dim],
                                           config.model.noise.distribution, [SELECT_SEED, 0])
        probe = score_samples(self.extractor, self.real, self.real[:PRDC_K + 1],
                              None if self.labels is None else self.labels[:PRDC_K + 1],
                              self.real_features, **self.options)
        if self.select not in probe:
            raise ConfigError(f"eval.select={self.select!r}: not scored for this data and the "
                              f"{name} extractor; scored: {', '.join(sorted(probe))}")
        print(f"[lsgan] selecting by {self.select} of {n} samples against {len(self.real)} "
              f"real {split} records ({name} features)", file=stream, flush=True)

    def samples(self, generator, output_activation: str) -> np.ndarray:
        """The generator's samples from the fixed noise, as the SavedModel serves them."""
        out = []
        for start in range(0, len(self.noise), BATCH):
            z = self.noise[start:start + BATCH]
            inputs = z if self.labels is None else [
                z, tf.constant(self.labels[start:start + BATCH], tf.int64)]
            out.append(np.asarray(generator(inputs, training=False), np.float32))
        samples = np.concatenate(out)
        return samples if output_activation == "linear" else images.to_uint8(samples,
                                                                             output_activation)

    def score(self, generator, output_activation: str) -> float:
        fake = self.samples(generator, output_activation)
        return float(score_samples(self.extractor, self.real, fake, self.labels,
                                   self.real_features, **self.options)[self.select])

    def bind(self, output_activation: str) -> ScoreFn:
        """The score function ``BestKeeper`` calls, for a model with ``output_activation``."""
        return lambda generator, step: self.score(generator, output_activation)


def read_record(path: str, select: str, start: int, stream=sys.stdout) -> BestRecord:
    """The record a run starting at ``start`` continues (see the module doc)."""
    if start == 0 or not tf.io.gfile.exists(path):
        return BestRecord(select)
    try:
        record = BestRecord.from_dict(json.loads(paths.read_text(path)))
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        moved = resume.unused_path(f"{path}.damaged-{resume.stamp()}")
        paths.rename(path, moved)
        print(f"[lsgan] {path} cannot be read ({type(error).__name__}: "
              f"{reason(error, 120)}): a new record starts (the damaged file was moved to "
              f"{moved})", file=stream, flush=True)
        return BestRecord(select)
    if record.select != select:
        print(f"[lsgan] {path} selected by {record.select}; now by {select}: a new record",
              file=stream, flush=True)
        return BestRecord(select)
    return record.resumed_at(start)


def checked_best(record: BestRecord, directory: str, stream=sys.stdout) -> BestRecord:
    """``record`` with its best checkpoint looked for in ``directory`` (this run's
    ``checkpoints/best/``), its state file naming it; when that checkpoint is not intact, the
    record without a best (its files moved aside, one line). See the module doc."""
    if record.best_checkpoint is None:
        resume.ensure_state(directory, [])
        return record
    prefix = os.path.join(directory, os.path.basename(record.best_checkpoint))
    why = resume.damage(prefix, record.best_step)
    if why is None:
        resume.ensure_state(directory, [record.best_step])
        return dataclasses.replace(record, best_checkpoint=prefix)
    files = resume.checkpoint_files(directory).get(record.best_step, [])
    moved = f" (its files were moved to {resume.set_aside_damaged(directory, files)})" \
        if files else ""
    resume.ensure_state(directory, [])
    print(f"[lsgan] the best checkpoint {prefix} (step {record.best_step}) is damaged ({why}): "
          f"forgotten, the best is chosen again from the next score{moved}",
          file=stream, flush=True)
    return dataclasses.replace(record, best_step=None, best_score=None, best_checkpoint=None)


def write_record(record: BestRecord, path: str) -> None:
    """``best.json``, replaced atomically (written to a temporary name, then renamed)."""
    temp = f"{path}.tmp"
    with tf.io.gfile.GFile(temp, "w") as handle:
        handle.write(json.dumps(record.to_dict(), indent=2) + "\n")
    tf.io.gfile.rename(temp, path, overwrite=True)


def _chief_decides(strategy: tf.distribute.Strategy, chief: bool) -> Callable[[bool], bool]:
    """``agree(flag)``: the chief's flag, on every worker (a sum over the replicas in which
    only the chief's hold 1 for True); every worker calls it at the same steps."""
    @tf.function
    def reduce_flag(flag):
        per_replica = strategy.run(lambda: tf.identity(flag))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

    return lambda flag: bool(reduce_flag(tf.constant(1.0 if chief and flag else 0.0)) > 0)


class BestKeeper:
    """The best checkpoint of one run of ``trainer`` (a ``training.GanTrainer``) from
    ``start``; ``score_fn`` runs on the chief only (others may pass None)."""

    def __init__(self, trainer, score_fn: Optional[ScoreFn], start: int, stream=sys.stdout):
        self.trainer, self.score_fn, self.stream = trainer, score_fn, stream
        self.every, self.select = trainer.config.eval.every, trainer.config.eval.select
        self.chief = trainer.role.chief
        self.path = os.path.join(trainer.out_dir, RECORD_FILE)
        directory = os.path.join(trainer.out_dir, BEST_DIR)
        self.record = checked_best(read_record(self.path, self.select, start, stream),
                                   directory, stream) if self.chief \
            else BestRecord(self.select)
        self.manager = tf.train.CheckpointManager(trainer.checkpoint, directory, max_to_keep=1)
        self.agree = _chief_decides(trainer.strategy, self.chief)

    def due(self, step: int, total: int) -> bool:
        return step % self.every == 0 or step == total

    def evaluate(self, step: int, writer) -> None:
        """Scores at ``step``, saves the best checkpoint when it improves, records it."""
        score = float(self.score_fn(self.trainer.task.export_generator, step)) if self.chief \
            else None
        improved = self.agree(self.chief and self.record.improves(score))
        checkpoint = self.trainer.save(step, self.manager) if improved else None
        if not self.chief:
            return
        self.record.add(step, score, checkpoint)
        write_record(self.record, self.path)
        record = self.record
        best = ("no finite score yet" if record.best_step is None else
                f"best {record.best_score:.4g} at step {record.best_step}")
        print(f"[lsgan] eval step {step}: {self.select} {score:.4g} ({best})",
              file=self.stream, flush=True)
        with writer.as_default(step=step):
            tf.summary.scalar(f"eval/{self.select}", score)

    def export_best(self, path: str) -> str:
        """Exports the best checkpoint's generator (the last checkpoint's when no score was
        finite) to ``path``, from a new copy outside the strategy; chief only."""
        trainer = self.trainer
        source = self.record.best_checkpoint or trainer.manager.latest_checkpoint
        with precision_lib.keras_policy(trainer.precision):
            generator = build_models(trainer.config.model).generator
        key = "generator" if trainer.task.ema is None else "ema_generator"
        tf.train.Checkpoint(**{key: generator}).restore(source) \
            .assert_existing_objects_matched().expect_partial()
        return export.export_generator(generator, trainer.config,
                                       trainer.task.models.output_activation, path)
