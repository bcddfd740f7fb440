"""The split of the GAN task (``lsgan_tf.gan_task``) from the training loop
(``lsgan_tf.training``): after 3 steps of ``GanTrainer(...).make_step_fn()``, every variable of
the checkpoint (G, D, both optimisers' slots, the step, the EMA copy) is bit-identical to the
state recorded before the split (``task_split_weights.json``), for every built-in preset at a
tiny size and every update scheme; the loop knows no GAN maths.

The recorded hashes hold on the machine that recorded them (CPU kernels differ between CPU
models): elsewhere the comparison is skipped, naming both CPUs. ``python
tests/lsgan_tf/test_task_split.py --record`` records them again (only ever from a tree whose
step is the reference one)."""
import ast
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
RECORD = os.path.join(HERE, "task_split_weights.json")
ROOT = os.path.dirname(os.path.dirname(HERE))
STEPS = 3
SCHEMES = [("alternating", "fresh"), ("alternating", "shared"), ("simultaneous", "fresh"),
           ("simultaneous", "shared")]
# Besides every preset x scheme in float32: a bfloat16 run and an EMA run (the EMA copy is a
# checkpointed variable set of its own).
EXTRA_CASES = {"digits/alternating/fresh/bfloat16": ("digits", "alternating", "fresh",
                                                     ["train.precision=bfloat16"]),
               "digits/simultaneous/shared/ema": ("digits", "simultaneous", "shared",
                                                  ["train.ema_decay=0.9"])}
CHECKPOINT_KEYS = ("generator", "discriminator", "d_optimizer", "g_optimizer", "step",
                   "ema_generator")
# One thread each: the sums of a multi-threaded kernel may be split, and so rounded,
# differently with another thread count.
THREAD_ENV = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
              "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}


def cpu_model() -> str:
    """The first 'model name' of /proc/cpuinfo (else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cases():
    """name -> (preset, update, g_noise, extra overrides)."""
    from lsgan_tf.registry import PRESETS
    import lsgan_tf.presets  # noqa: F401  (registers the presets)

    found = {f"{preset}/{update}/{g_noise}": (preset, update, g_noise, [])
             for preset in PRESETS.names() for update, g_noise in SCHEMES}
    return {**found, **EXTRA_CASES}


def case_config(preset, update, g_noise, extra):
    from lsgan_tf import config as config_lib
    from lsgan_tf.presets import get_preset

    from helpers import tiny_sets

    base = get_preset(preset)
    sets = tiny_sets(base.model.type) + [
        "train.batch_size=4", "train.precision=float32", f"train.update={update}",
        f"train.g_noise={g_noise}", *extra]
    return config_lib.validate(config_lib.apply_overrides(base, sets))


def digest(variable) -> str:
    return hashlib.sha256(variable.numpy().tobytes()).hexdigest()


def checkpoint_hashes(checkpoint) -> dict:
    """key -> the SHA-256 of each variable's bytes, in the objects' own order, for each key
    of the run's ``tf.train.Checkpoint``."""
    hashes = {}
    for key in CHECKPOINT_KEYS:
        tracked = getattr(checkpoint, key, None)
        if tracked is None:
            continue
        variables = [tracked] if key == "step" else list(tracked.variables)
        hashes[key] = [digest(v) for v in variables]
    return hashes


def run_case(preset, update, g_noise, extra) -> dict:
    """``STEPS`` steps of ``GanTrainer(...).make_step_fn()`` on the same synthetic batch: the
    checkpoint's hashes and each step's metrics (exact, as hex floats)."""
    from lsgan_tf.training import GanTrainer

    from helpers import synthetic_batch

    config = case_config(preset, update, g_noise, extra)
    with tempfile.TemporaryDirectory() as out_dir:
        trainer = GanTrainer(config, out_dir)
        step_fn = trainer.make_step_fn()
        batch = synthetic_batch(config, size=4)
        metrics = []
        for _ in range(STEPS):
            metrics.append({k: float(v).hex() for k, v in step_fn(batch).items()})
        return {"variables": checkpoint_hashes(trainer.checkpoint), "metrics": metrics}


def run_all() -> dict:
    """Every case, in this process (run it with ``THREAD_ENV`` set)."""
    return {name: run_case(*case) for name, case in sorted(cases().items())}


def run_all_in_subprocess() -> dict:
    """``run_all`` in a fresh process with one thread: the state of this process (a Keras
    policy, the thread pools TensorFlow started with) cannot change the bits."""
    env = {**os.environ, **THREAD_ENV}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.path.dirname(HERE), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, os.path.abspath(__file__), "--hashes"], env=env,
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> dict:
    import tensorflow as tf

    return {"cpu_model": cpu_model(), "cpu_flags": cpu_flags(), "tensorflow": tf.__version__,
            "python": platform.python_version(), "threads": 1}


def record() -> None:
    """Writes ``RECORD``: this tree's hashes and the machine they hold on."""
    runs = run_all_in_subprocess()
    with open(RECORD, "w", encoding="utf-8") as out:
        json.dump({"machine": machine(), "steps": STEPS, "cases": runs}, out, indent=1,
                  sort_keys=True)
        out.write("\n")
    print(f"recorded {len(runs)} cases to {RECORD}")


@pytest.fixture(scope="module")
def recorded():
    with open(RECORD, encoding="utf-8") as source:
        saved = json.load(source)
    import tensorflow as tf

    if saved["machine"]["cpu_model"] != cpu_model():
        pytest.skip(f"weights were recorded on {saved['machine']['cpu_model']!r}, this CPU is "
                    f"{cpu_model()!r}: CPU kernels (and so the bits) may differ")
    if saved["machine"]["tensorflow"] != tf.__version__:
        pytest.skip(f"weights were recorded with TensorFlow {saved['machine']['tensorflow']}, "
                    f"this is {tf.__version__}: its kernels (and so the bits) may differ")
    return saved


@pytest.fixture(scope="module")
def current(recorded):
    return run_all_in_subprocess()


def test_every_preset_and_scheme_is_recorded(recorded):
    assert sorted(recorded["cases"]) == sorted(cases()), (
        "a preset was added or removed: record its weights from the reference step with "
        "`python tests/lsgan_tf/test_task_split.py --record`")


@pytest.mark.parametrize("name", sorted(cases()))
def test_weights_after_steps_are_bit_identical_to_the_recording(name, recorded, current):
    want, got = recorded["cases"][name], current[name]
    changed = {key: [i for i, (new, old) in enumerate(zip(got["variables"].get(key, []), hashes))
                     if new != old] or "all"
               for key, hashes in want["variables"].items() if got["variables"].get(key) != hashes}
    assert not changed and got["variables"].keys() == want["variables"].keys(), \
        f"{name}: after {STEPS} steps these variables differ from the recording: {changed}"
    # Metrics added since the recording (the loss parts) are not in it.
    assert [{k: step[k] for k in old} for step, old in zip(got["metrics"], want["metrics"])] \
        == want["metrics"]


@pytest.mark.parametrize("model", ["mog_mlp", "conditional"])
def test_every_scheme_takes_its_d_metrics_from_the_same_forward_pass(model, tmp_path):
    """From the same initial weights and batch, the first step's D-side metrics are the same
    in all four schemes and are those of ``GanTask.forward``; with ``simultaneous`` and
    ``shared`` noise, L_G is taken on that pass's D(G(z_d)) too."""
    import numpy as np

    from lsgan_tf import config as config_lib
    from lsgan_tf.presets import get_preset
    from lsgan_tf.training import GanTrainer

    from helpers import synthetic_batch, tiny_sets

    d_side = ("d_loss", "d_loss_real", "d_loss_fake", "d_real", "d_fake")
    firsts = {}
    for update, g_noise in SCHEMES:
        config = config_lib.validate(config_lib.apply_overrides(get_preset("digits"), tiny_sets(
            model) + [f"train.update={update}", f"train.g_noise={g_noise}",
                      "train.precision=float32"]))
        trainer = GanTrainer(config, str(tmp_path / f"{update}-{g_noise}"))
        batch = synthetic_batch(config)
        task = trainer.task
        forward = task.forward(batch)  # eager; BatchNorm statistics move, weights do not
        expected = {"d_loss": forward.losses.d_loss, "d_loss_real": forward.losses.d_loss_real,
                    "d_loss_fake": forward.losses.d_loss_fake,
                    "d_real": np.mean(forward.d_real), "d_fake": np.mean(forward.d_fake)}
        if (update, g_noise) == ("simultaneous", "shared"):
            expected["g_loss"] = task.loss_fn(forward.d_real, forward.d_fake).g_loss
        metrics = trainer.make_step_fn()(batch)
        for key, value in expected.items():
            np.testing.assert_allclose(float(metrics[key]), float(value), rtol=1e-5, atol=1e-6,
                                       err_msg=key)
        firsts[update, g_noise] = [float(metrics[key]) for key in d_side]
    assert len({tuple(v) for v in firsts.values()}) == 1, firsts
    np.testing.assert_allclose(firsts["alternating", "fresh"][0],
                               sum(firsts["alternating", "fresh"][1:3]), rtol=1e-6)


def imports_and_names(path):
    """(every module ``path`` imports, or imports a name from, as ``module.name`` too; every
    name and attribute its code uses)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    imported, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
            used.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Name):
            used.add(node.id)
        elif isinstance(node, ast.Attribute):
            used.add(node.attr)
    return imported, used


def test_the_loop_imports_no_loss_and_takes_no_gradient():
    imported, used = imports_and_names(os.path.join(ROOT, "lsgan_tf", "training.py"))
    assert "lsgan_tf.losses" not in imported
    assert not {"get_loss", "loss_fn", "GradientTape", "gradient", "apply_gradients"} & used


if __name__ == "__main__":
    sys.path[:0] = [ROOT, os.path.dirname(HERE)]
    if sys.argv[1:] == ["--record"]:
        record()
    elif sys.argv[1:] == ["--hashes"]:
        print(json.dumps(run_all(), sort_keys=True))
    else:
        sys.exit("usage: test_task_split.py --record | --hashes")
