"""Main of every ``py_pytest`` target (tools/bazel/defs.bzl): runs pytest on the test files.

Bazel passes the test files (runfiles-relative paths) as arguments; the working directory is
the workspace's runfiles root, where ``pyproject.toml`` (pytest's settings) is a data file.
Writes the JUnit XML Bazel asks for, keeps pytest's temporary files in the test's
``TEST_TMPDIR``, maps ``--test_filter`` to ``pytest -k``, and passes a file that skips itself
as a whole (pytest's exit status 5, "no tests collected"); a file without tests fails. Tests
marked ``containers`` are left out: they need a Docker engine and the image that ``make
test-containers`` builds, which no Bazel sandbox has.
"""
import os
import sys

import pytest


class _Skips:
    """Counts skipped tests and modules (a module skipped as a whole collects no test)."""

    def __init__(self):
        self.count = 0

    def pytest_collectreport(self, report):
        self.count += bool(report.skipped)

    def pytest_runtest_logreport(self, report):
        self.count += bool(report.skipped and report.when == "setup")


def main() -> int:
    args = ["-p", "no:cacheprovider", "-q", "--rootdir", os.getcwd(), "-m", "not containers"]
    tmp = os.environ.get("TEST_TMPDIR")
    if tmp:  # per test target: tests running side by side don't share /tmp/pytest-of-<user>
        args += ["--basetemp", os.path.join(tmp, "pytest")]
    xml = os.environ.get("XML_OUTPUT_FILE")
    if xml:
        args += ["--junitxml", xml]
    only = os.environ.get("TESTBRIDGE_TEST_ONLY")
    if only:
        args += ["-k", only]
    skips = _Skips()
    code = pytest.main(args + sys.argv[1:], plugins=[skips])
    if code == pytest.ExitCode.NO_TESTS_COLLECTED and (only or skips.count):
        return 0  # --test_filter matched nothing here, or the whole file skipped itself
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
