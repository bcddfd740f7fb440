"""Issue 24, class 3: every numeric setting is bounded and every ``--config`` file read safely.

Each case is a setting or a config file the validator once let through (to a traceback after
TensorFlow's start-up, a hang, or a run that can never succeed) and now refuses in
``config.resolve`` with one ``ConfigError`` line that names the key (or the file and section):
non-finite labels, thresholds and tolerances, integers beyond what TensorFlow or the machine
can hold, sections that are not mappings of strings, files that are not UTF-8, too large, or
YAML whose aliases expand without bound. Four of them go through the real ``lsgan`` command:
exit status 2, one stderr line, and TensorFlow never imported.
"""
import json
import os
import subprocess
import sys
import time

import pytest

from helpers import imported_modules
from lsgan_tf import config as config_lib
from lsgan_tf import memory_estimate
from lsgan_tf.config import ConfigError, resolve
from lsgan_tf.registry import MODELS

GIB = 2 ** 30


def refused(preset="digits", sets=(), config_file=None) -> str:
    """The one-line message of the ``ConfigError`` that ``resolve`` raises."""
    with pytest.raises(ConfigError) as raised:
        resolve(preset, config_file, list(sets))
    message = str(raised.value)
    assert len(message.splitlines()) == 1 and message.strip() == message, message
    assert len(message) < 600, message
    return message


# --- settings: finite floats ---------------------------------------------------------------------

@pytest.mark.parametrize("preset, setting, start", [
    ("digits", "loss.a=nan", "loss.a=nan: must be a finite number"),
    ("digits", "loss.b=inf", "loss.b=inf: must be a finite number"),
    ("digits", "loss.c=-inf", "loss.c=-inf: must be a finite number"),
    ("digits", "loss.a=1e400", "loss.a=inf: must be a finite number"),
    ("digits", "loss.a=1e30", "loss.a=1e+30: must be in [-1000000.0, 1000000.0]"),
    ("digits", "eval.thresholds=fd<=nan", "eval.thresholds='fd<=nan': 'nan' is not a finite"),
    ("digits", "eval.thresholds=precision>=inf,fd<=2",
     "eval.thresholds='precision>=inf': 'inf' is not a finite"),
    ("digits", "eval.thresholds=fd<=1e999", "eval.thresholds='fd<=1e999': '1e999' is not a "),
    ("digits", "eval.tolerance=inf", "eval.tolerance=inf: must be a finite number"),
    ("digits", "eval.tolerance=nan", "eval.tolerance=nan: must be a finite number"),
    ("digits", "optim.lr_d=inf", "optim.lr_d=inf: must be a positive number"),
    ("digits", "optim.lr_g=1e-300", "optim.lr_g=1e-300: must be in [1e-30, 1000000.0]"),
    ("digits", "optim.epsilon=1e9", "optim.epsilon=1000000000.0: must be in [1e-30, "),
    ("digits", "optim.beta2=nan", "optim.beta2=nan: must be in [0.0, 1.0)"),
    ("digits", "data.eval_fraction=inf", "data.eval_fraction=inf: must be in [1e-09, 1.0)"),
    ("digits", "train.ema_decay=nan", "train.ema_decay=nan: must be in [0.0, 1.0)"),
])
def test_non_finite_floats_are_refused(preset, setting, start):
    assert refused(preset, [setting]).startswith(start)


# --- settings: integer ranges --------------------------------------------------------------------

BIG = "10000000000000000000"  # 1e19: beyond int64


@pytest.mark.parametrize("preset, setting, start", [
    ("digits", "train.seed=4294967296", "train.seed=4294967296: must be <= 4294967295"),
    ("digits", f"data.shuffle_buffer={BIG}", f"data.shuffle_buffer={BIG}: must be <= "),
    ("digits", f"data.cache_mb={BIG}", f"data.cache_mb={BIG}: must be <= "),
    ("digits", f"export.max_batch={BIG}", f"export.max_batch={BIG}: must be <= 2147483647"),
    ("digits", "model.noise.dim=1000000000", "model.noise.dim=1000000000: must be <= 65536"),
    ("digits", f"model.g_width={BIG}", f"model.g_width={BIG}: must be <= "),
    ("digits", f"model.d_width={BIG}", f"model.d_width={BIG}: must be <= "),
    ("digits", f"model.d_dense={BIG}", f"model.d_dense={BIG}: must be <= "),
    ("digits", f"model.phi_dim={BIG}", f"model.phi_dim={BIG}: must be <= "),
    ("mog8", f"model.hidden={BIG}", f"model.hidden={BIG}: must be <= "),
    ("hwdb_3740", f"model.num_classes={BIG}", f"model.num_classes={BIG}: must be <= "),
    ("hwdb_3740", "model.num_classes=-1", "model.num_classes=-1: must be >= 0"),
    ("digits", "model.image_size=1000000000", "model.image_size=1000000000: must be <= "),
    ("dcgan", "model.channels=1000000000", "model.channels=1000000000: must be <= 4"),
    ("digits", "train.batch_size=100000000", "train.batch_size=100000000: must be <= "),
    ("digits", f"train.steps={BIG}", f"train.steps={BIG}: must be <= "),
    ("digits", f"train.checkpoint_every={BIG}", f"train.checkpoint_every={BIG}: must be <= "),
    ("digits", f"train.keep_checkpoints={BIG}", f"train.keep_checkpoints={BIG}: must be <= "),
    ("digits", f"train.log_every={BIG}", f"train.log_every={BIG}: must be <= "),
    ("digits", f"train.sample_every={BIG}", f"train.sample_every={BIG}: must be <= "),
    ("digits", f"train.steps_per_loop={BIG}", f"train.steps_per_loop={BIG}: must be <= "),
    ("digits", f"eval.num_samples={BIG}", f"eval.num_samples={BIG}: must be <= "),
    ("digits", f"eval.select_samples={BIG}", f"eval.select_samples={BIG}: must be <= "),
    ("digits", f"eval.every={BIG}", f"eval.every={BIG}: must be <= "),
])
def test_integers_beyond_what_can_run_are_refused(preset, setting, start):
    assert refused(preset, [setting]).startswith(start)


@pytest.mark.parametrize("preset, sets", [
    ("digits", ["train.seed=4294967295", "train.steps=1000000000", "data.shuffle_buffer=10000000"]),
    ("lsun_112", ["model.g_width=1024", "model.d_width=128", "train.batch_size=1024",
                  "export.max_batch=2147483647"]),
    ("hwdb_3740", ["train.batch_size=4096", "eval.num_samples=100000", "eval.every=1000"]),
    ("dcgan", ["model.image_size=128", "model.g_width=128", "train.batch_size=256"]),
    ("mog8", ["model.hidden=4096", "train.batch_size=65536"]),
])
def test_generous_real_settings_pass(preset, sets):
    resolve(preset, overrides=sets)


def test_set_values_keep_their_one_line_parse_errors():
    assert refused("digits", ["train.batch_size=1e8"]).startswith(
        "--set train.batch_size=1e8: expected int, got '1e8'")
    assert refused("digits", ["train.steps=" + "9" * 5000]).startswith(
        "--set train.steps=" + "9" * 20)
    line = refused("digits", ["model.type=a\nb\u2028c"])
    assert line.startswith("model.type='a\\nb\\u2028c': must not hold control characters")
    line = refused("digits", ["train.st\neps=3"])
    assert line.startswith("--set 'train.st\\neps': unknown key 'st\\neps' in TrainConfig")


def test_text_settings_refuse_control_characters():
    assert refused("digits", ["data.path=/data/\x00x"]).startswith(
        "data.path='/data/\\x00x': must not hold control characters")
    assert refused("digits", ["name=a\nb"]).startswith("name='a\\nb': must not hold control")


# --- the memory estimate -------------------------------------------------------------------------

@pytest.mark.parametrize("preset, sets, key", [
    # 1,280 x 1,048,576 x 128 weights in G's first dense layer: about 2.7 TB with Adam's slots.
    ("hwdb_3740", ["model.image_size=4096"], "model.image_size=4096"),
    ("lsun_112", ["train.batch_size=1048576", "model.noise.dim=65536"], "train.batch_size=1048576"),
    ("digits", ["data.shuffle_buffer=2147483647", "model.g_width=16384"], "model.g_width=16384"),
])
def test_settings_beyond_this_machines_memory_are_refused(preset, sets, key, monkeypatch):
    monkeypatch.setattr(memory_estimate, "machine_memory", lambda: 8 * GIB)
    line = refused(preset, sets)
    assert line.startswith(key) and ": the run needs at least " in line, line
    assert line.endswith(", this machine has 8.0 GiB"), line


def test_the_shuffle_buffer_alone_can_exceed_the_memory(monkeypatch):
    monkeypatch.setattr(memory_estimate, "machine_memory", lambda: 8 * GIB)
    line = refused("digits", ["data.shuffle_buffer=2147483647"])
    assert line.startswith("data.shuffle_buffer=2147483647: the run needs at least 48.0 GiB")


def test_the_memory_check_is_left_to_the_machine_that_trains(monkeypatch):
    monkeypatch.setattr(memory_estimate, "machine_memory", lambda: 8 * GIB)
    config = resolve("digits", overrides=["data.shuffle_buffer=2147483647"], check_memory=False)
    assert config.data.shuffle_buffer == 2147483647


def test_an_unbounded_setting_is_refused_on_the_real_machine():
    line = refused("hwdb_3740", ["model.image_size=4096"])
    assert line.startswith("model.image_size=4096") and ": the run needs at least " in line


def test_the_machine_memory_is_read_without_tensorflow():
    have = memory_estimate.machine_memory()
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert have is None or 2 ** 28 < have <= physical


@pytest.mark.parametrize("model_type", ["conditional", "dcgan", "infogan", "lsun_112", "mog_mlp"])
@pytest.mark.parametrize("sizes", [
    {},
    {"model.g_width": 24, "model.d_width": 12, "model.noise.dim": 40, "model.d_dense": 72,
     "model.phi_dim": 6, "model.hidden": 20},
])
def test_the_parameter_estimate_is_a_close_lower_bound(model_type, sizes):
    """The estimate (weights only, no biases or batch norm) of every built-in model is at most
    the weights Keras builds, and within 10% of them."""
    from helpers import tiny_sets
    from lsgan_tf.models.common import build_models

    sets = tiny_sets(model_type) + [f"{k}={v}" for k, v in sizes.items()]
    config = config_lib.apply_overrides(config_lib.ExperimentConfig(), sets)
    built = build_models(config.model)
    actual = built.generator.count_params() + built.discriminator.count_params()
    estimate = memory_estimate.parameter_count(config.model)
    assert 0.9 * actual <= estimate <= actual, (estimate, actual)


def test_every_built_in_model_has_a_parameter_estimate():
    built_in = {name for name in MODELS.names()
                if MODELS.get(name).__module__.startswith("lsgan_tf.models.")}
    stated = {name for name in MODELS.names() if MODELS.info(name).get("weights")}
    assert stated == built_in


# --- config files --------------------------------------------------------------------------------

BILLION_LAUGHS = (
    "model:\n  type: conditional\n"
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
              for i in range(8))
    + "eval:\n  thresholds: *i\n")


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


@pytest.mark.parametrize("name, content, fragment", [
    ("number.json", '{"train": 5}', "train: expected a mapping of keys (a section), got 5"),
    ("null.yaml", "train:\n", "train: expected a mapping of keys (a section), got None"),
    ("list.yaml", "train:\n  - steps: 3\n", "train: expected a mapping of keys (a section), "
                                            "got [{'steps': 3}]"),
    ("noise.yaml", "model:\n  noise: 3\n", "model.noise: expected a mapping of keys"),
    ("intkeys.yaml", "train:\n  1: 2\n", "train: keys must be strings, got 1"),
    ("mixed.yaml", "train:\n  steps: 3\n  7: 2\n", "train: keys must be strings, got 7"),
    ("top.yaml", "1: 2\ntrain: {}\n", "config: keys must be strings, got 1"),
    ("nullkey.yaml", "train:\n  ~: 2\n", "train: keys must be strings, got None"),
    ("float.yaml", "train:\n  steps: 3.0\n", "train.steps: expected int, got 3.0"),
    ("bool.json", '{"train": {"steps": true}}', "train.steps: expected int, got True"),
    ("nested.yaml", "train:\n  steps: {a: 1}\n", "train.steps: expected int, got {'a': 1}"),
    ("liststr.yaml", "model:\n  type: [a]\n", "model.type: expected str, got ['a']"),
    ("bigint.yaml", "train:\n  steps: " + "9" * 5000 + "\n", "not valid YAML: "),
    ("bigfloat.json", '{"loss": {"a": 1' + "0" * 400 + "}}",
     "loss.a: expected float, got <an integer of 1329 bits> (beyond the float range)"),
    ("time.yaml", "train:\n  seed: 2001-12-14\n", "train.seed: expected int, got "
                                                  "datetime.date(2001, 12, 14)"),
    ("tag.yaml", "name: !!python/object/apply:os.system [ls]\n", "not valid YAML"),
])
def test_config_file_sections_and_values_are_checked(tmp_path, name, content, fragment):
    path = write(tmp_path, name, content)
    line = refused(config_file=path)
    assert line.startswith(f"--config={path}: "), line
    assert fragment in line, line


@pytest.mark.parametrize("name, content, fragment", [
    ("nan.json", '{"loss": {"a": NaN}}', "loss.a=nan: must be a finite number"),
    ("inf.yaml", "loss:\n  b: 1.0e+400\n", "loss.b=inf: must be a finite number"),
    ("ninf.yaml", "loss:\n  c: -.inf\n", "loss.c=-inf: must be a finite number"),
    ("inf.json", '{"eval": {"tolerance": Infinity}}', "eval.tolerance=inf: must be a finite"),
    ("seed.yaml", "train:\n  seed: 4294967296\n", "train.seed=4294967296: must be <= "),
    ("hex.yaml", "train:\n  steps: 0x" + "f" * 100000 + "\n",
     "train.steps=<an integer of 400000 bits>: must be <= "),
])
def test_config_file_values_are_bounded(tmp_path, name, content, fragment):
    assert refused(config_file=write(tmp_path, name, content)).startswith(fragment)


@pytest.mark.parametrize("name, content, fragment", [
    ("latin1.yaml", "name: caf\xe9\n".encode("latin-1"),
     "is not UTF-8 (byte 0xe9 at offset 9)"),
    ("utf16.json", '{"name": "x"}'.encode("utf-16"), "is not UTF-8 (byte 0xff at offset 0)"),
    ("big.json", '{"name": "' + "x" * (1 << 20) + '"}', "is larger than 1 MiB"),
    ("bomb.yaml", BILLION_LAUGHS, "expands to more than 10000 values (YAML aliases)"),
    ("aliases.yaml", "a: &a x\nb: [" + ", ".join(["*a"] * 101) + "]\n",
     "holds more than 100 YAML aliases"),
    ("deep.yaml", "name: " + "[" * 100 + "]" * 100 + "\n", "nests deeper than 20 levels"),
    ("deeper.yaml", "name: " + "[" * 5000 + "]" * 5000 + "\n", "nest"),  # libyaml stops at 1000
    ("deepmap.yaml", "".join(" " * i + f"k{i}:\n" for i in range(30)), "nests deeper than 20"),
    ("deep.json", '{"name": ' + "[" * 100000 + "]" * 100000 + "}", "nests deeper than 20 "),
    ("recursive.yaml", "train: &t\n  x: *t\n", "an alias inside its own anchor"),
])
def test_config_files_are_read_safely(tmp_path, name, content, fragment):
    path = write(tmp_path, name, content)
    start = time.perf_counter()
    line = refused(config_file=path)
    assert time.perf_counter() - start < 1.0
    assert line.startswith(f"--config={path}: "), line
    assert fragment in line, line


def test_a_config_that_is_not_a_regular_file_is_refused_at_once(tmp_path):
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)  # no writer: open() would wait for one forever
    start = time.perf_counter()
    line = refused(config_file=str(fifo))
    assert time.perf_counter() - start < 1.0
    assert line == f"--config={fifo}: not a regular file; give a JSON or YAML file"


def test_a_byte_order_mark_is_read_as_utf8(tmp_path):
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + b'{"train": {"steps": 9}}')
    assert resolve("digits", path).train.steps == 9


def test_a_damaged_config_json_is_one_line_naming_the_file(tmp_path):
    for content in ("", "{", '{"train": 3}', "[1]"):
        path = write(tmp_path, "config.json", content)
        with pytest.raises(ConfigError) as raised:
            config_lib.load(path)
        assert str(raised.value).startswith(f"{path}: ") and "\n" not in str(raised.value)


# --- the real command ----------------------------------------------------------------------------

@pytest.mark.parametrize("args, line", [
    (["--set=loss.a=nan"], "lsgan train: loss.a=nan: must be a finite number"),
    (["--set=train.seed=4294967296"], "lsgan train: train.seed=4294967296: must be <= 4294967295"),
    (["--set=model.noise.dim=1000000000"], "lsgan train: model.noise.dim=1000000000: must be <= "),
    (["--config=BOMB"], "lsgan train: --config=BOMB: expands to more than 10000 values"),
])
def test_the_command_refuses_in_one_line_before_tensorflow(tmp_path, args, line):
    bomb = write(tmp_path, "bomb.yaml", BILLION_LAUGHS)
    args = [arg.replace("BOMB", bomb) for arg in args]
    out = tmp_path / "run"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "pipeline.cli", "train",
                             "--preset=digits", f"--out={out}", *args],
                            capture_output=True, text=True, timeout=120, env=env)
    took = time.perf_counter() - start
    lines = [x for x in result.stderr.splitlines() if not x.startswith("import time:")]
    assert result.returncode == 2 and result.stdout == "", result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(line.replace("BOMB", bomb)), lines
    assert "tensorflow" not in imported_modules(result.stderr)
    assert not out.exists()
    assert took < 30  # about 2 s; a loaded CI machine is slower


def test_json_round_trip_keeps_bounded_values(tmp_path):
    config = resolve("digits", overrides=["train.seed=4294967295", "loss.a=-1e6"])
    path = config_lib.save(config, str(tmp_path / "config.json"))
    assert config_lib.load(path) == config
    assert json.loads(config_lib.to_json(config))["train"]["seed"] == 4294967295
