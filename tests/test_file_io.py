"""Every path may be remote: the library, the components and the pipeline read and write files
through ``tf.io.gfile`` (``lsgan_tf.paths``) or TFX's ``fileio``. This test reads their source
(the AST, not the text) and fails on local-only file calls outside a short allow-list."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("lsgan_tf", "components", "pipeline")
LOCAL_ONLY_CALLS = {"open", "os.path.exists", "os.path.isfile", "os.path.isdir",
                    "os.path.getsize", "glob.glob", "os.makedirs", "os.listdir", "os.remove",
                    "os.rename", "os.walk", "os.mkdir", "io.open"}
LOCAL_ONLY_MODULES = {"shutil", "glob"}
ALLOWED = {
    # `lsgan run`'s root is local by contract (SQLite and flock need one; a scheme:// root is
    # refused first) and is locked and checked before TensorFlow loads.
    ("pipeline/local_root.py", "os.path.exists"),
    # Output folders (`--out`, `--root`, `--output`): a local one is checked, marked and locked
    # before TensorFlow loads; a remote one goes through tf.io.gfile or Beam's FileSystems in
    # the same functions.
    ("lsgan_tf/output_folder.py", "os.listdir"),
    ("lsgan_tf/output_folder.py", "os.makedirs"),
    ("lsgan_tf/output_folder.py", "open"),
    ("lsgan_tf/output_folder.py", "os.rename"),
    # The memory estimate reads the container's memory limit from /sys/fs/cgroup.
    ("lsgan_tf/memory_estimate.py", "open"),
    # train.precision=auto reads the CPU's flags from /proc/cpuinfo, a system file.
    ("lsgan_tf/precision.py", "open"),
}


def dotted(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def local_only_uses(path: pathlib.Path):
    """(call or module, line) of each local-only file call or import in one source file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and dotted(node.func) in LOCAL_ONLY_CALLS:
            yield dotted(node.func), node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in LOCAL_ONLY_MODULES:
                    yield f"import {alias.name}", node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module in LOCAL_ONLY_MODULES:
            yield f"from {node.module} import", node.lineno


def sources():
    if not (ROOT / "lsgan_tf" / "config.py").exists():
        pytest.skip("the package sources are not beside this test (Bazel's runfiles hold only "
                    "declared deps); `make test` runs it on the source tree")
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_no_local_only_file_calls():
    found = [f"{path.relative_to(ROOT)}:{line}: {what}"
             for path in sources() for what, line in local_only_uses(path)
             if (str(path.relative_to(ROOT)), what) not in ALLOWED]
    assert found == [], "use lsgan_tf.paths (tf.io.gfile) or tfx.dsl.io.fileio:\n" + "\n".join(found)


def test_allow_list_entries_are_still_needed():
    used = {(str(path.relative_to(ROOT)), what) for path in sources()
            for what, _ in local_only_uses(path)}
    assert ALLOWED <= used, f"remove stale entries: {sorted(ALLOWED - used)}"


@pytest.mark.parametrize("code, expected", [
    ("open('x')", ["open"]), ("os.path.exists(p)", ["os.path.exists"]),
    ("import shutil", ["import shutil"]), ("from glob import glob", ["from glob import"]),
    ("tf.io.gfile.exists(p)", []), ("paths.open_thing(p)", []),
])
def test_the_scan_sees_calls_and_imports(tmp_path, code, expected):
    source = tmp_path / "module.py"
    source.write_text(f"import os\n{code}\n")
    assert [what for what, _ in local_only_uses(source)] == expected
