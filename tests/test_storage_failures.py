"""A read-only root or a full disk (issue 13): one clear line and exit status 1 from every
command, and nothing half-written left that a reader would take as complete.

The file systems are real: small ``tmpfs`` mounts (a full one, a read-only one); where this
process may not mount (no CAP_SYS_ADMIN), those tests skip with that reason. Running as root,
permissions alone would not refuse a write, which is why a chmod is not used."""
import contextlib
import errno
import os
import subprocess
import sys

import pytest

from lsgan_tf import example_schema, prepared
from lsgan_tf.errors import storage_failure

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def tmpfs(path, *options):
    """A tmpfs mounted at ``path`` for the ``with`` block, unmounted after, even on failure."""
    os.makedirs(path)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield str(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def lsgan(*args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def one_line(done, command):
    assert done.returncode == 1, done.stderr[-3000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"lsgan {command}: cannot write ("), line
    return line


@pytest.mark.parametrize("error, expected", [
    (OSError(errno.ENOSPC, "No space left on device", "/d/x"),
     "cannot write (No space left on device: /d/x); "),
    (RuntimeError("OSError: [Errno 28] No space left on device [while running 'Write']"),
     "cannot write (OSError: [Errno 28] No space left on device [while running 'Write']); "),
    (PermissionError(errno.EROFS, "Read-only file system"), "cannot write (Read-only file "
                                                            "system); "),
])
def test_storage_failures_are_found_in_the_error_or_its_chain(error, expected):
    try:
        try:
            raise error
        except Exception as inner:
            raise ValueError("a library's wrapper") from inner
    except ValueError as outer:
        assert storage_failure(outer).startswith(expected)
    assert storage_failure(KeyError("x")) is None
    assert storage_failure(OSError(errno.ENOENT, "No such file or directory", "x")) is None


@pytest.mark.slow
def test_prep_on_a_full_disk_is_one_line_and_leaves_a_refused_directory(tmp_path):
    with tmpfs(tmp_path / "full", "size=64k") as full:
        out = os.path.join(full, "out")
        line = one_line(lsgan("prep", "--source=digits", "--max_records=600", f"--output={out}",
                              "--", "--direct_running_mode=in_memory"), "prep")
        assert "No space left on device" in line
        assert not os.path.exists(os.path.join(out, example_schema.STATS_FILE))
        with pytest.raises(prepared.DataError, match="stats.json, which `lsgan prep` writes last"):
            prepared.check(out, example_schema.TRAIN)


@pytest.mark.slow
def test_train_on_a_full_disk_leaves_no_model(tmp_path):
    with tmpfs(tmp_path / "full", "size=256k") as full:
        out = os.path.join(full, "run")
        line = one_line(lsgan("train", "--preset=digits", "--steps=2", f"--out={out}"), "train")
        assert "No space left on device" in line
        assert not os.path.exists(os.path.join(out, "export"))


@pytest.mark.slow
def test_a_read_only_root_is_one_line_for_train_prep_and_run(tmp_path):
    with tmpfs(tmp_path / "ro", "ro", "size=64k") as read_only:
        for command, flag in (("train", "--out"), ("run", "--root"), ("prep", "--output")):
            args = ["--source=digits"] if command == "prep" else ["--preset=digits"]
            line = one_line(lsgan(command, *args, f"{flag}={read_only}/x"), command)
            assert "Read-only file system" in line
        assert os.listdir(read_only) == []
