"""Images/s of one training step (D step + G step) of the dcgan networks, ours against the usual
idioms, in one run (issue 14).

    .venv/bin/python -m bench.train_throughput [--threads 1] [--warmup W] [--steps S]
        [--repeats 3] [--device auto|cpu|gpu] [--torch_python runs/torch-venv/bin/python]
    make bench-train        # the same, with the PyTorch rows when runs/torch-venv exists
    make bench-torch        # creates runs/torch-venv first (torch is no project dependency)

Networks: the ``dcgan`` preset's (64 x 64 x 3, 5x5 kernels, widths 64..512, batch norm,
LeakyReLU 0.2, U(-1, 1) noise of 100), least-squares loss, Adam 2e-4 beta1 0.5, batch 64;
``--image_size``, ``--width`` and ``--batch`` shrink them (the tests).

Rows (ids for ``--rows``):
  ours-default   ``GanTrainer(config, out_dir).make_step_fn()`` with the preset's own precision
  ours-float32, ours-bfloat16, ours-auto (and ours-float16 on a GPU): the same with
                 ``train.precision=...`` (the one equal to the preset's default is left out:
                 ours-default is it); "n/a" while the config has no such key
  ours-loop      ``GanTrainer.make_loop_fn()`` (where it exists): the ``--steps`` timed steps
                 in one ``tf.function`` call, as ``train.steps_per_loop=--steps`` runs them
  keras-fit      the same Keras networks in the ``fit()`` + custom ``train_step`` idiom (a
                 ``keras.Model`` subclass, ``compile``, ``fit`` on a ``tf.data`` dataset of the
                 in-memory batch), float32; timed between its batches with a callback
  eager          the same step as a plain Python function, no ``tf.function``, float32
  torch-float32, torch-bf16 (and torch-fp16 on CUDA): ``bench/torch_dcgan.py``, the same layers
                 in PyTorch eager (float32; ``torch.autocast`` bfloat16 / float16), run in a
                 worker process of ``--torch_python`` (default ``runs/torch-venv/bin/python``
                 where it exists); left out when there is none

Every row takes the same fixed batch of synthetic in-memory tensors (real images U(-1, 1), z_d
and z_g), so no input pipeline is timed; the step is GanTask's alternating update (D step on
D(x), D(G(z_d)); G step on D(G(z_g))). Rows are interleaved: ``--repeats`` rounds, each running
every row's ``--warmup`` untimed and ``--steps`` timed steps in turn (after one untraced step per
row before the first round); the table shows each row's median ms/step over the rounds.

FLOPs are counted analytically from the layer shapes (``step_flops``): the multiply-adds (x 2)
of the dense, conv and transposed-conv layers only (batch norm, activations, the loss and Adam
are elementwise and left out), forward and the backward a step needs: D step = G forward + D
forward on real and fake + D's weight and input gradients (no input gradient at D's first layer);
G step = G forward + D forward + D's input gradients (all layers) + G's weight and input
gradients (none at G's first layer); a weight or input gradient of a layer costs its forward.
A row's GFLOP/s is that count over its step time (work that a row does beyond it, e.g.
gradients that the traced graph prunes but an eager tape may compute, is not counted); utilisation is
that over the matmul peak of the row's precision (``--peak_size`` square matmuls in a
``tf.function``, and in PyTorch when it runs: the higher of the two).

``--threads N``: each process (this one and the PyTorch worker) is pinned with
``os.sched_setaffinity`` to the first N CPUs it may use and sizes its thread pools to N
(``tf.config.threading`` intra/inter op; ``torch.set_num_threads``).

Prints a Markdown table, then one line ``BENCH_JSON {...}``. Its last column, CPU ms/step,
is the process's CPU time (all threads) per timed step: on a machine that others share, a row
whose process waited for a CPU shows fewer images/s but about the same CPU ms/step. On a GPU the same command runs
unchanged: the float16 rows join, the peaks are the GPU's and PyTorch uses CUDA.
"""
from __future__ import annotations

import abc
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional, Sequence

from lsgan_tf.precision import cpu_flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TORCH_VENV_PYTHON = os.path.join(REPO, "runs", "torch-venv", "bin", "python")
TORCH_WORKER = "bench.torch_dcgan"  # run as `python -m bench.torch_dcgan` from the repository
PRESET = "dcgan"
BASELINE = "ours-default"
TORCH_BASELINE = "torch-bf16"
PEAK_KEYS = {"float32": "float32", "bfloat16": "bfloat16", "float16": "float16"}


# ----------------------------------------------------------------------------- FLOPs

def layer_flops(model) -> List[Dict]:
    """[{name, kind, flops}] of the dense / conv / transposed-conv layers of a Keras model, in
    the order of ``model.layers``; ``flops`` is the forward cost of one example: 2 x kernel
    size x output positions (conv), x input positions (transposed conv), x 1 (dense)."""
    import keras

    found = []
    for layer in _flat_layers(model):
        kernel = getattr(layer, "kernel", None)
        if kernel is None:
            continue
        size = 1
        for dim in kernel.shape:
            size *= int(dim)
        if isinstance(layer, keras.layers.Conv2DTranspose):
            kind, positions = "deconv", _spatial(layer.input.shape)
        elif isinstance(layer, keras.layers.Conv2D):
            kind, positions = "conv", _spatial(layer.output.shape)
        elif isinstance(layer, keras.layers.Dense):
            kind, positions = "dense", _spatial(layer.input.shape, dense=True)
        else:
            raise ValueError(f"no FLOP count for layer {layer.name} ({type(layer).__name__})")
        found.append({"name": layer.name, "kind": kind, "flops": 2 * size * positions})
    return found


def _flat_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _flat_layers(layer)
        else:
            yield layer


def _spatial(shape, dense: bool = False) -> int:
    """Positions a kernel is applied at: H x W of an NHWC shape; the leading non-batch dims of a
    dense layer's input (1 for [batch, features])."""
    dims = [int(d) for d in shape[1:-1]] if dense else [int(d) for d in shape[1:3]]
    total = 1
    for dim in dims:
        total *= dim
    return total


def step_flops(generator, discriminator, batch: int) -> Dict[str, int]:
    """The analytic FLOPs of one alternating step (module doc) for ``batch`` examples."""
    g_layers, d_layers = layer_flops(generator), layer_flops(discriminator)
    g, d = sum(l["flops"] for l in g_layers), sum(l["flops"] for l in d_layers)
    g1, d1 = g_layers[0]["flops"], d_layers[0]["flops"]
    d_step = g + 2 * d + 2 * (d + (d - d1))  # G fwd, D fwd x2, (dW + dX but first) x2
    g_step = g + d + d + g + (g - g1)        # G fwd, D fwd, D dX, G dW, G dX but first
    return {"g_forward": g * batch, "d_forward": d * batch, "d_step": d_step * batch,
            "g_step": g_step * batch, "step": (d_step + g_step) * batch}


# ----------------------------------------------------------------------------- set-up

def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.train_throughput",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="CPUs (first N of this process's affinity) and thread-pool size")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed steps per row and round (default 2 on CPU, 10 on GPU)")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per row and round (default 5 on CPU, 50 on GPU)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over the rows")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    parser.add_argument("--image_size", type=int, default=64, help="32, 64 or 128 (dcgan)")
    parser.add_argument("--width", type=int, default=64, help="g_width and d_width")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--peak_size", type=int, default=4096, help="n of the n x n matmuls")
    parser.add_argument("--rows", default="",
                        help="comma-separated row ids to run (default: all that apply)")
    parser.add_argument("--torch_python", default=None,
                        help="interpreter with torch for the PyTorch rows ('' or 'none': "
                             "none; default runs/torch-venv/bin/python where it exists)")
    return parser.parse_args(argv)


def pin_cpus(threads: int) -> List[int]:
    """Pins this process to the first ``threads`` CPUs it may use; returns them."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    allowed = sorted(os.sched_getaffinity(0))
    if threads > len(allowed):
        raise SystemExit(f"--threads {threads}: only {len(allowed)} CPUs are available "
                         f"({allowed})")
    cpus = allowed[:threads]
    os.sched_setaffinity(0, set(cpus))
    return cpus


def configure_tf(threads: int, device: str) -> List[str]:
    """Thread pools, GPU visibility and memory growth; returns notes on what could not be set
    (TensorFlow fixes them at its first op, e.g. in a test process)."""
    import tensorflow as tf

    notes = []
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        notes.append("TensorFlow was already initialised: its thread pools kept their sizes "
                     f"(intra {tf.config.threading.get_intra_op_parallelism_threads()}, "
                     f"inter {tf.config.threading.get_inter_op_parallelism_threads()})")
    try:
        gpus = tf.config.list_physical_devices("GPU")
        if device == "cpu":
            tf.config.set_visible_devices([], "GPU")
        else:
            for gpu in gpus:  # the PyTorch worker shares the GPU
                tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError as error:
        notes.append(f"GPU settings not applied: {error}")
    return notes


def on_gpu() -> bool:
    import tensorflow as tf
    return bool(tf.config.list_logical_devices("GPU"))


def machine_info() -> Dict:
    info = {"platform": platform.platform(), "python": platform.python_version(),
            "cpus_online": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
        for line in text.splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        flags = cpu_flags()
        info["cpu_flags"] = [f for f in ("avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16",
                                         "amx_tile", "amx_int8") if f in flags]
    except OSError:
        pass
    import keras
    import tensorflow as tf
    info["tensorflow"], info["keras"] = tf.__version__, keras.__version__
    info["onednn"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86 Linux)")
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(
            tf.config.list_physical_devices("GPU")[0])
        info["gpu"] = details.get("device_name", gpus[0].name)
    return info


def tf_matmul_peak(dtype_name: str, size: int, min_seconds: float = 0.5) -> float:
    """GFLOP/s of ``size`` x ``size`` matmuls in a ``tf.function`` (2 n^3 FLOPs each)."""
    import tensorflow as tf

    dtype = tf.as_dtype(dtype_name)
    a = tf.cast(tf.random.uniform((size, size)), dtype)
    b = tf.cast(tf.random.uniform((size, size)), dtype)
    matmul = tf.function(lambda x, y: tf.matmul(x, y))

    def timed(count):
        start = time.perf_counter()
        for _ in range(count):
            c = matmul(a, b)
        float(c[0, 0])
        return time.perf_counter() - start

    timed(1)
    once = max(timed(1), 1e-6)
    count = max(2, int(min_seconds / once))
    return 2.0 * size ** 3 * count / timed(count) / 1e9


def peak_key(resolved: str) -> str:
    """The peak a precision (a Keras policy name or a requested precision) is measured
    against: ``mixed_bfloat16`` -> ``bfloat16``; ``float32`` -> ``float32``."""
    text = resolved.lower()
    if "bfloat16" in text or "bf16" in text:
        return "bfloat16"
    if "float16" in text or "fp16" in text:
        return "float16"
    return "float32"


# ----------------------------------------------------------------------------- rows

def synthetic_batch(config, seed: int = 0) -> Dict:
    """The fixed in-memory batch every row trains on (``training_dataset``'s keys)."""
    import tensorflow as tf

    from lsgan_tf.data import sample_noise

    model, batch = config.model, config.train.batch_size
    shape = [batch, model.image_size, model.image_size, model.channels]
    z = [batch, model.noise.dim]
    return {"real": tf.random.stateless_uniform(shape, [seed, 0], -1.0, 1.0),
            "label": tf.fill([batch], tf.constant(-1, tf.int64)),
            "z_d": sample_noise(z, model.noise.distribution, [seed, 1]),
            "z_g": sample_noise(z, model.noise.distribution, [seed, 2])}


def _now():
    """(wall clock, this process's CPU time, all threads), in seconds."""
    return time.perf_counter(), time.process_time()


def _sync(value) -> float:
    return float(value.numpy() if hasattr(value, "numpy") else value)


class Row(abc.ABC):
    """One row of the table: ``prepare()`` builds it and runs one step; ``run(warmup, steps)``
    returns seconds per timed step."""
    label = ""
    precision = "float32"
    resolved = "float32"
    note = ""
    unavailable: Optional[str] = None

    def __init__(self, row_id: str):
        self.id = row_id
        self.rounds: List[float] = []      # seconds per step, one per round
        self.cpu_rounds: List[float] = []  # process CPU seconds / wall seconds, one per round
        self.cpu_share: Optional[float] = None

    def _per_step(self, mark, steps: int, end=None) -> float:
        """Seconds per step since ``mark`` (``_now()``); keeps the CPU share of the window."""
        end = end or _now()
        wall = end[0] - mark[0]
        self.cpu_share = (end[1] - mark[1]) / wall if wall > 0 else None
        return wall / steps

    def prepare(self) -> None:
        pass

    @abc.abstractmethod
    def run(self, warmup: int, steps: int) -> float:
        """Seconds per timed step."""


class _Float32Policy:
    """Builds under the float32 Keras policy and restores the previous one afterwards, so that a
    row that sets a mixed policy does not leak it into the next row's networks."""

    def __enter__(self):
        import keras
        self.previous = keras.mixed_precision.global_policy()
        keras.mixed_precision.set_global_policy("float32")

    def __exit__(self, *exc):
        import keras
        keras.mixed_precision.set_global_policy(self.previous)


class OursRow(Row):
    """``GanTrainer(config, out_dir).make_step_fn()``: the tf.function step of ``lsgan train``."""

    def __init__(self, row_id: str, base_config, precision: Optional[str], batch, work_dir):
        super().__init__(row_id)
        from lsgan_tf import config as config_lib

        self.batch, self.work_dir = batch, work_dir
        self.precision = precision or "default"
        self.label = f"ours {precision}" if precision else "ours default"
        self.config = (config_lib.apply_overrides(base_config, [f"train.precision={precision}"])
                       if precision else base_config)
        if not precision:
            self.precision = self.config.train.precision
            self.label = f"ours default ({self.precision})"

    def prepare(self) -> None:
        import keras

        from lsgan_tf.training import GanTrainer

        previous = keras.mixed_precision.global_policy()
        try:
            self.trainer = GanTrainer(self.config,
                                      tempfile.mkdtemp(prefix=f"{self.id}-", dir=self.work_dir))
            self.resolved = self.trainer.precision
            self.step_fn = self.trainer.make_step_fn()
            _sync(self.step_fn(self.batch)["d_loss"])  # traces while the trainer's policy holds
        finally:
            keras.mixed_precision.set_global_policy(previous)
        self.note = (self.note + "; " if self.note else "") + (
            "make_step_fn: one tf.function call per step")

    def run(self, warmup: int, steps: int) -> float:
        for _ in range(warmup):
            metrics = self.step_fn(self.batch)
        if warmup:
            _sync(metrics["d_loss"])
        mark = _now()
        for _ in range(steps):
            metrics = self.step_fn(self.batch)
        _sync(metrics["d_loss"])
        return self._per_step(mark, steps)


class LoopRow(OursRow):
    """``GanTrainer.make_loop_fn()``: ``--steps`` steps in one ``tf.function`` call (a
    ``tf.range`` loop drawing the batch from a ``tf.data`` iterator), as ``lsgan train`` runs
    with ``train.steps_per_loop`` = ``--steps``; the preset's precision."""

    def __init__(self, row_id, base_config, batch, work_dir):
        super().__init__(row_id, base_config, None, batch, work_dir)
        self.label = self.label.replace("ours default", "ours loop")

    def prepare(self) -> None:
        import keras
        import tensorflow as tf

        from lsgan_tf.training import GanTrainer

        previous = keras.mixed_precision.global_policy()
        try:
            self.trainer = GanTrainer(self.config,
                                      tempfile.mkdtemp(prefix=f"{self.id}-", dir=self.work_dir))
            self.resolved = self.trainer.precision
            self.loop_fn = self.trainer.make_loop_fn()
            self.iterator = iter(tf.data.Dataset.from_tensors(self.batch).repeat())
            self._call(1)
        finally:
            keras.mixed_precision.set_global_policy(previous)
        self.note = ("make_loop_fn: the timed steps in one call, batches from "
                     "tf.data.Dataset.from_tensors(batch).repeat()")

    def _call(self, count: int) -> None:
        import tensorflow as tf
        _sync(self.loop_fn(self.iterator, tf.constant(count), tf.constant(0.0))["d_loss"])

    def run(self, warmup: int, steps: int) -> float:
        if warmup:
            self._call(warmup)
        mark = _now()
        self._call(steps)
        return self._per_step(mark, steps)


def _networks(config):
    """(generator, discriminator, d_opt, g_opt, loss_fn) of ``config``, float32, fresh (for
    keras-fit and eager)."""
    import keras

    from lsgan_tf.losses import get_loss
    from lsgan_tf.models import build_models
    from lsgan_tf.gan_task import make_optimizer

    keras.utils.set_random_seed(config.train.seed)
    with _Float32Policy():
        models = build_models(config.model)
        d_opt = make_optimizer(config.optim, config.optim.lr_d)
        g_opt = make_optimizer(config.optim, config.optim.lr_g)
        d_opt.build(models.discriminator.trainable_variables)
        g_opt.build(models.generator.trainable_variables)
    return models.generator, models.discriminator, d_opt, g_opt, get_loss(config.loss)


def gan_step(generator, discriminator, d_opt, g_opt, loss_fn, batch) -> Dict:
    """GanTask's alternating step on one device, as code written without it would be."""
    import tensorflow as tf

    real = batch["real"]
    with tf.GradientTape() as tape:
        fake = generator(batch["z_d"], training=True)
        d_real = discriminator(real, training=True)
        d_fake = discriminator(fake, training=True)
        d_loss = loss_fn(d_real, d_fake).d_loss
    grads = tape.gradient(d_loss, discriminator.trainable_variables)
    d_opt.apply_gradients(zip(grads, discriminator.trainable_variables))
    with tf.GradientTape() as tape:
        fake = generator(batch["z_g"], training=True)
        d_fake_g = discriminator(fake, training=True)
        g_loss = loss_fn(tf.stop_gradient(d_real), d_fake_g).g_loss
    grads = tape.gradient(g_loss, generator.trainable_variables)
    g_opt.apply_gradients(zip(grads, generator.trainable_variables))
    return {"d_loss": d_loss, "g_loss": g_loss}


class EagerRow(Row):
    label = "plain eager loop"
    note = "gan_step without tf.function"

    def __init__(self, row_id, config, batch):
        super().__init__(row_id)
        self.config, self.batch = config, batch

    def prepare(self) -> None:
        self.parts = _networks(self.config)
        _sync(gan_step(*self.parts, self.batch)["d_loss"])

    def run(self, warmup: int, steps: int) -> float:
        for _ in range(warmup):
            metrics = gan_step(*self.parts, self.batch)
        mark = _now()
        for _ in range(steps):
            metrics = gan_step(*self.parts, self.batch)
        _sync(metrics["d_loss"])
        return self._per_step(mark, steps)


def make_fit_model(generator, discriminator, d_opt, g_opt, loss_fn):
    """The Keras ``fit()`` idiom: a ``keras.Model`` whose ``train_step`` does the D and G
    updates (as in Keras' DCGAN example), compiled with the two optimisers."""
    import keras

    class FitGan(keras.Model):
        def __init__(self):
            super().__init__()
            self.generator, self.discriminator = generator, discriminator

        def compile(self, d_optimizer, g_optimizer, **kwargs):
            super().compile(**kwargs)
            self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

        def train_step(self, data):
            return gan_step(self.generator, self.discriminator, self.d_optimizer,
                            self.g_optimizer, loss_fn, data)

        def call(self, z, training=False):
            return self.generator(z, training=training)

    model = FitGan()
    model.compile(d_optimizer=d_opt, g_optimizer=g_opt)
    return model


class FitRow(Row):
    label = "Keras fit() + train_step"

    def __init__(self, row_id, config, batch):
        super().__init__(row_id)
        self.config, self.batch = config, batch

    def prepare(self) -> None:
        import keras
        import tensorflow as tf

        with _Float32Policy():
            self.model = make_fit_model(*_networks(self.config))
        self.dataset = tf.data.Dataset.from_tensors(self.batch).repeat()
        times = self.times = []

        class Clock(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                times.append(_now())
        self.clock = Clock()
        self._fit(1)
        jit = getattr(self.model, "jit_compile", None)
        self.note = f"jit_compile={jit} (compile's 'auto'); timed between batch ends"

    def _fit(self, steps: int) -> None:
        del self.times[:]
        self.model.fit(self.dataset, epochs=1, steps_per_epoch=steps, verbose=0,
                       callbacks=[self.clock])

    def run(self, warmup: int, steps: int) -> float:
        # One fit() call per round; the timed window runs from the end of the last warmup
        # batch (or of the first batch, without warm-up) to the end of the last batch.
        lead = max(warmup, 1)
        self._fit(lead + steps)
        return self._per_step(self.times[lead - 1], steps, end=self.times[-1])


class TorchWorker:
    """The PyTorch worker process (``bench/torch_dcgan.py``), one JSON line per command."""

    def __init__(self, python: str, config, threads: int, cpus: Sequence[int], device: str):
        model, optim = config.model, config.optim
        args = [python, "-m", TORCH_WORKER, "--image_size", str(model.image_size),
                "--channels", str(model.channels), "--z_dim", str(model.noise.dim),
                "--noise", model.noise.distribution, "--g_width", str(model.g_width),
                "--d_width", str(model.d_width), "--g_batchnorm", str(int(model.g_batchnorm)),
                "--d_batchnorm", str(int(model.d_batchnorm)),
                "--batch", str(config.train.batch_size), "--lr_d", repr(optim.lr_d),
                "--lr_g", repr(optim.lr_g), "--beta1", repr(optim.beta1),
                "--beta2", repr(optim.beta2), "--epsilon", repr(optim.epsilon),
                "--threads", str(threads), "--cpus", ",".join(str(c) for c in cpus),
                "--device", device, "--seed", str(config.train.seed)]
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
                   PYTHONWARNINGS="ignore")
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.stderr, text=True, env=env, cwd=REPO)
        self.hello = self._read()

    def _read(self) -> Dict:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            self.stderr.seek(0)
            tail = self.stderr.read()[-2000:]
            raise RuntimeError(f"the PyTorch worker exited ({self.process.returncode}): {tail}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"PyTorch worker: {reply['error']}")
        return reply

    def ask(self, command: Dict) -> Dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        try:
            self.ask_quit()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.stderr.close()

    def ask_quit(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
            self.process.stdin.flush()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass


class TorchRow(Row):
    LABELS = {"torch-float32": ("PyTorch eager", "float32"),
              "torch-bf16": ("PyTorch autocast", "bfloat16"),
              "torch-fp16": ("PyTorch autocast + GradScaler", "float16")}

    def __init__(self, row_id, worker: TorchWorker):
        super().__init__(row_id)
        self.worker = worker
        self.label, self.precision = self.LABELS[row_id]
        self.resolved = self.precision
        self.note = f"torch {worker.hello['torch']} on {worker.hello['device']}"

    def prepare(self) -> None:
        self.worker.ask({"cmd": "run", "row": self.id, "warmup": 1, "steps": 1})

    def run(self, warmup: int, steps: int) -> float:
        reply = self.worker.ask({"cmd": "run", "row": self.id, "warmup": warmup,
                                 "steps": steps})
        self.cpu_share = reply.get("cpu_share")
        return reply["seconds"]


# ----------------------------------------------------------------------------- report

def _fmt(value, spec: str, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def _median(values):
    return statistics.median(values) if values else None


def summarise(rows: List[Row], flops: int, batch: int, peaks: Dict[str, float]) -> List[Dict]:
    results = []
    for row in rows:
        entry = {"id": row.id, "label": row.label, "precision": row.precision,
                 "resolved": row.resolved, "note": row.note, "unavailable": row.unavailable,
                 "ms_rounds": [1e3 * s for s in row.rounds], "cpu_share_rounds": row.cpu_rounds,
                 "cpu_share": _median([c for c in row.cpu_rounds if c is not None]),
                 "cpu_ms_per_step": _median([1e3 * w * c for w, c in
                                             zip(row.rounds, row.cpu_rounds) if c is not None]),
                 "ms_per_step": None,
                 "images_per_sec": None, "gflops": None, "utilisation": None,
                 "peak": None, "vs_default": None, "vs_torch_bf16": None}
        if row.rounds and not row.unavailable:
            seconds = statistics.median(row.rounds)
            key = peak_key(row.resolved)
            entry.update(ms_per_step=1e3 * seconds, images_per_sec=batch / seconds,
                         gflops=flops / seconds / 1e9, peak=key)
            if peaks.get(key):
                entry["utilisation"] = entry["gflops"] / peaks[key]
        results.append(entry)
    rate = {e["id"]: e["images_per_sec"] for e in results}
    for entry in results:
        if entry["images_per_sec"] is None:
            continue
        if rate.get(BASELINE):
            entry["vs_default"] = entry["images_per_sec"] / rate[BASELINE]
        if rate.get(TORCH_BASELINE):
            entry["vs_torch_bf16"] = entry["images_per_sec"] / rate[TORCH_BASELINE]
    return results


def table(results: List[Dict]) -> str:
    lines = ["| row | precision | ms/step | images/s | GFLOP/s | utilisation | "
             "vs ours default | vs PyTorch autocast bf16 | CPU ms/step |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in results:
        precision = e["resolved"] if e["resolved"] == e["precision"] else \
            f"{e['precision']} -> {e['resolved']}"
        if e["unavailable"]:
            lines.append(f"| {e['label']} | {e['precision']} | {e['unavailable']} "
                         "| | | | | | |")
            continue
        util = None if e["utilisation"] is None else 100 * e["utilisation"]
        lines.append(
            f"| {e['label']} | {precision} | {_fmt(e['ms_per_step'], '.1f')} | "
            f"{_fmt(e['images_per_sec'], '.1f')} | {_fmt(e['gflops'], '.1f')} | "
            f"{_fmt(util, '.1f', '% of ' + str(e['peak']))} | "
            f"{_fmt(e['vs_default'], '.2f', 'x')} | {_fmt(e['vs_torch_bf16'], '.2f', 'x')} | "
            f"{_fmt(e['cpu_ms_per_step'], '.0f')} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main

def build_config(image_size: int, width: int, batch: int):
    from lsgan_tf import config as config_lib
    from lsgan_tf.presets import get_preset

    return config_lib.apply_overrides(get_preset(PRESET), [
        f"model.image_size={image_size}", f"model.g_width={width}", f"model.d_width={width}",
        f"train.batch_size={batch}"])


def main(argv=None, stream=None) -> Dict:
    args = parse_args(argv)
    stream = stream or sys.stdout
    previous_affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    work_dir = tempfile.mkdtemp(prefix="train_throughput-")
    worker = None
    try:
        load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
        cpus = pin_cpus(args.threads)
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(args.threads))
        notes = configure_tf(args.threads, args.device)
        import keras

        from lsgan_tf.training import GanTrainer

        gpu = on_gpu()
        if args.device == "gpu" and not gpu:
            raise SystemExit("--device gpu: TensorFlow sees no GPU")
        warmup = args.warmup if args.warmup is not None else (10 if gpu else 2)
        steps = args.steps if args.steps is not None else (50 if gpu else 5)
        wanted = {r.strip() for r in args.rows.split(",") if r.strip()}

        def want(row_id):
            return not wanted or row_id in wanted

        config = build_config(args.image_size, args.width, args.batch)
        policy = keras.mixed_precision.global_policy()
        batch = synthetic_batch(config)
        precisions = ["float32", "bfloat16"] + (["float16"] if gpu else []) + ["auto"]
        rows: List[Row] = []
        if want(BASELINE):
            rows.append(OursRow(BASELINE, config, None, batch, work_dir))
        default_precision = getattr(config.train, "precision", None)
        for precision in precisions:
            if want(f"ours-{precision}") and precision != default_precision:
                rows.append(OursRow(f"ours-{precision}", config, precision, batch, work_dir))
        if want("ours-loop") and hasattr(GanTrainer, "make_loop_fn"):
            rows.append(LoopRow("ours-loop", config, batch, work_dir))
        if want("keras-fit"):
            rows.append(FitRow("keras-fit", config, batch))
        if want("eager"):
            rows.append(EagerRow("eager", config, batch))

        torch_python = args.torch_python
        if torch_python is None:
            torch_python = TORCH_VENV_PYTHON if os.path.exists(TORCH_VENV_PYTHON) else ""
        if torch_python.lower() == "none":
            torch_python = ""
        torch_ids = [i for i in ("torch-float32", "torch-bf16", "torch-fp16") if want(i)]
        if torch_python and torch_ids:
            try:  # on a GPU, PyTorch must use it too: a CPU-only torch leaves its rows out
                worker = TorchWorker(torch_python, config, args.threads, cpus,
                                     "gpu" if gpu else "cpu")
            except (OSError, RuntimeError, ValueError) as error:
                notes.append(f"PyTorch rows left out: {torch_python}: {error}")
            else:
                rows += [TorchRow(i, worker) for i in torch_ids if i in worker.hello["rows"]]
        elif torch_ids:
            notes.append("PyTorch rows left out: no --torch_python and no runs/torch-venv "
                         "(make bench-torch makes it)")

        print(f"[bench] preparing {len(rows)} rows (first step, tracing)", file=sys.stderr,
              flush=True)
        for row in rows:
            if not row.unavailable:
                row.prepare()
        keras.mixed_precision.set_global_policy(policy)

        # Shapes and FLOPs from a float32 build of the networks every row uses.
        from lsgan_tf.models import build_models
        with _Float32Policy():
            models = build_models(config.model)
        flops = step_flops(models.generator, models.discriminator, args.batch)

        peaks: Dict[str, Dict[str, float]] = {"tensorflow": {}, "torch": {}}
        for name in ["float32", "bfloat16"] + (["float16"] if gpu else []):
            peaks["tensorflow"][name] = tf_matmul_peak(name, args.peak_size)
        if worker is not None:
            peaks["torch"] = worker.ask({"cmd": "peak", "size": args.peak_size})["peaks"]
        best = {k: max(v for v in (peaks["tensorflow"].get(k), peaks["torch"].get(k)) if v)
                for k in peaks["tensorflow"]}

        for repeat in range(args.repeats):
            for row in rows:
                if row.unavailable:
                    continue
                row.rounds.append(row.run(warmup, steps))
                row.cpu_rounds.append(row.cpu_share)
                if isinstance(row, TorchRow):
                    time.sleep(0.2)  # the worker's idle OpenMP threads stop spinning
            print(f"[bench] round {repeat + 1}/{args.repeats}: " + ", ".join(
                f"{r.id} {1e3 * r.rounds[-1]:.1f} ms" for r in rows if r.rounds),
                file=sys.stderr, flush=True)

        results = summarise(rows, flops["step"], args.batch, best)
        machine = machine_info()
        machine["load_average_at_start"] = load_start
        if worker is not None:
            machine["torch"] = worker.hello["torch"]
            machine["torch_device"] = worker.hello["device_name"]
        settings = {"preset": PRESET, "image_size": args.image_size, "width": args.width,
                    "batch": args.batch, "threads": args.threads, "cpus": cpus,
                    "warmup": warmup, "steps": steps, "repeats": args.repeats,
                    "device": "gpu" if gpu else "cpu", "peak_size": args.peak_size,
                    "input": "synthetic in-memory tensors (one fixed batch; no input pipeline)",
                    "flops": "analytic, from the layer shapes (bench.train_throughput."
                             "step_flops)"}
        out = {"settings": settings, "machine": machine, "flops_per_step": flops,
               "peaks_gflops": peaks, "peak_used_gflops": best, "rows": results,
               "notes": notes}
        cpu_line = machine.get("gpu") or machine.get("cpu", "?")
        print(f"Training step throughput: {PRESET} {args.image_size}x{args.image_size}, "
              f"widths {args.width}..{args.width * args.image_size // 8}, batch {args.batch}, {args.threads} thread(s) on CPUs {cpus}, {cpu_line} "
              f"({', '.join(machine.get('cpu_flags', []))}); TF {machine['tensorflow']}, "
              f"Keras {machine['keras']}" + (f", torch {machine['torch']}"
                                             if "torch" in machine else ""), file=stream)
        if load_start and machine.get("load_average"):
            print(f"Load average (1 min) at start {load_start[0]:.2f}, at end "
                  f"{machine['load_average'][0]:.2f} on {os.cpu_count()} CPUs.", file=stream)
        print(f"Input: {settings['input']}. {warmup} warm-up + {steps} timed steps per row and "
              f"round, {args.repeats} interleaved rounds, median.", file=stream)
        print(f"FLOPs per step (analytic, layer shapes): {flops['step'] / 1e9:.2f} GFLOP "
              f"(D step {flops['d_step'] / 1e9:.2f}, G step {flops['g_step'] / 1e9:.2f}). "
              "Matmul peak GFLOP/s (" + ", ".join(
                  f"{k} {best[k]:.0f}" for k in best) + f"; {args.peak_size}^2, best of "
              "TensorFlow and PyTorch)", file=stream)
        for note in notes:
            print(f"Note: {note}", file=stream)
        print("", file=stream)
        print(table(results), file=stream)
        for e in results:
            if e["note"]:
                print(f"- {e['label']}: {e['note']}", file=stream)
        shares = [f"{e['label']} {100 * e['cpu_share']:.0f}%" for e in results
                  if e["cpu_share"] is not None]
        if shares:
            print(f"CPU ms/step: the process's CPU time (all its threads) per timed step, median"
                  f" over the rounds. CPU time / wall time, median (below {100 * args.threads}% "
                  f"with {args.threads} thread(s): the row waited, e.g. for CPUs that other "
                  f"processes were using): " + ", ".join(shares), file=stream)
        print("BENCH_JSON " + json.dumps(out), file=stream, flush=True)
        return out
    finally:
        if worker is not None:
            worker.close()
        shutil.rmtree(work_dir, ignore_errors=True)
        if previous_affinity is not None:
            os.sched_setaffinity(0, previous_affinity)


if __name__ == "__main__":
    main()
