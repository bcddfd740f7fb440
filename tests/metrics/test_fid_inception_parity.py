# bazel: size=large, tags=slow
"""Our Keras FID Inception against the TorchScript original, run by PyTorch on the same
inputs (``make test-fid``: it fetches the weights and makes the torch virtualenv first).

Inputs: 16 uniform-noise images and 16 of scikit-learn's digits (shipped with scikit-learn),
through the compare_gan preprocessing; the same
float32 [N, 299, 299, 3] go to both networks. Tolerance: max |ours - torch| <= 1e-3 (measured:
about 1e-5, features up to ~5.6).
"""
import os
import subprocess

import numpy as np
import pytest

from lsgan_tf.metrics import fid_weights

pytestmark = pytest.mark.fid
TORCH_PYTHON = os.environ.get("LSGAN_TORCH_PYTHON", "runs/torch-venv/bin/python")
TOLERANCE = 1e-3
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def weights():
    try:
        return fid_weights.locate()
    except fid_weights.WeightsError as error:
        pytest.fail(f"{error} (make test-fid does that first)")


@pytest.fixture(scope="module")
def images():
    from lsgan_tf.builtin_data import digits_split

    noise = np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1), dtype=np.uint8)
    real = digits_split("eval")[0][:16]
    return np.concatenate([noise, real])


def torch_features(weights, inputs, tmp_path):
    if not os.path.exists(TORCH_PYTHON):
        pytest.fail(f"no PyTorch virtualenv at {TORCH_PYTHON}: run `make torch-venv` (or set "
                    "LSGAN_TORCH_PYTHON)")
    np.save(tmp_path / "in.npy", inputs)
    subprocess.run([TORCH_PYTHON, os.path.join(HERE, "torch_fid_features.py"), weights,
                    str(tmp_path / "in.npy"), str(tmp_path / "out.npy")], check=True)
    return np.load(tmp_path / "out.npy")


def test_features_match_the_torchscript_original(weights, images, tmp_path):
    from lsgan_tf.metrics.fid_inception import build_network, preprocess
    from lsgan_tf.metrics.torchscript import read_state

    inputs = preprocess(images, "compare_gan").numpy()
    ours = np.asarray(build_network(read_state(weights))(inputs, training=False))
    theirs = torch_features(weights, inputs, tmp_path)
    assert ours.shape == theirs.shape == (len(images), 2048)
    difference = np.abs(ours - theirs).max()
    print(f"fid_inception parity: max |ours - torch| = {difference:.2e} over {ours.size} "
          f"features (largest feature {theirs.max():.3f})")
    assert difference <= TOLERANCE
    assert theirs.std() > 0.1  # the features are not degenerate


def test_extractor_runs_the_same_network_on_uint8_images(weights, images):
    from lsgan_tf.metrics.fid_inception import build_network, fid_inception_extractor, preprocess
    from lsgan_tf.metrics.torchscript import read_state

    extractor = fid_inception_extractor(batch_size=7)  # batches that do not divide 32
    direct = np.asarray(build_network(read_state(weights))(
        preprocess(images, "compare_gan"), training=False))
    np.testing.assert_allclose(extractor.features(images), direct, atol=1e-4)
    assert extractor.info["protocol"] == "compare_gan"
    assert extractor.info["weights_sha256"] == fid_weights.SHA256
