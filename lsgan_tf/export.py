"""Generator SavedModel for TF Serving, and a client that samples from one.

Signatures (``<dir>`` is loadable by ``tf.saved_model.load`` and TF Serving's ``<base>/<version>/``):
  ``serving_default``: ``z`` float32 [n, z_dim] (and ``label`` int64 [n] when conditional)
      -> ``images`` uint8 [n, H, W, C]  (``points`` float32 [n, 2] for the 2-D ``mog8`` model)
  ``generate``: ``n`` int32 scalar, ``seed`` int64 scalar (and ``label`` int64 scalar, the
      class of all n samples) -> the same output, with z drawn from the model's noise prior.
A wrong z width, z that is not finite (NaN, inf), a label count that differs from n, a label
outside [0, num_classes), or n (or z's rows) outside [1, ``export.max_batch``] fails with an
InvalidArgumentError whose message says what was expected, before the generator runs.
``assets.extra/tf_serving_warmup_requests`` holds PredictionLog records for TF Serving's warmup.

``export_generator`` writes the model to ``<dir>.tmp-<unique>`` and moves it into place only
once it is whole, so a kill during export never leaves a half model at ``<dir>``.
"""
from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Optional

import numpy as np
import tensorflow as tf

from lsgan_tf import data as data_lib
from lsgan_tf import paths

if TYPE_CHECKING:  # only for the annotations: sampling from a SavedModel loads no Keras
    import keras

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")
SAVED_MODEL_PB = "saved_model.pb"


def _to_output(samples, output_activation: str):
    if output_activation == "sigmoid":
        return {"images": tf.cast(tf.round(tf.clip_by_value(samples, 0.0, 1.0) * 255.0), tf.uint8)}
    if output_activation == "tanh":
        scaled = (tf.clip_by_value(samples, -1.0, 1.0) + 1.0) * 127.5
        return {"images": tf.cast(tf.round(scaled), tf.uint8)}
    return {"points": tf.cast(samples, tf.float32)}


class GeneratorModule(tf.Module):
    """The exported generator with its serving signatures and its metadata as variables."""

    def __init__(self, generator: keras.Model, config, output_activation: str):
        super().__init__(name="lsgan_generator")
        self.generator = generator
        self.z_dim = tf.Variable(config.model.noise.dim, trainable=False, dtype=tf.int64)
        self.num_classes = tf.Variable(config.model.num_classes, trainable=False, dtype=tf.int64)
        self.output_kind = tf.Variable("points" if output_activation == "linear" else "images",
                                       trainable=False)
        self.noise_distribution = tf.Variable(config.model.noise.distribution, trainable=False)
        self.max_batch = tf.Variable(config.export.max_batch, trainable=False, dtype=tf.int64)
        self._max = config.export.max_batch
        self._activation = output_activation
        self._noise = config.model.noise
        self._zdim = config.model.noise.dim
        self._classes = config.model.num_classes

    def _checks(self, z, label):
        """Assertions on the inputs, as ops that the generator's inputs then depend on (a
        tf.function orders them only by data or control dependencies)."""
        checks = [tf.debugging.assert_equal(
            tf.shape(z)[1], self._zdim,
            message=f"z must be float32 [n, {self._zdim}] (the model's noise size)"),
                  self._check_count(tf.shape(z)[0], "the rows of z (n)"),
                  tf.debugging.assert_equal(tf.reduce_all(tf.math.is_finite(z)), True,
                                            message="z must be finite (no NaN or inf)")]
        if self._classes:
            checks += [
                tf.debugging.assert_equal(tf.size(label, out_type=tf.int32), tf.shape(z)[0],
                                          message="label must be int64 [n], one class id per z row"),
                tf.debugging.assert_greater_equal(label, tf.constant(0, tf.int64),
                                                  message=f"label must be in [0, {self._classes})"),
                tf.debugging.assert_less(label, tf.constant(self._classes, tf.int64),
                                         message=f"label must be in [0, {self._classes})")]
        return checks

    def run(self, z, label=None):
        with tf.control_dependencies(self._checks(z, label)):
            z = tf.identity(z)
            if self._classes:
                label = tf.identity(label)
        samples = self.generator([z, label] if self._classes else z, training=False)
        return _to_output(samples, self._activation)

    def _check_count(self, n, what: str):
        """1 <= n <= max_batch (the export option ``export.max_batch``)."""
        n = tf.cast(n, tf.int64)
        message = f"{what} must be in [1, {self._max}] (export.max_batch)"
        return tf.debugging.assert_equal(
            tf.logical_and(n >= 1, n <= self._max), True, message=message)

    def checked_n(self, n):
        """``n`` of the generate signature, after its bounds are checked."""
        with tf.control_dependencies([self._check_count(n, "n")]):
            return tf.identity(n)

    def noise(self, n, seed):
        return data_lib.sample_noise(tf.stack([n, self._zdim]), self._noise.distribution,
                                     tf.stack([seed, tf.constant(0, tf.int64)]))

    def signatures(self):
        """The two signatures as concrete functions, also kept on the module as ``serve`` and
        ``generate``. The generator is traced once, for ``serve``, which ``generate`` calls;
        ``tf.saved_model.save`` keeps concrete functions as they are (a ``tf.function`` on
        the module it would trace again)."""
        z_spec = tf.TensorSpec([None, None], tf.float32, name="z")
        n_spec = tf.TensorSpec([], tf.int32, name="n")
        seed_spec = tf.TensorSpec([], tf.int64, name="seed")
        if self._classes:
            serve = _trace(lambda z, label: self.run(z, label),
                           z_spec, tf.TensorSpec([None], tf.int64, name="label"))

            def generate_labelled(n, seed, label):
                n = self.checked_n(n)
                return serve(self.noise(n, seed), tf.fill([n], label))

            generate = _trace(generate_labelled, n_spec, seed_spec,
                              tf.TensorSpec([], tf.int64, name="label"))
        else:
            serve = _trace(lambda z: self.run(z), z_spec)
            generate = _trace(lambda n, seed: serve(self.noise(self.checked_n(n), seed)),
                              n_spec, seed_spec)
        self.serve, self.generate = serve, generate
        return {"serving_default": serve, "generate": generate}


def _trace(fn, *specs):
    """``fn`` traced once for ``specs``, without AutoGraph: the signatures have no Python
    control flow on tensors, and converting their code costs more than tracing it."""
    return tf.function(fn, autograph=False).get_concrete_function(*specs)


def warmup_requests(module: GeneratorModule, path: str, count: int = 2) -> str:
    """Writes PredictionLog records for both signatures (TF Serving replays them at load)."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    tf.io.gfile.makedirs(os.path.dirname(path))
    with tf.io.TFRecordWriter(path) as writer:
        z = np.zeros((count, module._zdim), np.float32)
        inputs = {"serving_default": {"z": tf.make_tensor_proto(z)},
                  "generate": {"n": tf.make_tensor_proto(np.int32(count)),
                               "seed": tf.make_tensor_proto(np.int64(0))}}
        if module._classes:
            inputs["serving_default"]["label"] = tf.make_tensor_proto(np.zeros(count, np.int64))
            inputs["generate"]["label"] = tf.make_tensor_proto(np.int64(0))
        for signature, tensors in inputs.items():
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(signature_name=signature))
            for key, proto in tensors.items():
                request.inputs[key].CopyFrom(proto)
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request))
            writer.write(log.SerializeToString())
    return path


def _move_into_place(temp: str, final: str) -> None:
    """Moves the finished folder ``temp`` to ``final`` (which does not exist). On a local disk,
    one rename (atomic). On other file systems (object stores, where a rename is a copy per
    file), file by file with ``saved_model.pb`` last, so that ``final`` holds a loadable
    SavedModel only once every other file is there; then ``temp`` is deleted."""
    if not paths.is_remote(final):
        paths.rename(temp, final)
        return
    files = []
    for folder, _, names in tf.io.gfile.walk(temp):
        paths.makedirs(os.path.join(final, os.path.relpath(folder, temp)))
        # exists: a listing by name prefix (TF's ram://) shows assets/.extra beside assets.extra/
        files += [os.path.join(folder, name) for name in names
                  if paths.exists(os.path.join(folder, name))]
    for source in sorted(files, key=lambda name: os.path.basename(name) == SAVED_MODEL_PB):
        paths.rename(source, os.path.join(final, os.path.relpath(source, temp)))
    try:
        paths.rmtree(temp)
    except tf.errors.NotFoundError:  # ram://: deleting the phantom assets/.extra; folder by folder
        for folder, _, _ in list(tf.io.gfile.walk(temp, topdown=False)):
            tf.io.gfile.remove(folder)


def export_generator(generator: keras.Model, config, output_activation: str, path: str) -> str:
    """Saves ``generator`` as a SavedModel at ``path`` with both signatures and warmup records.

    Atomic on a local disk: the model is written to ``<path>.tmp-<unique>`` and renamed to
    ``path`` when whole; a model already at ``path`` is first renamed to ``<path>.old-<unique>``
    and deleted after the swap. An error deletes the temporary folder; leftovers of a process
    killed during an export (``<path>.tmp-*``, ``<path>.old-*``) are deleted by the next export
    to ``path``. On other file systems see ``_move_into_place`` (the old model is deleted just
    before the move)."""
    final = path.rstrip("/")
    for stale in paths.glob(final + ".tmp-*") + paths.glob(final + ".old-*"):
        paths.rmtree(stale)
    replacing = paths.exists(final)
    unique = uuid.uuid4().hex[:12]
    temp = f"{final}.tmp-{unique}"
    try:
        module = GeneratorModule(generator, config, output_activation)
        tf.saved_model.save(module, temp, signatures=module.signatures())
        warmup_requests(module, os.path.join(temp, WARMUP_FILE))
        if replacing and not paths.is_remote(final):
            old = f"{final}.old-{unique}"
            paths.rename(final, old)
            paths.rename(temp, final)
            paths.rmtree(old)
            return path
        if replacing:
            paths.rmtree(final)
        _move_into_place(temp, final)
    except BaseException:
        paths.rmtree(temp)
        raise
    return path


class GeneratorClient:
    """Samples from an exported generator: ``sample(n, seed, labels=None)`` -> numpy array."""

    def __init__(self, saved_model_dir: str):
        if not tf.saved_model.contains_saved_model(saved_model_dir):
            raise FileNotFoundError(f"no SavedModel at {saved_model_dir!r}")
        self.path = saved_model_dir
        self.module = tf.saved_model.load(saved_model_dir)
        self.z_dim = int(self.module.z_dim.numpy())
        self.num_classes = int(self.module.num_classes.numpy())
        self.output_kind = self.module.output_kind.numpy().decode()
        self.noise_distribution = self.module.noise_distribution.numpy().decode()
        self.serving = self.module.signatures["serving_default"]
        self.max_batch = int(self.module.max_batch.numpy()) if hasattr(self.module, "max_batch") \
            else None

    def sample(self, n: int, seed: int, labels: Optional[np.ndarray] = None,
               batch_size: int = 500) -> np.ndarray:
        """n samples from noise drawn with ``seed`` (labels: int [n], required when conditional)."""
        if self.num_classes and labels is None:
            raise ValueError(f"this generator is conditional ({self.num_classes} classes): "
                             "pass labels")
        outputs = []
        batch_size = min(batch_size, self.max_batch or batch_size)
        for start in range(0, n, batch_size):
            count = min(batch_size, n - start)
            z = data_lib.sample_noise([count, self.z_dim], self.noise_distribution,
                                      [seed, start])
            kwargs = {"z": z}
            if self.num_classes:
                kwargs["label"] = tf.constant(np.asarray(labels[start:start + count]), tf.int64)
            outputs.append(self.serving(**kwargs)[self.output_kind].numpy())
        return np.concatenate(outputs)
