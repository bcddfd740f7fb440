"""The reason a TensorFlow error gives, as a short phrase for a one-line message.

``reason(error)`` is the error's first line without what TensorFlow wraps around it in a
``tf.function`` or a ``tf.data`` iterator (``{{function_node __wrapped__...}}``, ``[Op:...]``,
``name:``), whitespace collapsed, cut at ``limit`` characters. Imports no TensorFlow.
"""
from __future__ import annotations

import re

from lsgan_tf.messages import one_line

_WRAPPERS = re.compile(r"\{\{function_node [^}]*\}\}|\[Op:[^\]]*\]( name: \S*)?|\t|\s+name: $")


def reason(error: BaseException, limit: int = 200) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    lines = [line for line in _WRAPPERS.sub(" ", text).splitlines() if line.strip()]
    return one_line(" ".join((lines[0] if lines else type(error).__name__).split())
                    .rstrip(" .:"), limit)
