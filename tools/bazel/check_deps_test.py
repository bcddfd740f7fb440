# bazel: size=small
"""tools/bazel/check_deps.py: import parsing and the build-time import check."""
import os
import textwrap

import pytest

import check_deps


def write(tmp_path, relpath, text):
    path = tmp_path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return str(path)


def action(tmp_path, srcs, provided, capsys):
    argv = ["--bazel-action", "--target", "//pkg:mod", "--out", str(tmp_path / "ok"),
            "--first-party", "pkg,other"]
    for relpath in srcs:
        argv += ["--src", f"{tmp_path / relpath}={relpath}"]
    for item in provided:
        argv += ["--provided", item]
    code = check_deps.main(argv)
    return code, capsys.readouterr().err


def test_imports_relative_nested_and_type_checking(tmp_path):
    path = write(tmp_path, "pkg/sub/mod.py", """
        from typing import TYPE_CHECKING
        import os
        import pkg.a
        from . import b
        from ..c import thing
        if TYPE_CHECKING:
            import pkg.only_for_types
        else:
            import pkg.d

        def lazy():
            from other import e
        NAME = "pkg.by_name"
    """)
    imports, strings = check_deps.parse_module(path)
    wanted = [check_deps.wanted_modules(i, "pkg.sub.mod", False) for i in imports]
    flat = [choices[0] for group in wanted for choices in group]
    assert flat == ["typing.TYPE_CHECKING", "os", "pkg.a", "pkg.sub.b", "pkg.c.thing",
                    "pkg.d", "other.e"]
    assert "pkg.by_name" in strings


def test_action_passes_when_deps_cover_imports(tmp_path, capsys):
    write(tmp_path, "pkg/mod.py", "import numpy\nfrom pkg.registry import X\nfrom pkg import helper\n")
    code, err = action(tmp_path, ["pkg/mod.py"],
                       ["pkg/registry.py=//pkg:registry", "pkg/__init__.py=//pkg"], capsys)
    assert code == 0, err
    assert (tmp_path / "ok").exists()


def test_action_fails_on_missing_dep(tmp_path, capsys):
    write(tmp_path, "pkg/mod.py", "from pkg.registry import X\nimport other.tool\n")
    code, err = action(tmp_path, ["pkg/mod.py"], ["pkg/registry.py=//pkg:registry"], capsys)
    assert code == 1
    assert "//pkg:mod has a missing dependency" in err
    assert "pkg/mod.py:2: `import other.tool` needs other.tool" in err
    assert "pkg.registry" not in err.split("its deps")[0]
    assert not (tmp_path / "ok").exists()


def test_sccs_merge_cycles():
    graph = {"a": {"b": "import"}, "b": {"a": "structural"}, "c": {"a": "import"}}
    assert sorted(check_deps._sccs(graph)) == [["a", "b"], ["c"]]


@pytest.mark.parametrize("marker, expected", [
    ("# bazel: size=large, tags=slow manual", {"size": "large", "tags": ["manual", "slow"]}),
    ("# bazel: size=small", {"size": "small"}),
    ("# bazel: size=enormous", {"size": "enormous", "tags": ["slow"]}),
    ("", {"size": "medium"}),
])
def test_test_attributes(tmp_path, marker, expected):
    path = write(tmp_path, "test_x.py", f"{marker}\ndef test_x():\n    pass\n")
    assert check_deps.test_attributes(path) == expected


def test_write_keeps_hand_written_data(tmp_path):
    """`--write` keeps a hand-added ``data`` list (and other extras) of a generated target."""
    build = write(tmp_path, "BUILD", """\
        py_pytest(
            name = "t",
            srcs = ["t.py"],
            data = ["//docs:results"],
            flaky = True,
        )
        """)
    old, _ = check_deps.read_build(build)
    generated = [{"kind": "py_pytest", "name": "t", "srcs": ["t.py"], "deps": [":dep"]}]
    text = check_deps.render_build("tests", generated, old)
    assert '    data = ["//docs:results"],\n' in text
    assert "    flaky = True,\n" in text
    assert '    deps = [":dep"],\n' in text
