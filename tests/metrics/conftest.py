"""Fixtures shared by the metrics tests: the digits splits and extractors trained on them once
per test session (in a temporary cache, so the user's cache is never touched)."""
import pytest

from lsgan_tf.builtin_data import digits_split
from lsgan_tf.metrics.base import TrainingData
from lsgan_tf.metrics.extractors import get_extractor

# Small rotation network: the default one takes ~40 s to train on these 2 CPU cores.
SMALL_ROTATION = {"widths": (8, 16, 32), "epochs": 2}


@pytest.fixture(scope="session")
def extractor_cache(tmp_path_factory):
    return str(tmp_path_factory.mktemp("extractor_cache"))


@pytest.fixture(scope="session")
def digits_train():
    return digits_split("train")


@pytest.fixture(scope="session")
def digits_eval():
    return digits_split("eval")


@pytest.fixture(scope="session")
def classifier(digits_train, extractor_cache):
    """The default ``classifier`` extractor, trained on the digits train split."""
    return get_extractor("classifier", TrainingData.from_arrays(*digits_train, "digits"),
                         extractor_cache)


@pytest.fixture(scope="session")
def rotation(digits_train, extractor_cache):
    """A small ``rotation`` extractor trained on the digits train images (labels unused)."""
    images, labels = digits_train
    return get_extractor("rotation", TrainingData.from_arrays(images, labels * 0 - 1),
                         extractor_cache, **SMALL_ROTATION)
