"""A ``--config`` file, read as untrusted input: ``parse_config_file(path)`` -> its values.

At most ``MAX_CONFIG_BYTES`` of UTF-8 (a leading byte order mark dropped), from a regular
local file (a FIFO would block) or through ``tf.io.gfile`` for remote paths; JSON, or YAML
(safe: plain data) when the name ends in ``.yaml``/``.yml``, within ``MAX_DEPTH`` levels,
``MAX_VALUES`` values and ``MAX_ALIASES`` YAML aliases (checked on the parser's events before
anything is built, so a "billion laughs" file is refused in milliseconds); the top level a
mapping of sections. Every failure is a one-line ``ConfigError`` starting with
``--config=PATH``. Nothing here imports TensorFlow for a local file.
"""
from __future__ import annotations

import json
import os
import stat
from typing import Any, Dict, List, Optional, Tuple

from lsgan_tf.errors import ConfigError
from lsgan_tf.messages import one_line, shown_path, shown_text

# What a config file may be: a whole config.json is about 2 kB and 70 values.
MAX_CONFIG_BYTES = 1 << 20
MAX_DEPTH = 20  # nested mappings and lists
MAX_VALUES = 10000  # scalars, mappings and lists, YAML aliases counted as what they repeat
MAX_ALIASES = 100


def read_text(path: str, name: Optional[str] = None) -> str:
    """A config file's text, at most ``MAX_CONFIG_BYTES``, decoded as UTF-8 (a leading byte
    order mark dropped). Through ``tf.io.gfile`` for remote paths (``gs://``...); a local
    file is read without importing TensorFlow, so a bad config fails fast, and only when it
    is a regular file (a FIFO would block). Errors are ``ConfigError`` lines starting with
    ``name`` (default: the path)."""
    name = name or shown_path(path)
    if "://" in path:
        import tensorflow as tf

        try:
            with tf.io.gfile.GFile(path, "rb") as handle:
                data = handle.read(MAX_CONFIG_BYTES + 1)
        except tf.errors.OpError as error:
            raise ConfigError(f"{name}: cannot read it ({one_line(error.message)})") from None
    else:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # local by the test above
        except OSError as error:
            raise ConfigError(f"{name}: cannot read it ({error.strerror})") from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ConfigError(f"{name}: not a regular file; give a JSON or YAML file")
            data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{name}: is larger than {MAX_CONFIG_BYTES >> 20} MiB; a config "
                          "holds a few kB of settings")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{name}: is not UTF-8 (byte 0x{data[error.start]:02x} at offset "
                          f"{error.start}); save it as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def json_values(text: str) -> Any:
    """The values of a JSON text within ``MAX_DEPTH`` levels and ``MAX_VALUES`` values."""
    try:
        values = json.loads(text)
    except RecursionError:
        raise ConfigError(f"nests deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:  # JSONDecodeError; an int of more than 4,300 digits
        raise ConfigError(f"not valid JSON: {one_line(error)}") from None
    _check_size(values)
    return values


def _check_size(values: Any) -> None:
    """At most ``MAX_DEPTH`` nested mappings and lists and ``MAX_VALUES`` values (walked
    without recursion)."""
    count, stack = 0, [(values, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise ConfigError(f"holds more than {MAX_VALUES} values; a config holds about 70")
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise ConfigError(f"nests deeper than {MAX_DEPTH} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


def _check_yaml_events(events) -> None:
    """Refuses a YAML stream (its parser events, before anything is built) that nests more
    than ``MAX_DEPTH`` mappings and lists, holds more than ``MAX_ALIASES`` aliases or an
    alias inside its own anchor, or expands to more than ``MAX_VALUES`` values once each
    alias is counted as what its anchor holds (the "billion laughs": nine aliases of nine
    aliases of ... nine strings)."""
    import yaml

    anchors: Dict[str, Tuple[int, int]] = {}  # anchor -> (values, levels) an alias repeats
    open_nodes: List[Tuple[Optional[str], int, List[int]]] = []  # anchor, values, [deepest]
    values = aliases = 0

    def add(count: int, levels: int) -> None:
        nonlocal values
        values += count
        if values > MAX_VALUES:
            raise ConfigError(f"expands to more than {MAX_VALUES} values (YAML aliases)"
                              if aliases else
                              f"holds more than {MAX_VALUES} values; a config holds about 70")
        depth = len(open_nodes) + levels
        if depth > MAX_DEPTH:
            raise ConfigError(f"nests deeper than {MAX_DEPTH} levels")
        for _, _, deepest in open_nodes:
            deepest[0] = max(deepest[0], depth)

    for event in events:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            add(1, 1)
            open_nodes.append((event.anchor, values, [len(open_nodes) + 1]))
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, first, deepest = open_nodes.pop()
            if anchor is not None:
                anchors[anchor] = (values - first + 1, deepest[0] - len(open_nodes))
        elif isinstance(event, yaml.ScalarEvent):
            add(1, 0)
            if event.anchor is not None:
                anchors[event.anchor] = (1, 0)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ConfigError(f"holds more than {MAX_ALIASES} YAML aliases")
            if any(anchor == event.anchor for anchor, _, _ in open_nodes):
                raise ConfigError(f"YAML alias *{shown_text(event.anchor)} is an alias inside "
                                  "its own anchor (a structure that holds itself)")
            add(*anchors.get(event.anchor, (1, 0)))


def _yaml_values(text: str) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe: plain data, no objects
    try:
        _check_yaml_events(yaml.parse(text, Loader=loader))
        return yaml.load(text, Loader=loader)
    except ConfigError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"not valid YAML: {one_line(error.problem or error)}{where}") \
            from None
    except Exception as error:  # noqa: BLE001 (what the constructors raise: ValueError...)
        raise ConfigError(f"not valid YAML: {one_line(error) or type(error).__name__}") \
            from None


def parse_config_file(path: str) -> Dict[str, Any]:
    """The values of a ``--config`` file: JSON, or YAML when it ends in ``.yaml``/``.yml``;
    read as ``read_text`` says, within ``MAX_DEPTH`` levels, ``MAX_VALUES`` values and (YAML)
    ``MAX_ALIASES`` aliases, and a mapping of sections. Errors start with ``--config=PATH``."""
    name = f"--config={shown_path(path)}"
    text = read_text(path, name)
    try:
        values = _yaml_values(text) if path.endswith((".yaml", ".yml")) else json_values(text)
    except ConfigError as error:
        raise ConfigError(f"{name}: {error}") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{name}: expected a mapping of sections, got {type(values).__name__}")
    return values
