"""Main of every ``py_pytest`` target (tools/bazel/pytest.bzl): runs pytest on the test files.

Bazel passes the test files (runfiles-relative paths) as arguments; the working directory is
the workspace's runfiles root, where ``pyproject.toml`` (pytest's settings) is a data file.
Writes the JUnit XML Bazel asks for and maps ``--test_filter`` to ``pytest -k``.
"""
import os
import sys

import pytest


def main() -> int:
    args = ["-p", "no:cacheprovider", "-q", "--rootdir", os.getcwd()]
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        args += ["--junitxml", xml]
    only = os.environ.get("TESTBRIDGE_TEST_ONLY")
    if only:
        args += ["-k", only]
    return pytest.main(args + sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
