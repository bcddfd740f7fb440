"""The output-folder contract (issue 24, class 1): ``lsgan train --out`` writes only into a
folder that is absent, empty or a run it made; ``--out=`` is refused; a second ``lsgan train``
on a held ``--out`` fails at once; a prepared dataset is not a run folder. The module's checks
in process; ``lsgan train`` and ``lsgan generate`` as subprocesses: a command module defines
required flags (``--out``) that would then be checked for every other command parsed in this
process (``lsgan prep`` in process, tests/data_prep)."""
import io
import json
import os
import subprocess
import sys

import pytest

from helpers import TINY_MODEL, as_flags, tiny_digits, tree
from lsgan_tf import output_folder
from lsgan_tf.errors import UsageError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = as_flags([*TINY_MODEL, "train.batch_size=8", "train.log_every=1",
                 "train.sample_every=1000", "train.checkpoint_every=1"])


def lsgan(*args, cwd=REPO):
    """``lsgan ARGS`` as a user's shell starts it; returns (exit status, stdout, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=cwd,
                          env={**env, "PYTHONPATH": REPO}, capture_output=True, text=True,
                          timeout=300)
    return done.returncode, done.stdout, done.stderr



def users_folder(path):
    """A folder of the user's own: a note and a SavedModel-like folder."""
    (path / "saved_model" / "variables").mkdir(parents=True)
    (path / "saved_model" / "saved_model.pb").write_bytes(b"the user's model")
    (path / "notes.txt").write_text("mine\n")
    return tree(path)


def one_line(status, err, expected_status=2):
    assert status == expected_status, err[-2000:]
    (line,) = err.strip().splitlines()
    assert "Traceback" not in err
    return line


def test_a_folder_of_the_users_files_is_refused_and_left_byte_for_byte(tmp_path):
    out = tmp_path / "mine"
    before = users_folder(out)
    status, stdout, err = lsgan("train", f"--out={out}", "--steps=1", *TINY)
    line = one_line(status, err)
    assert line == (f"lsgan train: --out={out} already holds files that `lsgan train` did not "
                    f"make (notes.txt, saved_model); nothing was written: choose an absent or "
                    f"empty folder (or one an earlier `lsgan train` made)")
    assert stdout == "" and tree(out) == before


@pytest.mark.parametrize("value", ["", "   "])
def test_an_empty_out_is_refused_and_the_current_folder_untouched(tmp_path, value):
    before = users_folder(tmp_path)
    status, _, err = lsgan("train", f"--out={value}", "--steps=1", *TINY, cwd=tmp_path)
    line = one_line(status, err)
    assert line == (f"lsgan train: --out={value!r}: name a folder (an empty path would be the "
                    f"current folder)")
    assert tree(tmp_path) == before


def test_a_prepared_dataset_is_not_a_run_folder(tmp_path):
    marked, legacy = tmp_path / "marked", tmp_path / "legacy"
    output_folder.mark(str(marked), output_folder.PREPARED)
    for split in ("Split-train", "Split-eval"):
        (legacy / split).mkdir(parents=True)
        (legacy / split / "data-00000-of-00001.tfrecord.gz").write_bytes(b"records")
    (legacy / "stats.json").write_text("{}")
    for out in (marked, legacy):
        before = tree(out)
        line = one_line(*lsgan("train", f"--out={out}", "--steps=1", *TINY)[::2])
        assert line == (f"lsgan train: --out={out} is a prepared dataset made by `lsgan prep`, "
                        "not a training run; choose an absent or empty folder for `lsgan train`")
        assert tree(out) == before


def test_a_second_train_on_a_held_out_fails_at_once_naming_the_holder(tmp_path):
    out = tmp_path / "run"
    with output_folder.claim(str(out), output_folder.TRAIN):
        status, _, err = lsgan("train", f"--out={out}", "--steps=1", *TINY)
    line = one_line(status, err)
    assert line.startswith(f"lsgan train: another `lsgan train` is using --out={out} "
                           f"(pid {os.getpid()}, since "), line
    assert line.endswith("); wait for it to end or choose another --out")
    assert sorted(os.listdir(out)) == [output_folder.MARKER, output_folder.LOCK_FILE]


def test_a_run_made_before_the_marker_resumes_and_is_marked_then_resumes_again(tmp_path):
    from lsgan_tf.training import train

    out = tmp_path / "run"
    assert train(tiny_digits(steps=2), str(out)).step == 2  # as an earlier version made it
    assert not (out / output_folder.MARKER).exists()
    status, stdout, err = lsgan("train", f"--out={out}", "--steps=3", *TINY)
    assert status == 0, err[-2000:]
    assert "resuming from" in stdout and "step 3/3" in stdout
    with open(out / output_folder.MARKER) as handle:
        assert json.load(handle) == {"kind": "train", "made_by": "lsgan train", "format": 1}
    console = io.StringIO()
    with output_folder.claim(str(out), output_folder.TRAIN):  # what `lsgan train` holds
        assert train(tiny_digits(steps=4), str(out), stream=console).step == 4
    assert "at step 3" in console.getvalue()


@pytest.mark.parametrize("tf_config, chief", [
    (None, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}}, True),
    ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}}, False),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}},
     True),
    ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}},
     False),
])
def test_only_the_chief_of_a_multi_worker_run_claims_the_out(tf_config, chief):
    from lsgan_tf.cluster_role import writes_outputs

    environ = {} if tf_config is None else {"TF_CONFIG": json.dumps(tf_config)}
    assert writes_outputs("multi_worker", environ) is chief
    assert writes_outputs("default", environ) is True  # one process: it writes
    with pytest.raises(UsageError, match=r"^TF_CONFIG is not a JSON object"):
        writes_outputs("multi_worker", {"TF_CONFIG": "[1, 2]"})


def test_check_accepts_absent_empty_and_own_folders_only(tmp_path):
    train = output_folder.TRAIN
    assert output_folder.check(str(tmp_path / "absent"), train) is False
    assert output_folder.check(str(tmp_path), train) is False  # empty
    output_folder.mark(str(tmp_path / "run"), train)
    assert output_folder.check(str(tmp_path / "run"), train) is True
    assert output_folder.check(str(tmp_path / "run"), train) is True
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match=r"--out=.*/file is a file, not a folder"):
        output_folder.check(str(tmp_path / "file"), train)
    with pytest.raises(UsageError, match=r"is a training run made by `lsgan train`, not a "
                                         r"pipeline root"):
        output_folder.check(str(tmp_path / "run"), output_folder.PIPELINE)
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / output_folder.MARKER).write_text("{not json")
    with pytest.raises(UsageError, match=r"did not make \(.lsgan-output\)"):
        output_folder.check(str(tmp_path / "damaged"), train)


def test_a_refusal_names_a_few_entries_and_counts_them(tmp_path):
    for index in range(7):
        (tmp_path / f"f{index}").write_text("x")
    with pytest.raises(UsageError, match=r"did not make \(f0, f1, f2, f3, \.\.\. \(7 entries\)\)"):
        output_folder.check(str(tmp_path), output_folder.TRAIN)


def test_a_remote_folder_is_checked_and_marked_without_a_lock():
    import tensorflow as tf

    root = "ram://output_folder_test"
    with output_folder.claim(f"{root}/run", output_folder.TRAIN) as where:
        assert where == f"{root}/run"
    assert tf.io.gfile.exists(f"{root}/run/{output_folder.MARKER}")
    assert not tf.io.gfile.exists(f"{root}/run/{output_folder.LOCK_FILE}")
    with output_folder.claim(f"{root}/run", output_folder.TRAIN):
        pass  # its own: accepted again
    with tf.io.gfile.GFile(f"{root}/theirs/a.txt", "w") as handle:
        handle.write("x")
    with pytest.raises(UsageError, match=r"did not make \(a.txt\)"):
        output_folder.check(f"{root}/theirs", output_folder.TRAIN)


@pytest.mark.parametrize("name", ["../../x", "..", ".", "", "a/b", "a\\b", ".hidden", "-x",
                                  "_x", "x" * 58, "é", "Digits", "a.b", "a b"])
def test_a_name_that_is_not_one_plain_folder_name_is_refused(name):
    with pytest.raises(UsageError, match=r"must be a plain folder name"):
        output_folder.check_name("name", name)


@pytest.mark.parametrize("name", ["digits", "lsun_112", "hwdb_3740", "mog8", "my-run_2", "x" * 57])
def test_preset_like_names_pass(name):
    assert output_folder.check_name("name", name) == name


def test_check_apart_compares_real_paths_and_url_prefixes(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (tmp_path / "link").symlink_to(data)
    apart = output_folder.check_apart
    apart("--root", str(tmp_path / "root"), "--input", str(data))
    apart("--root", str(tmp_path / "database"), "--input", str(data))  # a prefix, not a parent
    apart("--root", "gs://b/root", "--input", str(data))
    apart("--root", str(data), "--input", "")
    for root, given in [(data / "root", str(data)), (tmp_path / "link" / "root", str(data)),
                        (data, str(data)), (data / "r", f"{data}/**/*.gnt"),
                        ("gs://b/in//x/", "gs://b/in")]:
        with pytest.raises(UsageError, match=r"--root=.* is inside --input="):
            apart("--root", str(root), "--input", given)
    for root, given in [(tmp_path, str(data)), (tmp_path, str(tmp_path / "link" / "x.idx")),
                        ("gs://b", "gs://b/./in/x")]:
        with pytest.raises(UsageError, match=r"--input=.* is inside --root="):
            apart("--root", str(root), "--input", given)


@pytest.mark.parametrize("kind", ["empty", "folder"])
def test_generate_refuses_an_empty_out_or_a_folder_before_loading_the_model(tmp_path, kind):
    (tmp_path / "grids").mkdir()
    out = "" if kind == "empty" else str(tmp_path / "grids")
    status, _, err = lsgan("generate", f"--model={tmp_path / 'no_model'}", f"--out={out}",
                           cwd=tmp_path)
    line = one_line(status, err)
    assert line == ("lsgan generate: --out='': name a PNG file (an empty path would be the "
                    "current folder)" if kind == "empty" else
                    f"lsgan generate: --out={out} is a folder; name the PNG file to write in it "
                    f"(--out={out}/grid.png)")
    assert sorted(os.listdir(tmp_path)) == ["grids"] and os.listdir(tmp_path / "grids") == []
