"""The TorchScript parameter reader against archives written byte by byte in the true format
(``torchscript_writer``), and the batch-norm folding of the FID network against its formula."""
import io
import pickle
import zipfile

import numpy as np
import pytest

from lsgan_tf.metrics.fid_inception import folded_conv
from lsgan_tf.metrics.torchscript import TorchScriptError, read_state
from torchscript_writer import Module, Tensor, write_archive


def test_reads_tensors_attributes_and_classes_as_written():
    values = np.arange(24, dtype=np.float32) * 0.5 - 3.0
    child = Module("__torch__.net", "Conv2dLayer",
                   {"training": False, "weight": Tensor("0", 0, (2, 3, 2, 2), (12, 4, 2, 1)),
                    "stride": 2, "padding": [0, 3]})
    # a transposed view with an offset: the reader must honour offset and strides
    root = Module("__torch__.wrap", "Net", {"layer": child,
                                           "view": Tensor("0", 2, (3, 2), (1, 3))})
    state = read_state(write_archive(root, {"0": values}))
    np.testing.assert_array_equal(state["layer.weight"], values.reshape(2, 3, 2, 2))
    np.testing.assert_array_equal(state["view"], np.array([[values[2], values[5]],
                                                           [values[3], values[6]],
                                                           [values[4], values[7]]]))
    assert state["layer.stride"] == 2 and state["layer.padding"] == [0, 3]
    assert state["__class__"] == "__torch__.wrap.Net"
    assert state["layer.__class__"] == "__torch__.net.Conv2dLayer"
    assert list(state)[:2] == ["__class__", "layer.__class__"]


def test_refuses_a_pickle_that_would_run_code():
    class Evil:
        def __reduce__(self):
            import os
            return os.system, ("echo owned",)

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("x/data.pkl", pickle.dumps(Evil(), protocol=2))
    with pytest.raises(TorchScriptError, match="refusing to load posix.system"):
        read_state(out.getvalue())


def test_names_a_file_that_is_not_an_archive():
    with pytest.raises(TorchScriptError, match="not a TorchScript archive"):
        read_state(b"not a zip")


def test_batch_norm_folds_into_the_convolution_by_its_formula():
    rng = np.random.default_rng(0)
    weight = rng.normal(size=(4, 3, 3, 1)).astype(np.float32)
    beta, mean = rng.normal(size=4).astype(np.float32), rng.normal(size=4).astype(np.float32)
    var = rng.uniform(0.1, 2.0, size=4).astype(np.float32)
    p = "net.layers.conv."
    state = {p + "weight": weight, p + "beta": beta, p + "mean": mean, p + "var": var,
             p + "stride": 2, p + "padding": [1, 0]}
    kernel, bias, stride, padding = folded_conv(state, "conv")
    assert kernel.shape == (3, 1, 3, 4) and stride == 2 and padding == (1, 0)
    x = rng.normal(size=(3, 3, 1))  # one 3x1 window, [kH, kW, I]
    conv = np.einsum("oihw,hwi->o", weight.astype(np.float64), x)
    expected = (conv - mean) / np.sqrt(var + 1e-3) + beta
    np.testing.assert_allclose(np.einsum("hwio,hwi->o", kernel, x) + bias, expected,
                               rtol=1e-5, atol=1e-5)

