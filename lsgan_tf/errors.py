"""``UsageError``: what the user asked for cannot be done as asked (a setting, a path, a data
set). The ``lsgan`` command prints its message as one line and exits with status 2; no
traceback, because nothing is wrong with the program."""


class UsageError(ValueError):
    """A bad setting or input, reported as one line (exit status 2)."""
