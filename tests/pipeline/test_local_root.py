"""One ``lsgan run`` per root, and a damaged metadata store reported by name (issue 13,
defect 10 and the concurrent-runs probe): both refused in one line, before TFX loads."""
import os
import subprocess
import sys

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from lsgan_tf.errors import UsageError
from pipeline.local_root import claim, check_metadata

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lsgan_run(root, *args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "--preset=digits",
                           f"--root={root}", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, env=env)


def real_store(path):
    """A real ML Metadata SQLite store with one artifact in it."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    store = metadata_store.MetadataStore(config)
    kind = metadata_store_pb2.ArtifactType(name="Examples")
    artifact = metadata_store_pb2.Artifact(type_id=store.put_artifact_type(kind), uri="/x")
    store.put_artifacts([artifact])
    del store
    return str(path)


def test_a_second_claim_on_one_root_is_refused_naming_the_holder(tmp_path):
    with claim(str(tmp_path)) as root:
        assert root == str(tmp_path)
        with pytest.raises(UsageError, match=rf"another `lsgan run` is using --root={root} "
                                             rf"\(pid {os.getpid()}, since "):
            with claim(str(tmp_path)):
                pass
    with claim(str(tmp_path)):   # released at the end of the block
        pass


def test_lsgan_run_on_a_held_root_exits_2_before_doing_anything(tmp_path):
    with claim(str(tmp_path)):
        done = lsgan_run(tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"lsgan run: another `lsgan run` is using --root={tmp_path} "
                           f"(pid {os.getpid()}, since "), line
    assert line.endswith("); wait for it to end or choose another --root"), line
    assert sorted(os.listdir(tmp_path)) == [".lsgan-output", "run.lock"]


def test_a_sound_store_passes_and_a_truncated_one_is_named_with_the_way_out(tmp_path):
    path = real_store(tmp_path / "metadata.sqlite")
    check_metadata(path)
    check_metadata(str(tmp_path / "absent.sqlite"))
    size = os.path.getsize(path)
    os.truncate(path, size // 2)
    with pytest.raises(UsageError, match=rf"the ML Metadata store {path} is damaged \(database "
                                         rf"disk image is malformed\); move it aside \(mv {path} "
                                         rf"{path}.damaged\)"):
        check_metadata(path)


def test_lsgan_run_with_a_damaged_store_exits_2_and_keeps_the_artifacts(tmp_path):
    os.makedirs(tmp_path / "pipeline" / "Trainer")
    (tmp_path / "metadata.sqlite").write_bytes(b"this is not a database, and not empty either" * 100)
    done = lsgan_run(tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"lsgan run: the ML Metadata store {tmp_path}/metadata.sqlite is "
                           "damaged (file is not a database); move it aside"), line
    assert os.path.isdir(tmp_path / "pipeline" / "Trainer")


def test_a_remote_root_is_refused(tmp_path):
    with pytest.raises(UsageError, match="needs a local folder"):
        with claim("gs://bucket/runs"):
            pass
