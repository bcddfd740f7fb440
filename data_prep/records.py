r"""The values that flow between the steps of the preprocessing pipeline.

A source's ``read`` yields, per input record, exactly one of:
  ``Record``   read fine; goes on to ``decode``
  ``Reject``   bad input (id + reason): counted, written to ``rejects/``, never silently dropped
  ``Skipped``  deliberately left out by an option (e.g. a character outside ``--charset``):
               counted in ``stats.json`` but not read
``decode`` turns a ``Record`` into a ``Decoded`` image or raises ``BadRecord``.

Ids and class names are single-line, printable UTF-8 text, whatever the names they come from
(file and folder names, LMDB keys): they go into tf.Example ``id`` bytes, ``labels.txt`` (one
name per line) and the rejects TSV (one reject per line). ``escape_name`` makes them, by one
reversible rule (``unescape_name`` gives the original bytes back):

  ``\\``      a backslash
  ``\xNN``    a byte that is not part of valid UTF-8 (what Python's ``backslashreplace``
              writes; a file name read as ``str`` holds such bytes as surrogate escapes)
  ``\uNNNN``  a control or line-breaking character (Unicode categories Cc, Zl, Zp: newline,
              tab, DEL, U+0085, U+2028, U+2029...), e.g. a newline is ``\u000a``
  any other character as it is.

So a class folder named ``a<newline>b`` is ``a\u000ab`` in labels.txt and in the ids of its
files (in the rejects TSV too), and ``caf<byte E9>.png`` (Latin-1) is ``caf\xe9.png``.
``clean_text`` is the pipeline's safety net for text a source did not escape (a third-party
plugin's ids, reject details quoting a path): it escapes only the characters that would break
a line or UTF-8, so clean text passes unchanged.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, NamedTuple, Optional, Union

import numpy as np

from lsgan_tf.example_schema import UNLABELED


class ClassKey(NamedTuple):
    """A class found while reading; the run's vocabulary is every key seen, sorted.

    ``sort_key`` orders the vocabulary (e.g. the GB tag code bytes); ``name`` goes to labels.txt.
    """

    sort_key: bytes
    name: str


Label = Union[int, ClassKey]


class Record(NamedTuple):
    """One input record as read: ``payload`` is source-specific (encoded bytes, pixels...).

    ``split``: the split the source assigns (``example_schema.TRAIN`` / ``EVAL``, e.g. the
    official test files of an ``idx`` folder), or None for the stable hash of the id
    (``example_schema.split_of``), as for every other record.
    """

    id: str
    payload: Any
    label: Label = UNLABELED
    split: Optional[str] = None


class Decoded(NamedTuple):
    """One image at the output size: uint8 H x W x C; ``split`` as its ``Record``'s."""

    id: str
    image: np.ndarray
    label: Label = UNLABELED
    split: Optional[str] = None


class Reject(NamedTuple):
    """A bad input: ``reason`` is a short code (e.g. ``corrupt_image``), ``detail`` free text."""

    id: str
    reason: str
    detail: str = ""


class Skipped(NamedTuple):
    """A record left out on purpose by an option; ``reason`` e.g. ``not_in_charset``."""

    id: str
    reason: str


class BadRecord(ValueError):
    """Raised by ``Source.decode`` for a record that cannot become an image."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


_UNSAFE = frozenset(("Cc", "Cs", "Zl", "Zp"))
_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2}|u[0-9a-f]{4})")


def _escape_char(char: str, backslash: bool) -> str:
    code = ord(char)
    if char == "\\":
        return "\\\\" if backslash else char
    if 0xDC80 <= code <= 0xDCFF:  # a byte that did not decode (surrogate escape)
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(char) in _UNSAFE:
        return f"\\u{code:04x}"
    return char


def escape_name(name: Union[str, bytes]) -> str:
    """The id or class name text of a file name, folder name or key (see the module
    docstring): ``bytes`` are decoded as UTF-8, a ``str`` may hold surrogate escapes
    (``os.fsdecode``); reversible with ``unescape_name``."""
    if isinstance(name, str):
        try:  # the bytes of a surrogate-escaped name (os.fsdecode), else UTF-8
            name = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # lone surrogates that are not escaped bytes
            name = name.encode("utf-8", "surrogatepass")
    name = name.decode("utf-8", "surrogateescape")
    if name.isprintable() and "\\" not in name:
        return name
    return "".join(_escape_char(char, backslash=True) for char in name)


def unescape_name(text: str) -> bytes:
    """The bytes of the name that ``escape_name`` made ``text`` from."""
    out, position = bytearray(), 0
    for found in _ESCAPE.finditer(text):
        out += text[position:found.start()].encode("utf-8")
        code = found.group(1)
        if code == "\\":
            out += b"\\"
        elif code[0] == "x":
            out.append(int(code[1:], 16))
        else:
            out += chr(int(code[1:], 16)).encode("utf-8")
        position = found.end()
    return bytes(out + text[position:].encode("utf-8"))


def clean_text(text: str) -> str:
    """``text`` made single-line UTF-8: control, line-breaking and surrogate characters escaped
    as ``escape_name`` does; backslashes are left alone, so escaped text passes unchanged."""
    if text.isprintable():
        return text
    return "".join(_escape_char(char, backslash=False) for char in text)
