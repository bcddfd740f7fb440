"""The output-folder contract for ``lsgan run --root`` and ``lsgan compile`` (issue 24, class 1):
a ``name`` that is not one plain folder name, a root inside the input or holding it, an empty
``--root``, a root of the user's files or of another kind: each is one line and exit status 2
before TFX loads, and nothing is written. As subprocesses: ``pipeline.commands.run`` and
``lsgan_tf.commands.train`` define the same flags, so one test process holds only one of them."""
import os
import subprocess
import sys

import pytest

from helpers import image_folder, tree
from lsgan_tf import output_folder

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lsgan(*args, cwd=REPO):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = REPO
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def refused(done, command="run"):
    """The one line of a refused command (exit status 2, no traceback)."""
    assert done.returncode == 2, done.stderr[-3000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"lsgan {command}: "), line
    return line[len(f"lsgan {command}: "):]




NAME_LINE = ("name='../../../../x': must be a plain folder name (lower-case letters, digits, "
             "'_', '-', starting with a letter or digit; at most 57 characters): it becomes "
             "part of the paths under the root and of the pipeline's name")


def test_run_refuses_a_name_that_climbs_out_of_the_root(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    line = refused(lsgan("run", "--preset=digits", "--set=name=../../../../x",
                         f"--root={work}/root"))
    assert line == NAME_LINE
    line = refused(lsgan("run", "--preset=digits", "--set=name=../../../../x", cwd=work))
    assert line == NAME_LINE  # the default root runs/pipeline/<name> too
    assert tree(tmp_path) == {"work": None}


def test_compile_refuses_such_a_name_and_writes_no_spec(tmp_path):
    spec = tmp_path / "pipeline.json"
    line = refused(lsgan("compile", "--image=x", "--root=gs://bucket/lsgan",
                         f"--output={spec}", "--set=name=../../../../x"), "compile")
    assert line == NAME_LINE
    assert not spec.exists()


def test_run_refuses_a_root_inside_the_input_and_an_input_inside_the_root(tmp_path):
    data = tmp_path / "data"
    before = image_folder(data)
    (tmp_path / "link").symlink_to(data)
    for root in (data / "root", tmp_path / "link" / "root", data):
        line = refused(lsgan("run", "--preset=digits", "--source=folder", f"--input={data}",
                             f"--root={root}"))
        assert line == (f"--root={root} is inside --input={data}: the files written there "
                        "would be read as input; choose an --root outside it")
    line = refused(lsgan("run", "--preset=digits", "--source=folder", f"--input={data}",
                         f"--root={tmp_path}"))
    assert line == (f"--input={data} is inside --root={tmp_path}: the input would be mixed with "
                    "the outputs; choose an --root that does not hold the input")
    assert tree(data) == before and sorted(os.listdir(tmp_path)) == ["data", "link"]


def test_compile_refuses_a_root_inside_the_input(tmp_path):
    line = refused(lsgan("compile", "--image=x", "--root=gs://bucket/pets//lsgan/",
                         "--source=folder", "--input=gs://bucket/pets",
                         f"--output={tmp_path / 'pipeline.json'}"), "compile")
    assert line.startswith("--root=gs://bucket/pets//lsgan/ is inside --input=gs://bucket/pets")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("flag", ["--root=", "--root= "])
def test_run_refuses_an_empty_root(tmp_path, flag):
    line = refused(lsgan("run", "--preset=digits", flag, cwd=tmp_path))
    assert line.endswith(": name a folder (an empty path would be the current folder)")
    assert os.listdir(tmp_path) == []


def test_run_refuses_a_root_of_the_users_files_or_of_another_kind(tmp_path):
    mine, prepared = tmp_path / "mine", tmp_path / "prepared"
    before = image_folder(mine)
    line = refused(lsgan("run", "--preset=digits", f"--root={mine}"))
    assert line == (f"--root={mine} already holds files that `lsgan run` did not make (cats, "
                    "dogs); nothing was written: choose an absent or empty folder (or one an "
                    "earlier `lsgan run` made)")
    assert tree(mine) == before
    output_folder.mark(str(prepared), output_folder.PREPARED)
    line = refused(lsgan("run", "--preset=digits", f"--root={prepared}"))
    assert line == (f"--root={prepared} is a prepared dataset made by `lsgan prep`, not a "
                    "pipeline root; choose an absent or empty folder for `lsgan run`")
    assert os.listdir(prepared) == [output_folder.MARKER]


def test_a_root_made_before_the_marker_is_still_ours(tmp_path):
    """A root of an earlier ``lsgan run`` (``metadata.sqlite``, ``pipeline/``) is accepted and
    marked; here the run then stops at an unknown ``--source``, after the claim."""
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "metadata.sqlite").write_bytes(b"")
    line = refused(lsgan("run", "--preset=digits", f"--root={tmp_path}", "--source=nope"))
    assert line.startswith("--source=nope: unknown")
    assert sorted(os.listdir(tmp_path)) == [output_folder.MARKER, "metadata.sqlite", "pipeline",
                                            output_folder.LOCK_FILE]


def test_the_pipeline_refuses_such_a_name_whoever_builds_it(tmp_path):
    import dataclasses

    from lsgan_tf.config import resolve
    from lsgan_tf.errors import UsageError
    from pipeline.local_runner import run_local

    config = dataclasses.replace(resolve("digits"), name="../../../../x")
    with pytest.raises(UsageError, match=r"pipeline_name='lsgan_../../../../x': must be a plain "
                                         r"folder name"):
        run_local(root=str(tmp_path / "root"), config=config, source="digits")
    assert tree(tmp_path) == {"root": None}  # TFX's SQLite settings make the folder, no more
