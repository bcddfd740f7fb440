"""Values as one-line error messages show them: user text escaped and cut short.

Every ``UsageError`` is printed as one line (``pipeline/cli.py``), so a value that holds a line
break, a NUL, 20,000 characters or a 5,000-digit integer must still make one short line:
``shown`` (a ``repr`` cut short), ``shown_text`` / ``shown_path`` (user text as given when
printable) and ``one_line`` (a library's error text, whitespace folded).
"""
from __future__ import annotations

import reprlib
from typing import Any


class _Shown(reprlib.Repr):
    """``repr`` cut short: long strings, deep or long containers and huge integers (whose
    decimal ``repr`` Python refuses past 4,300 digits) stay a short line."""

    def __init__(self):
        super().__init__()
        self.maxstring = self.maxother = 80
        self.maxlist = self.maxtuple = self.maxdict = self.maxset = self.maxfrozenset = 6
        self.maxlevel = 3

    def repr_int(self, x, level):
        if x.bit_length() > 200:
            return f"<an integer of {x.bit_length()} bits>"
        return repr(x)


_SHOWN = _Shown()
PATH_LIMIT = 4096


def shown(value: Any) -> str:
    """A value as an error message shows it: its ``repr``, at most about 80 characters, on one
    line (control characters and line separators escaped)."""
    return _SHOWN.repr(value)


def shown_text(text: str, limit: int = 80) -> str:
    """User text (a flag value, a key) in a message: as given when printable, cut to
    ``limit`` characters; ``shown`` (quoted, escaped) when it holds control characters."""
    if not text.isprintable():
        return shown(text)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def shown_path(path: str) -> str:
    """A path in a message: whole when printable, else ``shown``."""
    return shown_text(path, PATH_LIMIT)


def one_line(text: str, limit: int = 200) -> str:
    """A library's error text (the YAML or JSON parser's) as one line of at most ``limit``
    characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."
