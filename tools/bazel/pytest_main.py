"""Main of every ``py_pytest`` target (tools/bazel/defs.bzl): runs pytest on the test files.

Bazel passes the test files (runfiles-relative paths) as arguments; the working directory is
the workspace's runfiles root, where ``pyproject.toml`` (pytest's settings) is a data file.
Writes the JUnit XML Bazel asks for, keeps pytest's temporary files in the test's
``TEST_TMPDIR`` and maps ``--test_filter`` to ``pytest -k``.
"""
import os
import sys

import pytest


def main() -> int:
    args = ["-p", "no:cacheprovider", "-q", "--rootdir", os.getcwd()]
    tmp = os.environ.get("TEST_TMPDIR")
    if tmp:  # per test target: tests running side by side don't share /tmp/pytest-of-<user>
        args += ["--basetemp", os.path.join(tmp, "pytest")]
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        args += ["--junitxml", xml]
    only = os.environ.get("TESTBRIDGE_TEST_ONLY")
    if only:
        args += ["-k", only]
    code = pytest.main(args + sys.argv[1:])
    if only and code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return 0  # --test_filter matched nothing in this file
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
