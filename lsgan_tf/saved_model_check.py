"""A generator SavedModel named on the command line, checked before and while it is loaded.

``load_generator(path)`` returns the ``export.GeneratorClient`` of a SavedModel that
``export.export_generator`` wrote, or raises ``UsageError`` with one line (``lsgan generate`` and
``lsgan evaluate`` print it and exit 2)::

    --model=PATH is not a usable generator SavedModel (what is wrong)

The checks run cheapest first, through ``tf.io.gfile`` (a local path, ``gs://``...), so that the
damaged part is named:
  * ``PATH`` is a folder holding ``saved_model.pb`` (a TF Serving base folder, whose versions
    are numbered subfolders, is named with the versions to pick from);
  * ``saved_model.pb`` parses and holds one MetaGraph whose signatures and metadata are those
    ``export.py`` writes: ``serving_default`` (``z``) and ``generate`` (``n``, ``seed``) with an
    ``images`` or ``points`` output, and the ``z_dim``, ``num_classes``, ``output_kind`` and
    ``noise_distribution`` variables; any other SavedModel is "not a generator exported by
    lsgan";
  * ``variables/variables.index`` and every ``variables.data-NNNNN-of-MMMMM`` shard are there,
    and every variable reads back whole with its checksum (a truncated, bit-flipped or
    emptied shard, or an index that is no TensorBundle, is named here).
Then ``tf.saved_model.load`` and the client's metadata reads, with the errors they raise on a
model that passed those checks and still does not load turned into the same line, as is a
file the storage does not let us read (``tf.errors.OpError``: no permission...).
The variables are read twice (checked, then loaded): for our generators, a few MB.
"""
from __future__ import annotations

import os
import re
from typing import List

import tensorflow as tf
from google.protobuf.message import DecodeError
from tensorflow.core.protobuf import saved_model_pb2

from lsgan_tf import paths
from lsgan_tf.errors import UsageError
from lsgan_tf.export import SAVED_MODEL_PB, GeneratorClient

VARIABLES = "variables"
INDEX = os.path.join(VARIABLES, "variables.index")
_SHARD = re.compile(r"variables\.data-(\d{5})-of-(\d{5})$")
SIGNATURE_INPUTS = {"serving_default": ("z",), "generate": ("n", "seed")}
OUTPUTS = ("images", "points")
METADATA = ("z_dim", "num_classes", "output_kind", "noise_distribution")


class _Unusable(Exception):
    """What makes the SavedModel unusable, in words (the part in parentheses)."""


def _error_text(error: BaseException) -> str:
    """An error as a short single line: its type and the first line of its message."""
    lines = str(error).strip().splitlines() or [""]
    text = f"{type(error).__name__}: {' '.join(lines[0].split())}"
    return text if len(text) <= 300 else text[:297] + "..."


def _versions(path: str) -> List[str]:
    """The numbered subfolders of ``path`` that hold a SavedModel (TF Serving's layout)."""
    found = [name.rstrip("/") for name in tf.io.gfile.listdir(path)]
    return sorted((name for name in found if name.isdigit()
                   and paths.exists(os.path.join(path, name, SAVED_MODEL_PB))), key=int)


def _check_file(path: str, name: str) -> None:
    """The file ``name`` below ``path`` is there and not empty (a FIFO, whose size is 0, is
    never opened)."""
    full = os.path.join(path, name)
    if not paths.exists(full):
        raise _Unusable(f"{name} is missing")
    status = tf.io.gfile.stat(full)
    if status.is_directory:
        raise _Unusable(f"{name} is a folder, not a file")
    if status.length == 0:
        raise _Unusable(f"{name} is empty")


def _check_folder(path: str) -> None:
    """``path`` is a folder holding ``saved_model.pb``."""
    if not path or not paths.exists(path):
        raise _Unusable("no such folder")
    if not paths.isdir(path):
        raise _Unusable("a file, not a SavedModel folder")
    if not paths.exists(os.path.join(path, SAVED_MODEL_PB)):
        versions = _versions(path)
        if versions:
            raise _Unusable(f"no {SAVED_MODEL_PB} in it, but the versions {', '.join(versions)} "
                            f"below it; pass --model={os.path.join(path, versions[-1])}")
        raise _Unusable(f"no {SAVED_MODEL_PB} in it")
    _check_file(path, SAVED_MODEL_PB)


def _check_graph(path: str) -> None:
    """``saved_model.pb`` parses and is one of our generators (module docstring)."""
    model = saved_model_pb2.SavedModel()
    try:
        model.ParseFromString(paths.read_bytes(os.path.join(path, SAVED_MODEL_PB)))
    except DecodeError as error:
        raise _Unusable(f"{SAVED_MODEL_PB} is damaged: {_error_text(error)}") from None
    if len(model.meta_graphs) != 1:
        raise _Unusable(f"{SAVED_MODEL_PB} holds {len(model.meta_graphs)} MetaGraphs, not the "
                        "one of an exported generator: damaged, or another kind of file")
    graph = model.meta_graphs[0]
    signatures = graph.signature_def
    missing = [name for name in SIGNATURE_INPUTS if name not in signatures]
    wrong = [name for name, inputs in SIGNATURE_INPUTS.items() if name in signatures
             and (not set(inputs) <= set(signatures[name].inputs)
                  or not set(OUTPUTS) & set(signatures[name].outputs))]
    nodes = graph.object_graph_def.nodes
    children = {child.local_name for child in nodes[0].children} if nodes else set()
    absent = [name for name in METADATA if name not in children]
    if missing or wrong or absent:
        if missing:
            what = f"no {' or '.join(repr(name) for name in missing)} signature"
        elif wrong:
            what = f"other inputs or outputs in {' and '.join(repr(name) for name in wrong)}"
        else:
            what = f"no {', '.join(absent)} metadata"
        found = sorted(name for name in signatures if not name.startswith("__"))
        raise _Unusable(f"not a generator exported by lsgan: {what}; its signatures: "
                        f"{', '.join(found) or 'none'}")


def _check_variables(path: str) -> None:
    """The variables' index and data shards are there and every variable reads back whole."""
    folder = os.path.join(path, VARIABLES)
    if not paths.isdir(folder):
        raise _Unusable(f"no {VARIABLES}/ folder in it")
    _check_file(path, INDEX)
    shards = [found for found in map(_SHARD.search, tf.io.gfile.listdir(folder)) if found]
    if not shards:
        raise _Unusable(f"{VARIABLES}/variables.data-* is missing")
    have = {(int(found.group(1)), int(found.group(2))) for found in shards}
    for count in sorted({count for _, count in have}):
        for index in range(count):
            name = os.path.join(VARIABLES, f"variables.data-{index:05d}-of-{count:05d}")
            if (index, count) not in have:
                raise _Unusable(f"{name} is missing")
            _check_file(path, name)
    try:
        reader = tf.train.load_checkpoint(os.path.join(folder, "variables"))
    except (tf.errors.OpError, ValueError) as error:
        raise _Unusable(f"{INDEX} is damaged: {_error_text(error)}") from None
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)  # checks the length and checksum of its bytes
    except (tf.errors.OpError, IndexError, ValueError) as error:  # IndexError: a short shard
        raise _Unusable(f"{VARIABLES}/ is damaged: {_error_text(error)}") from None


def load_generator(path: str) -> GeneratorClient:
    """The client of the generator SavedModel at ``path``, or ``UsageError`` (module docstring)."""
    try:
        _check_folder(path)
        _check_graph(path)
        _check_variables(path)
        try:
            return GeneratorClient(path)
        # What the loader and the client's metadata reads raise on a model damaged in a way the
        # checks above do not see: TensorFlow's errors, a proto that does not parse, a missing
        # file (OSError), a graph that does not fit together (ValueError, KeyError, IndexError,
        # TypeError; RuntimeError: an op name that no kernel has), a metadata variable that is
        # not there (AttributeError).
        except (tf.errors.OpError, DecodeError, OSError, ValueError, KeyError, IndexError,
                TypeError, RuntimeError, AttributeError) as error:
            raise _Unusable(f"it does not load: {_error_text(error)}") from None
    except tf.errors.OpError as error:  # a file of it that the storage does not let us read
        problem = f"it cannot be read: {_error_text(error)}"
    except _Unusable as unusable:
        problem = str(unusable)
    raise UsageError(f"--model={path} is not a usable generator SavedModel ({problem})")
