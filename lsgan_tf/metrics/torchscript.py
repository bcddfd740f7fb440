"""The parameters of a TorchScript archive (``torch.jit.save``), read without PyTorch.

A TorchScript file is a zip holding ``<name>/data.pkl`` (the module tree, pickled: each module
an object whose state is a dict of its attributes and sub-modules; each tensor a call of
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`` whose storage is a
persistent id ``("storage", "FloatStorage", key, device, numel)``) and the storages' raw
little-endian bytes in ``<name>/data/<key>``.

``read_state(path)`` returns every attribute of the tree by dotted path
(``net.layers.mixed_3.tower.conv_1.weight`` -> float32 array [O, I, kH, kW];
``...stride`` -> 2; ``net.layers.mixed_3.__class__`` -> ``__torch__.inceptionv3.InceptionB``, the
module's TorchScript class), in the order the archive holds them. The unpickler is restricted: it builds only plain state holders for the
archive's own ``__torch__`` classes, tensors, ordered dicts and TorchScript's int lists, and
refuses any other global, so a hostile file cannot run code.
"""
from __future__ import annotations

import collections
import io
import pickle
import zipfile
from typing import Any, Dict, Tuple

import numpy as np

STORAGE_DTYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64,
                  "HalfStorage": np.float16, "LongStorage": np.int64, "IntStorage": np.int32,
                  "ByteStorage": np.uint8, "BoolStorage": np.bool_}


class TorchScriptError(ValueError):
    """The file is not a TorchScript archive this reader understands."""


class _Module:
    """A pickled ``__torch__`` object: only its state is kept."""

    def __init__(self, *args):
        del args
        self.state: Any = None

    def __setstate__(self, state):
        self.state = state


class _Tensor:
    """A tensor not yet read: its storage key, dtype, offset, shape and strides (elements)."""

    def __init__(self, storage: Tuple, offset: int, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(size), tuple(stride)


def _rebuild_tensor(storage, offset, size, stride, *rest):
    del rest
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if module.startswith("__torch__"):
            return type(name, (_Module,), {"qualified_name": f"{module}.{name}"})
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("torch.jit._pickle", "build_intlist"):
            return list
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise TorchScriptError(f"refusing to load {module}.{name} from a TorchScript archive")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise TorchScriptError(f"unexpected persistent id {pid!r}")
        return pid


def _array(archive: zipfile.ZipFile, prefix: str, tensor: _Tensor) -> np.ndarray:
    _, kind, key, _, numel = tensor.storage
    dtype = np.dtype(STORAGE_DTYPES[kind]).newbyteorder("<")
    raw = np.frombuffer(archive.read(f"{prefix}data/{key}"), dtype=dtype)
    if raw.size != numel:
        raise TorchScriptError(f"storage {key}: {raw.size} elements, the pickle says {numel}")
    view = np.lib.stride_tricks.as_strided(
        raw[tensor.offset:], shape=tensor.size,
        strides=tuple(s * dtype.itemsize for s in tensor.stride))
    return np.array(view, dtype=dtype.newbyteorder("="))


def read_state(path_or_bytes) -> Dict[str, Any]:
    """{dotted attribute path: value} of a TorchScript archive (a path or its bytes); tensors
    as numpy arrays, other attributes as pickled (ints, lists, bools, None)."""
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as error:
        raise TorchScriptError(f"not a TorchScript archive (zip): {error}") from None
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")
                   and n.count("/") == 1]
        if len(pickles) != 1:
            raise TorchScriptError(f"expected one <name>/data.pkl, found {pickles}")
        prefix = pickles[0][:-len("data.pkl")]
        root = _Unpickler(io.BytesIO(archive.read(pickles[0]))).load()
        state: Dict[str, Any] = {}

        def walk(node, where: str) -> None:
            if not isinstance(node, _Module) or not isinstance(node.state, dict):
                raise TorchScriptError(f"{where or 'root'}: not a module with a state dict")
            state[f"{where}__class__"] = type(node).qualified_name
            for key, value in node.state.items():
                name = f"{where}{key}"
                if isinstance(value, _Module):
                    walk(value, name + ".")
                elif isinstance(value, _Tensor):
                    state[name] = _array(archive, prefix, value)
                else:
                    state[name] = value

        walk(root, "")
    return state
