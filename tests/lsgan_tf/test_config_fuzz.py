"""Fuzzing ``--config`` files and ``--set`` values (issue 24), as tests/data_prep/test_fuzz.py
fuzzes the data sources: a seeded RNG builds a case from a random preset: a JSON or YAML file
(the preset's whole config or a part of it, mutated: values of random types, sizes and
nesting, huge and non-finite numbers, random Unicode and non-string keys, sections replaced
by scalars and lists; YAML anchors, aliases, alias bombs, merge keys and tags; and bytes
flipped, cut, or made not UTF-8) and/or ``--set`` overrides (random known keys of the preset
with random texts, and broken keys), and resolves it in-process with ``config.resolve``.

Every case asserts: ``resolve`` returns a config or raises ``ConfigError`` (never another
exception) whose message is one line of at most ``MAX_MESSAGE`` characters; a returned
config holds finite numbers and survives the JSON round trip; and the case takes under
``CASE_SECONDS`` (``signal.alarm`` stops a hang after ``HANG_SECONDS``).

The short run (``SHORT_SEEDS`` = 50 seeds, about a second) is part of every test run, as are
``CLI_CASES`` refused cases through the real ``lsgan train`` (exit status 2, the same one
line on stderr, nothing written). The long run (``LSGAN_FUZZ_SEEDS`` seeds, default 1,000,
under a minute) is marked ``fuzz``: ``make fuzz`` runs it, and so does any run with
``LSGAN_FUZZ_SEEDS`` set. A failure names the seed; rerun that case alone with
``LSGAN_FUZZ_SEEDS=1 LSGAN_FUZZ_FIRST=<seed> pytest -m fuzz tests/lsgan_tf/test_config_fuzz.py``.
"""
from __future__ import annotations

import json
import math
import os
import random
import re
import subprocess
import sys
import time
from typing import Any, List, NamedTuple, Optional

import pytest
import yaml

from helpers import Hung, deadline
from lsgan_tf import config as config_lib
from lsgan_tf import config_files
from lsgan_tf.config import ConfigError, resolve
from lsgan_tf.registry import PRESETS

SHORT_SEEDS = 50
LONG_SEEDS = int(os.environ.get("LSGAN_FUZZ_SEEDS", "1000"))
LONG_FIRST = int(os.environ.get("LSGAN_FUZZ_FIRST", "1000"))
CASE_SECONDS = 1.0
HANG_SECONDS = 20
MAX_MESSAGE = 1000
CLI_CASES = 5
CLI_FIRST = 100000  # the CLI cases are the first refused ones from this seed on
PRESET_NAMES = ("digits", "dcgan", "lsun_112", "hwdb_3740", "mog8", "mnist")

# --- random values -------------------------------------------------------------------------------

WORDS = ["adam", "rmsprop", "ls", "pearson", "least_squares", "digits", "mog8", "tfrecord",
         "conditional", "dcgan", "infogan", "lsun_112", "mog_mlp", "uniform", "normal",
         "alternating", "simultaneous", "fresh", "shared", "auto", "float32", "bfloat16",
         "mirrored", "tpu", "classifier", "identity", "fd", "fd<=2", "precision>=0.5",
         "fd<=nan", "kid>=inf", "fd_noise_ratio<=1e999", "true", "no", "", " ", "/data",
         "gs://bucket/x", "../../x"]
NUMBER_TEXTS = ["0", "1", "-1", "7", " 64 ", "1e8", "1.5", "nan", "-nan", "inf", "-inf",
                "1e400", "-1e400", "1e-400", "0x10", "1_000", "\u0663", "\uff17", "2147483648",
                "4294967296", "9223372036854775808", "10000000000000000000", "9" * 4301,
                "-0", "1e-30", "1e6", "0.9999999999999999", "+3", "3.", ".5", "1e", "--1"]
CHARACTERS = ("abcxyz_.=,<>-+ 0123456789", "\x00\n\r\t\x1b\x7f\x85\u2028\u2029\x0b\x0c",
              "\u00e9\u4e2d\u0663\u200b\ufeff\u202e", "\U0001f600\U00010000")


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(WORDS)
    if roll < 0.55:
        return rng.choice(NUMBER_TEXTS)
    if roll < 0.6:
        return rng.choice("ab\n") * rng.choice([100, 10000])
    pools = rng.sample(CHARACTERS, rng.randint(1, len(CHARACTERS)))
    return "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 12)))


def random_int(rng: random.Random) -> int:
    return rng.choice([0, 1, -1, 2, 3, 8, 64, 1000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
                       2 ** 63, 10 ** 19, -(10 ** 19), 10 ** rng.randint(0, 400),
                       rng.randint(-10 ** 6, 10 ** 6)])


def random_float(rng: random.Random) -> float:
    return rng.choice([0.0, -0.0, 0.5, 1.0, -1.0, 1e-320, 1e-30, 1e308, -1e308, math.nan,
                       math.inf, -math.inf, 0.999, rng.uniform(-10, 10),
                       10 ** rng.uniform(-40, 40)])


def random_scalar(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    return [lambda: random_int(rng), lambda: random_float(rng), lambda: rng.random() < 0.5,
            lambda: None, lambda: random_text(rng), lambda: random_text(rng)][kind]()


def random_key(rng: random.Random, known: List[str]) -> Any:
    roll = rng.random()
    if roll < 0.5 and known:
        return rng.choice(known)
    if roll < 0.75:
        return random_text(rng)
    return rng.choice([1, 0, -5, 2.5, True, None, 10 ** 30])


def random_value(rng: random.Random, known: List[str], depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 25 or roll < 0.6:
        return random_scalar(rng)
    if roll < 0.8:
        return [random_value(rng, known, depth + 1) for _ in range(rng.randint(0, 4))]
    return {random_key(rng, known): random_value(rng, known, depth + 1)
            for _ in range(rng.randint(0, 4))}


def plausible(rng: random.Random, value: Any) -> Any:
    """A value of ``value``'s own type, often at an edge, sometimes an ordinary one."""
    if rng.random() < 0.35 and not isinstance(value, (dict, list, tuple)):
        return (value if isinstance(value, str) else rng.random() < 0.5
                if isinstance(value, bool) else rng.randint(1, 64) if isinstance(value, int)
                else rng.uniform(0.01, 0.9))
    if isinstance(value, bool):
        return rng.random() < 0.5
    if isinstance(value, int):
        return random_int(rng)
    if isinstance(value, float):
        return random_float(rng)
    if isinstance(value, str):
        return random_text(rng)
    if isinstance(value, (tuple, list)):
        return [random_text(rng) for _ in range(rng.randint(0, 3))]
    return random_value(rng, [])


# --- config files --------------------------------------------------------------------------------

def mutate_tree(rng: random.Random, tree: dict, known: List[str]) -> Any:
    """Up to 4 mutations of a config dict: a leaf or section replaced (by a value of its type or
    of any type), a key deleted or added; sometimes only some sections, sometimes no mapping."""
    if rng.random() < 0.3:
        tree = {key: tree[key] for key in rng.sample(sorted(tree), rng.randint(0, len(tree)))}
    for _ in range(rng.choice([0, 1, 1, 2, 3, 4])):
        node, path = tree, []
        while isinstance(node, dict) and node and rng.random() < 0.7:
            key = rng.choice(list(node))
            if not isinstance(node[key], dict):
                break
            node, path = node[key], path + [key]
        if not isinstance(node, dict):
            continue
        roll = rng.random()
        if node and roll < 0.45:
            key = rng.choice(list(node))
            node[key] = plausible(rng, node[key]) if rng.random() < 0.6 else \
                random_value(rng, known)
        elif node and roll < 0.6:
            del node[rng.choice(list(node))]
        else:
            node[random_key(rng, known)] = random_value(rng, known)
    if rng.random() < 0.03:
        return random_value(rng, known)
    return tree


def yaml_snippet(rng: random.Random) -> str:
    """YAML that only the text form can hold: anchors and aliases (bombs among them), merge
    keys, tags, several documents."""
    width, depth = rng.randint(1, 12), rng.randint(1, 10)
    kind = rng.randrange(8)
    if kind == 0:  # an alias bomb, as a value of a real key
        lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, depth)]
        key = rng.choice(["eval:\n  thresholds", "name", "train:\n  steps", "model"])
        return "\n".join(lines) + f"\n{key}: *l{depth - 1}\n"
    if kind == 1:  # a section shared by an anchor
        return "train: &t\n  steps: 3\n  seed: 1\neval: *t\n" if rng.random() < 0.5 else \
            "optim: &o\n  lr_d: 0.001\nmodel:\n  <<: *o\n"
    if kind == 2:  # merge keys
        return ("base: &b {steps: 5, batch_size: 8}\ntrain:\n  <<: *b\n  seed: 2\n"
                if rng.random() < 0.5 else "train:\n  <<: [{steps: 5}, {log_every: 1}]\n")
    if kind == 3:  # tags
        tag = rng.choice(["!!binary aGVsbG8=", "!!timestamp 2001-12-14", "!!timestamp xx",
                          "!!set {a, b}", "!!omap [a: 1]", "!!float abc", "!!int 0x1g",
                          "!!str 7", "!!python/object:os.system ls", "!!null ''",
                          "!!bool maybe", "!custom 1", "!!int " + "9" * 5000])
        key = rng.choice(["name", "train:\n  steps", "loss:\n  a", "eval:\n  thresholds"])
        return f"{key}: {tag}\n"
    if kind == 4:
        return "train:\n  steps: 3\n---\ntrain:\n  steps: 4\n"
    if kind == 5:  # a recursive alias, or one to an anchor never made
        return rng.choice(["train: &t\n  x: *t\n", "a: &a [*a]\n", "train: *nowhere\n"])
    if kind == 6:  # deep nesting
        return "name: " + "[" * rng.choice([5, 21, 999, 1001, 3000]) + "\n"
    return rng.choice(["train:\n\tsteps: 3\n", "train: {steps: 3\n", "? [a, b]\n: 1\n",
                       "train:\n  steps: .inf\n  seed: -.nan\n", "loss: {a: 1.0e+400}\n",
                       "train:\n  steps: 0b" + "1" * 300 + "\n", "train:\n  seed: 1:30:00\n",
                       "model:\n  noise: {dim: 0o777777777777}\n", ": :\n", "%YAML 9.9\n---\n"])


def mutate_bytes(rng: random.Random, data: bytes) -> bytes:
    """Bit flips, cuts, inserted bad bytes (not UTF-8, NUL, a byte order mark)."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(4)
        if not data:
            data = bytearray(b"{")
        at = rng.randrange(len(data) + 1)
        if kind == 0 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            del data[at:]
        elif kind == 2:
            data[at:at] = rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xef\xbb\xbf",
                                      b"\x80\x80", bytes(rng.randrange(256) for _ in range(4))])
        else:
            del data[at:at + rng.randint(1, 8)]
    return bytes(data)


def config_file(rng: random.Random, preset: str, folder) -> str:
    """A random config file in ``folder``: its path."""
    tree = config_lib.to_dict(PRESETS.get(preset)())
    known = sorted(config_lib.flatten(PRESETS.get(preset)()))
    known = sorted({part for key in known for part in key.split(".")})
    as_yaml = rng.random() < 0.55
    if as_yaml and rng.random() < 0.3:
        text = yaml_snippet(rng)
        if rng.random() < 0.5:
            text = yaml.safe_dump(mutate_tree(rng, tree, known)) + text
    else:
        values = mutate_tree(rng, tree, known)
        if as_yaml:
            text = yaml.safe_dump(values, allow_unicode=rng.random() < 0.5,
                                  default_flow_style=rng.choice([None, True, False]))
        else:
            text = json.dumps(values, allow_nan=True, ensure_ascii=rng.random() < 0.5,
                              indent=rng.choice([None, 2]), default=str)
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        data = mutate_bytes(rng, data)
    if rng.random() < 0.01:
        data += b" " * (config_files.MAX_CONFIG_BYTES + 1 - len(data))
    path = os.path.join(str(folder), "config" + (rng.choice([".yaml", ".yml"]) if as_yaml
                                                 else rng.choice([".json", ""])))
    with open(path, "wb") as handle:
        handle.write(data)
    return path


# --- --set overrides -----------------------------------------------------------------------------

def overrides(rng: random.Random, preset: str) -> List[str]:
    flat = config_lib.flatten(PRESETS.get(preset)())
    keys = sorted(flat)
    sets = []
    for _ in range(rng.randint(1, 4)):
        roll = rng.random()
        key = rng.choice(keys)
        if roll < 0.55:
            value = plausible(rng, flat[key])
            text = ",".join(value) if isinstance(value, list) else \
                str(value).lower() if isinstance(value, bool) else str(value) \
                if not (isinstance(value, int) and value.bit_length() > 10000) else "1"
        else:
            text = random_text(rng)
        if roll > 0.9:
            key = rng.choice([key + ".x", key.rsplit(".", 1)[0], "", ".", key + "..", "x",
                              random_text(rng), key.replace(".", "..")])
        sets.append(rng.choice([f"{key}={text}", f" {key} ={text}", key]) if roll > 0.97 else
                    f"{key}={text}")
    return sets


# --- one case ------------------------------------------------------------------------------------

class Case(NamedTuple):
    preset: str
    config_file: Optional[str]
    sets: List[str]

    def describe(self) -> str:
        head = ""
        if self.config_file:
            with open(self.config_file, "rb") as handle:
                head = f", file {self.config_file} starting {handle.read(300)!r}"
        return f"preset {self.preset}{head}, sets {[s[:200] for s in self.sets]!r}"


def make_case(seed: int, folder) -> Case:
    rng = random.Random(seed)
    preset = rng.choice(PRESET_NAMES)
    mode = rng.random()
    path = config_file(rng, preset, folder) if mode < 0.7 else None
    sets = overrides(rng, preset) if mode > 0.45 else []
    return Case(preset, path, sets)



def outcome(case: Case, needs_data_path: bool = False):
    """``resolve``'s config, or the message of its ``ConfigError``."""
    try:
        return resolve(case.preset, case.config_file, case.sets, needs_data_path=needs_data_path)
    except ConfigError as error:
        return str(error)


def check_case(seed: int, folder) -> Any:
    """Runs one case and asserts what every case must hold; returns its outcome."""
    case = make_case(seed, folder)
    where = f"seed {seed} ({case.describe()})"
    start = time.perf_counter()
    try:
        with deadline(HANG_SECONDS, where):
            result = outcome(case)
    except Hung:
        raise
    except Exception as error:
        raise AssertionError(f"{where}: {type(error).__name__}: {error}"[:3000]) from error
    took = time.perf_counter() - start
    assert took < CASE_SECONDS, f"{where}: took {took:.2f} s"
    if isinstance(result, str):
        assert result and len(result.splitlines()) == 1 and result == result.strip(), \
            f"{where}: message {result!r}"
        assert len(result) <= MAX_MESSAGE, f"{where}: a message of {len(result)} characters"
    else:
        for key, value in config_lib.flatten(result).items():
            assert not isinstance(value, float) or math.isfinite(value), f"{where}: {key}"
        assert config_lib.from_json(config_lib.to_json(result)) == result, where
    return result


# --- the runs ------------------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def registries_loaded():
    """Each preset resolved once first: the registries' first lookups import their modules
    (half a second), which no case should be timed for."""
    for name in PRESET_NAMES:
        resolve(name)

@pytest.mark.parametrize("seed", range(SHORT_SEEDS))
def test_config_fuzz_short(seed, tmp_path):
    check_case(seed, tmp_path)


def test_the_fuzz_reaches_both_outcomes(tmp_path):
    """The cases are neither all refused nor all accepted (the generator tests something)."""
    results = [check_case(seed, tmp_path) for seed in range(SHORT_SEEDS)]
    refused = sum(isinstance(result, str) for result in results)
    assert 0.1 * SHORT_SEEDS < refused < 0.95 * SHORT_SEEDS, refused


def cli_cases(folder) -> List[tuple]:
    """``CLI_CASES`` cases from ``CLI_FIRST`` on that ``lsgan train`` refuses, with their
    message: the first of each kind (a config file's, an override's, a setting's) in turn,
    among those whose overrides a command line can hold (no NUL, no lone surrogate)."""
    found, seed, kinds = [], CLI_FIRST, {"--config": 0, "--set": 0, "": 0}
    while len(found) < CLI_CASES:
        case_folder = folder / str(seed)
        case_folder.mkdir()
        case = make_case(seed, case_folder)
        result = outcome(case, needs_data_path=True)
        passable = all("\x00" not in s and not re.search("[\ud800-\udfff]", s)
                       for s in case.sets)
        if passable and isinstance(result, str):
            kind = next(prefix for prefix in kinds if result.startswith(prefix))
            if kinds[kind] < -(-CLI_CASES // len(kinds)):
                kinds[kind] += 1
                found.append((seed, case, result))
        seed += 1
    return found


def test_config_fuzz_through_the_command(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    for seed, case, message in cli_cases(tmp_path):
        out = tmp_path / f"run{seed}"
        args = [f"--preset={case.preset}", f"--out={out}"] + [f"--set={s}" for s in case.sets]
        if case.config_file:
            args.append(f"--config={case.config_file}")
        result = subprocess.run([sys.executable, "-m", "pipeline.cli", "train", *args],
                                capture_output=True, text=True, timeout=120, env=env)
        where = f"seed {seed} ({case.describe()})"
        assert result.returncode == 2 and result.stdout == "", f"{where}: {result.stderr[-2000:]}"
        assert result.stderr.splitlines() == [f"lsgan train: {message}"], where
        assert not out.exists(), where


def _long_run_selected(config) -> bool:
    """``-m fuzz`` (a marker expression naming fuzz, not as ``not fuzz``) or LSGAN_FUZZ_SEEDS."""
    if os.environ.get("LSGAN_FUZZ_SEEDS"):
        return True
    return re.search(r"(?<!not )\bfuzz\b", config.getoption("markexpr") or "") is not None


@pytest.mark.fuzz
def test_config_fuzz_long(tmp_path, request):
    if not _long_run_selected(request.config):
        pytest.skip("the long fuzz run: make fuzz (pytest -m fuzz) or LSGAN_FUZZ_SEEDS=N")
    for seed in range(LONG_FIRST, LONG_FIRST + LONG_SEEDS):
        folder = tmp_path / str(seed)
        folder.mkdir()
        check_case(seed, folder)
