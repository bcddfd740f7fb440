"""What the ``lsgan`` command reports as one line instead of a traceback.

``UsageError``: what the user asked for cannot be done as asked (a setting, a path, a data set);
one line, exit status 2, because nothing is wrong with the program.

``ConfigError``: the ``UsageError`` of the config chain (a bad override, key, value or config
file; ``lsgan_tf.config``, ``lsgan_tf.validation``).

``storage_failure(error)``: a write refused by the storage itself (a full disk, a read-only file
system, a quota, no permission), however deep in TensorFlow, Beam or TFX it was raised and
however they wrapped it (an ``OSError`` in the exception's chain, or its text in a wrapper's
message: Beam re-raises ``RuntimeError("OSError: [Errno 28] ...")``, TensorFlow raises
``PermissionDeniedError("/path; Read-only file system")``). ``lsgan`` prints it as one line and
exits with status 1.
"""
from __future__ import annotations

import errno
import os
from typing import Optional

STORAGE_ERRNOS = (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES)
STORAGE_TEXTS = tuple(os.strerror(code) for code in STORAGE_ERRNOS)


class UsageError(ValueError):
    """A bad setting or input, reported as one line (exit status 2)."""


class ConfigError(UsageError):
    """A bad override, key or value in an experiment configuration."""


def _chain(error: BaseException):
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def storage_failure(error: BaseException) -> Optional[str]:
    """One line naming the storage failure behind ``error`` (module docstring), else None."""
    for link in _chain(error):
        if isinstance(link, OSError) and link.errno in STORAGE_ERRNOS:
            where = f": {link.filename}" if link.filename else ""
            reason = f"{os.strerror(link.errno)}{where}"
            break
        text = " ".join(str(link).split())
        if any(storage_text in text for storage_text in STORAGE_TEXTS):
            reason = text[:300]
            break
    else:
        return None
    return (f"cannot write ({reason}); free space or fix the permissions, or write elsewhere. "
            f"What this command had written there is incomplete and is refused by every reader "
            f"(--verbose shows the traceback)")
