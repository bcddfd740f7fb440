"""Real-data features of a fixed network are computed once, and again when the images or the
extractor's settings (for ``fid_inception``: the protocol, the weights) change."""
import numpy as np

from lsgan_tf.metrics.base import FeatureExtractor
from lsgan_tf.metrics.feature_cache import cache_path, real_features


class CountingExtractor(FeatureExtractor):
    """Features = mean pixel times ``scale``; counts its calls."""

    name = "counting"

    def __init__(self, protocol="a", scale=1.0):
        super().__init__()
        self.cache_settings = {"protocol": protocol}
        self.scale, self.calls = scale, 0

    def embed(self, data):
        self.calls += 1
        return data.reshape(len(data), -1).mean(axis=1, keepdims=True) * self.scale, None


def test_features_are_computed_once_per_data_and_protocol(tmp_path):
    images = np.arange(2 * 4 * 4, dtype=np.uint8).reshape(2, 4, 4, 1)
    first = CountingExtractor()
    computed = real_features(first, images, str(tmp_path))
    again = real_features(first, images, str(tmp_path))
    assert first.calls == 1
    np.testing.assert_array_equal(computed, again)
    np.testing.assert_allclose(again[:, 0], images.reshape(2, -1).mean(axis=1))

    changed = images.copy()
    changed[0, 0, 0, 0] += 1
    real_features(first, changed, str(tmp_path))
    assert first.calls == 2  # one pixel changed: a new key

    other_protocol = CountingExtractor(protocol="b", scale=2.0)
    scaled = real_features(other_protocol, images, str(tmp_path))
    assert other_protocol.calls == 1
    np.testing.assert_allclose(scaled, 2.0 * computed)
    assert len({cache_path(e, x, str(tmp_path)) for e, x in
                [(first, images), (first, changed), (other_protocol, images)]}) == 3
    assert sorted(p.name.split("-")[1] for p in tmp_path.iterdir()) == ["counting"] * 3


def test_an_extractor_without_cache_settings_is_never_cached(tmp_path):
    extractor = CountingExtractor()
    extractor.cache_settings = None
    images = np.zeros((2, 4, 4, 1), np.uint8)
    real_features(extractor, images, str(tmp_path))
    real_features(extractor, images, str(tmp_path))
    assert extractor.calls == 2 and not list(tmp_path.iterdir())
