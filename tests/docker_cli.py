"""The Docker engine as the container tests use it (marker ``containers``, ``make
test-containers``): the image under test, and containers that are always removed.

``make test-containers`` starts an engine when none answers (``tools/docker/with_dockerd.sh``),
builds the image and names it in ``$LSGAN_TEST_IMAGE``; ``$DOCKER`` is the client. Every
container is started with a name of its own and removed by that name when the ``Containers``
block ends, whether the test passed, failed or was interrupted. Containers run as the calling
user, with ``HOME=/tmp``, and see only the folders the test mounts (at the same paths).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from typing import Dict, Iterable, List, Optional

import pytest

IMAGE_ENV = "LSGAN_TEST_IMAGE"


def client() -> str:
    return os.environ.get("DOCKER", "docker")


def image_under_test() -> str:
    """The image ``make test-containers`` built; a missing one or a silent engine is one line."""
    image = os.environ.get(IMAGE_ENV)
    if not image:
        pytest.fail(f"${IMAGE_ENV} names no image: run these tests with `make test-containers`")
    found = subprocess.run([client(), "image", "inspect", "--format", "{{.Id}}", image],
                           capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"the Docker engine has no image {image}: {found.stderr.strip()[-300:]}")
    return image


class Containers:
    """Starts containers of one image and removes every one of them on exit."""

    def __init__(self, image: str, mounts: Iterable[str], network: str = "none"):
        self.image, self.mounts, self.network = image, [str(m) for m in mounts], network
        self.names: List[str] = []

    def __enter__(self) -> "Containers":
        return self

    def __exit__(self, *exc) -> None:
        if self.names:
            subprocess.run([client(), "rm", "--force", *self.names], capture_output=True)

    def command(self, argv: List[str], workdir: Optional[str] = None,
                env: Iterable[str] = (), name: str = "") -> List[str]:
        """``docker run`` for ``argv`` in a new container named ``name`` (or a fresh name);
        ``env`` lists variables passed on from the client's environment."""
        name = name or f"lsgan-test-{uuid.uuid4().hex[:12]}"
        self.names.append(name)
        flags = ["run", "--rm", "--name", name, f"--network={self.network}",
                 f"--user={os.getuid()}:{os.getgid()}", "--env", "HOME=/tmp"]
        for mount in self.mounts:
            flags += ["--volume", f"{mount}:{mount}"]
        for variable in env:
            flags += ["--env", variable]
        if workdir:
            flags += ["--workdir", workdir]
        return [client(), *flags, self.image, *argv]

    def run(self, argv: List[str], workdir: Optional[str] = None,
            env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        """Runs ``argv`` in a container to its end; output captured. ``env``: variables to set."""
        passed = dict(os.environ, **(env or {}))
        return subprocess.run(self.command(argv, workdir, env=sorted(env or {})),
                              env=passed, capture_output=True, text=True)

    def runner(self, timings: Dict[str, float]):
        """A ``kfp_launcher`` runner: each task's command line in a container of the image, its
        wall time (container start included) kept in ``timings`` under the executor's package
        (``components.example_gen.executor.Executor`` -> ``example_gen``)."""
        def run_task(argv: List[str], cwd: str, env=None) -> subprocess.CompletedProcess:
            start = time.monotonic()
            result = self.run(argv, workdir=cwd, env=env)
            flag = "--executor_class_path"
            executor = argv[argv.index(flag) + 1] if flag in argv else argv[0]
            parts = executor.split(".")
            timings[parts[-3] if len(parts) >= 3 else executor] = time.monotonic() - start
            return result
        return run_task

    def signal(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """What Kubernetes does to a pod's container: ``sig`` to its main process."""
        subprocess.run([client(), "kill", f"--signal={sig.name}", name], check=True,
                       capture_output=True)
