"""Writes TorchScript-format archives without PyTorch, for tests of ``lsgan_tf.metrics.torchscript``.

The layout is ``torch.jit.save``'s: a zip with ``<name>/data.pkl`` (pickle protocol 2: each
module ``GLOBAL __torch__.<module> <Class>``, ``EMPTY_TUPLE``, ``NEWOBJ``, its state dict,
``BUILD``; each tensor ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False,
OrderedDict())`` with the storage as the persistent id ``("storage", torch.FloatStorage, key,
"cpu", numel)``), ``<name>/data/<key>`` (the raw little-endian values) and ``<name>/version``.
"""
import collections
import io
import pickle
import zipfile

import numpy as np


class Global:
    """A name written as ``GLOBAL module name`` (it need not be importable here)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):  # pickle's reduce wants a callable
        raise TypeError("only pickled")


class Module:
    """A TorchScript module: class ``module.name`` with the attribute dict ``state``."""

    def __init__(self, module, name, state):
        self.cls, self.state = Global(module, name), state


class Tensor:
    """A tensor over storage ``key``, viewed with ``offset``, ``size`` and ``stride``."""

    def __init__(self, key, offset, size, stride):
        self.key, self.offset, self.size, self.stride = key, offset, size, stride


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Writer(pickle._Pickler):
    """The pure-Python pickler, told how to write the three kinds of object above."""

    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, storages):
        super().__init__(file, protocol=2)
        self.storages = storages

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", Global("torch", "FloatStorage"), obj.key, "cpu", obj.numel)
        return None

    def save_global_name(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode())

    def save_module(self, obj):
        self.save_reduce(obj.cls, (), obj.state, obj=obj)

    def save_tensor(self, obj):
        storage = _Storage(obj.key, self.storages[obj.key].size)
        self.save_reduce(Global("torch._utils", "_rebuild_tensor_v2"),
                         (storage, obj.offset, tuple(obj.size), tuple(obj.stride), False,
                          collections.OrderedDict()), obj=obj)

    dispatch[Global] = save_global_name
    dispatch[Module] = save_module
    dispatch[Tensor] = save_tensor


def write_archive(root, storages, name="archive"):
    """Bytes of a TorchScript archive whose module tree is ``root`` (a ``Module``) and whose
    storages are ``{key: float32 array}``."""
    pickled = io.BytesIO()
    _Writer(pickled, storages).dump(root)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(f"{name}/data.pkl", pickled.getvalue())
        for key, values in storages.items():
            archive.writestr(f"{name}/data/{key}", np.asarray(values, "<f4").tobytes())
        archive.writestr(f"{name}/version", "3\n")
    return out.getvalue()
