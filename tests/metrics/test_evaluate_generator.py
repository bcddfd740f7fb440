"""evaluate_generator and `lsgan evaluate` end to end, on untrained exported generators."""
# bazel: size=large, tags=slow
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from lsgan_tf import config as config_lib
from lsgan_tf.export import GeneratorClient, export_generator
from lsgan_tf.metrics.evaluate import (evaluate_generator, format_table, noise_like,
                                       sample_labels, training_data)
from lsgan_tf.models.common import build_models
from lsgan_tf.presets import get_preset

import prepared
from helpers import TINY_MODEL

SCORES = {"fd", "kid", "kid_std", "precision", "recall", "density", "coverage"}


def export_untrained(preset, overrides, path):
    """The generator of a preset (small widths), exported untrained: a SavedModel to score."""
    config = config_lib.apply_overrides(get_preset(preset), overrides)
    models = build_models(config.model)
    return export_generator(models.generator, config, models.output_activation, str(path))


@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    return export_untrained("digits", TINY_MODEL, tmp_path_factory.mktemp("digits_model"))


@pytest.fixture(scope="module")
def mog_model(tmp_path_factory):
    return export_untrained("mog8", TINY_MODEL, tmp_path_factory.mktemp("mog_model"))


def test_sample_labels_follow_the_real_class_mix():
    np.testing.assert_array_equal(sample_labels(3, np.array([2, 0, 2]), 7), [2, 0, 2, 2, 0, 2, 2])
    np.testing.assert_array_equal(sample_labels(3, np.array([-1, -1]), 5), [0, 1, 2, 0, 1])
    assert sample_labels(0, np.array([1, 2]), 4) is None


def test_noise_like():
    images = noise_like(np.zeros((2, 4, 4, 1), np.uint8), 500, seed=0)
    assert images.shape == (500, 4, 4, 1) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    points = noise_like(np.array([[0.0, 0.0], [2.0, 4.0]], np.float32), 1000, seed=0)
    assert points.min(0) == pytest.approx([-1.0, -2.0], abs=0.02)
    assert points.max(0) == pytest.approx([3.0, 6.0], abs=0.02)


def test_digits_model_against_eval_split(digits_model, classifier, extractor_cache, tmp_path):
    out = tmp_path / "eval"
    messages = []
    result = evaluate_generator(digits_model, "digits", "eval", str(out), "auto", None, 0,
                                extractor_cache, log=messages.append)
    assert result["extractor"]["name"] == "classifier"
    assert result["extractor"]["path"] == classifier.info["path"]  # the cached network
    assert result["extractor"]["cache"] == "loaded"
    assert result["num_samples"] == 1000 and result["num_real"] == 197  # at least 1000
    with open(out / "metrics.json", encoding="utf-8") as handle:
        assert json.load(handle) == result
    scores, real, noise = (result["scores"], result["reference"]["real"],
                           result["reference"]["noise"])
    assert SCORES | {"classifier_score", "label_accuracy"} <= set(scores)
    # an untrained generator is nothing like digits; real train digits are
    assert scores["fd"] > 20 * real["fd"] and scores["kid"] > real["kid"] + 0.1
    assert real["recall"] > 0.9 and real["label_accuracy"] > 0.95
    assert scores["recall"] < 0.2
    assert "label_accuracy" not in noise
    grid = Image.open(out / "samples.png")
    assert grid.size == (10 * 30 + 2, 10 * 30 + 2)  # a row of 10 per class, 28 px + 2 px pad
    assert any("feature extractor 'classifier'" in m for m in messages)
    table = format_table(result)
    assert table.splitlines()[0].split() == ["score", "model", "real", "noise"]
    assert "label_accuracy" in table and "(lower is better)" in table


def test_more_samples_than_real_records(digits_model, extractor_cache):
    client = GeneratorClient(digits_model)
    result = evaluate_generator(client, "digits", "eval", None, "classifier", 300, 1,
                                extractor_cache, reference=False)
    assert result["num_samples"] == 300 and "reference" not in result
    assert "samples_png" not in result


def test_mog8_model(mog_model, tmp_path):
    result = evaluate_generator(mog_model, "mog8", "eval", str(tmp_path), None, 2000, 0,
                                str(tmp_path / "cache"), kid_subsets=10)
    assert result["extractor"]["name"] == "identity"
    assert result["num_samples"] == 2000 and result["num_real"] == 10000
    real = result["reference"]["real"]
    assert real["modes_covered"] == 8 and real["high_quality_share"] > 0.97
    assert real["mode_kl"] < 0.02 and real["precision"] > 0.9
    assert result["scores"]["num_modes"] == 8
    # an untrained generator spreads its points over the plane, not on the eight modes
    assert result["scores"]["fd"] > 5 * real["fd"]
    assert result["scores"]["high_quality_share"] < 0.5 * real["high_quality_share"]
    assert Image.open(tmp_path / "samples.png").size == (480, 480)


def test_mismatched_data_is_a_clear_error(mog_model, tmp_path):
    with pytest.raises(ValueError, match="makes points but 'digits' holds images"):
        evaluate_generator(mog_model, "digits", "eval", str(tmp_path), None, 20, 0,
                           str(tmp_path))


def test_lsgan_evaluate_command(digits_model, extractor_cache, tmp_path):
    out = tmp_path / "cli"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", LSGAN_EXTRACTOR_CACHE=extractor_cache)
    done = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "evaluate", f"--model={digits_model}",
         "--data=digits", f"--out={out}", "--num_samples=50", "--noreference"],
        env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "extractor     classifier (loaded" in done.stdout
    assert "classifier_score" in done.stdout and str(out / "metrics.json") in done.stdout
    assert json.loads((out / "metrics.json").read_text())["num_samples"] == 50


def write_prepared(root, count):
    """A prepared directory in the data contract with ``count`` random 8 x 8 records."""
    rng = np.random.default_rng(count)
    images = rng.integers(0, 256, (count, 8, 8, 1), dtype=np.uint8)
    prepared.write_prepared(str(root), images, np.arange(count) % 2, ["even", "odd"])


def test_training_data_of_a_prepared_folder(tmp_path):
    write_prepared(tmp_path / "a", 6)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    write_prepared(tmp_path / "c", 7)
    a, b, c = (training_data(str(tmp_path / name), 5) for name in "abc")
    assert a.fingerprint == b.fingerprint  # a copy: same names and sizes, nothing read
    assert a.fingerprint != c.fingerprint
    assert training_data(str(tmp_path / "a"), 6).fingerprint != a.fingerprint
    images, labels = a.load()
    assert images.shape == (5, 8, 8, 1) and list(labels) == [0, 1, 0, 1, 0]
