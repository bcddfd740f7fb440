"""Python rules of the project: native py_library/py_test plus a build-time import check.

``py_module`` is a ``py_library`` of one module whose ``data`` holds the output of an import
check: an action that parses the module's imports (``check_deps.py --bazel-action``) and fails
the build when a first-party module it imports is provided neither by its own ``srcs`` nor by
the ``srcs`` of a direct dependency. ``py_pytest`` runs test files with pytest
(``pytest_main.py``) under the same check.

BUILD files of the Python packages are written by ``tools/bazel/check_deps.py --write``.
"""

load(":first_party.bzl", "FIRST_PARTY")

_CHECKER = "//tools/bazel:check_deps.py"

DirectPySrcsInfo = provider(
    doc = "The srcs of a Python target itself (not of its dependencies).",
    fields = {"srcs": "list of File"},
)

def _direct_srcs_aspect_impl(target, ctx):
    srcs = getattr(ctx.rule.files, "srcs", [])
    return [DirectPySrcsInfo(srcs = [f for f in srcs if f.extension == "py"])]

_direct_srcs_aspect = aspect(implementation = _direct_srcs_aspect_impl)

def _import_check_impl(ctx):
    out = ctx.actions.declare_file(ctx.label.name + ".ok")
    args = ctx.actions.args()
    args.add("--bazel-action")
    args.add("--target", str(ctx.label).replace("@//", "//").replace(".import_check", ""))
    args.add("--out", out)
    args.add_joined("--first-party", FIRST_PARTY, join_with = ",")
    args.add_all(ctx.files.srcs, before_each = "--src", map_each = _src_arg)
    inputs = list(ctx.files.srcs)
    for dep in ctx.attr.deps:
        for f in dep[DirectPySrcsInfo].srcs:
            args.add("--provided", "%s=%s" % (_short_path(f), dep.label))
    ctx.actions.run_shell(
        inputs = inputs + [ctx.file._checker],
        outputs = [out],
        # Plain python3 without site: the checker needs the standard library only.
        command = 'exec python3 -S "$@"',
        arguments = [ctx.file._checker.path, args],
        mnemonic = "PyImportCheck",
        progress_message = "Checking the imports of %s against its deps" % ctx.label,
    )
    # In runfiles too, so that every binary or test that depends on the module builds it.
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

def _short_path(f):
    # Path from the root of the file's repository ("../<repo>/" dropped for files of this
    # workspace when another workspace depends on it).
    path = f.short_path
    if path.startswith("../"):
        path = path.split("/", 2)[2]
    return path

def _src_arg(f):
    return "%s=%s" % (f.path, _short_path(f))

_import_check = rule(
    implementation = _import_check_impl,
    attrs = {
        "srcs": attr.label_list(allow_files = [".py"]),
        "deps": attr.label_list(aspects = [_direct_srcs_aspect]),
        "_checker": attr.label(default = _CHECKER, allow_single_file = True),
    },
)

def py_module(name, srcs, deps = [], data = [], visibility = None, **kwargs):
    """A py_library whose first-party imports must be covered by srcs and direct deps."""
    _import_check(
        name = name + ".import_check",
        srcs = srcs,
        deps = deps,
        visibility = ["//visibility:private"],
    )
    native.py_library(
        name = name,
        srcs = srcs,
        deps = deps,
        data = data + [":" + name + ".import_check"],
        visibility = visibility,
        **kwargs
    )

def py_pytest(name, srcs, deps = [], data = [], args = [], **kwargs):
    """A py_test that runs the test files in srcs with pytest, under the import check."""
    _import_check(
        name = name + ".import_check",
        srcs = srcs,
        deps = deps,
        testonly = True,
        visibility = ["//visibility:private"],
    )
    native.py_test(
        name = name,
        srcs = srcs + ["//tools/bazel:pytest_main.py"],
        main = "//tools/bazel:pytest_main.py",
        args = ["$(rootpath %s)" % src for src in srcs] + args,
        deps = deps,
        data = data + ["//:pyproject.toml", ":" + name + ".import_check"],
        python_version = "PY3",
        srcs_version = "PY3",
        **kwargs
    )
