"""``config.resolve`` and ``validate()``: preset -> config file -> --set -> checks, without
TensorFlow; the invalid combinations each give one ``ConfigError`` naming key and value."""
import json
import subprocess
import sys

import numpy as np
import pytest

from lsgan_tf import config as config_lib
from lsgan_tf.config import ConfigError, resolve
from lsgan_tf.registry import PRESETS
from lsgan_tf.scores import SCORES
from lsgan_tf.validation import parse_thresholds


@pytest.mark.parametrize("name", PRESETS.names())
def test_every_preset_validates(name):
    assert resolve(name) == PRESETS.get(name)()


@pytest.mark.parametrize("preset, sets, message", [
    ("dcgan", ["model.image_size=48"], "model.image_size=48: the dcgan model builds 32, 64, 128"),
    ("dcgan", ["model.num_classes=2"], "model.num_classes=2: the dcgan model is unconditional"),
    ("lsun_112", ["model.image_size=64"], "model.image_size=64: the lsun_112 model builds 112"),
    ("digits", ["model.num_classes=0"], "model.num_classes=0: the conditional model is "
                                        "conditional"),
    ("digits", ["model.num_classes=5"], "model.num_classes=5: data.source=digits has 10 classes"),
    ("digits", ["model.image_size=30"], "model.image_size=30: the conditional model builds "
                                        "positive multiples of 4"),
    ("digits", ["model.image_size=32"], "model.image_size=32: data.source=digits holds 28 x 28"),
    ("digits", ["model.channels=3"], "model.channels=3: data.source=digits holds 1-channel"),
    ("digits", ["model.type=resnet"], "model.type='resnet': unknown model; known: conditional"),
    ("digits", ["model.noise.distribution=gauss"], "model.noise.distribution='gauss': unknown"),
    ("digits", ["loss.type=wgan"], "loss.type='wgan': unknown loss; known: least_squares"),
    ("digits", ["optim.optimizer=sgd"], "optim.optimizer='sgd': unknown optimizer"),
    ("digits", ["optim.lr_d=0"], "optim.lr_d=0.0: must be a positive number"),
    ("digits", ["train.strategy=cluster"], "train.strategy='cluster': unknown strategy"),
    ("digits", ["train.batch_size=0"], "train.batch_size=0: must be >= 1"),
    ("digits", ["train.ema_decay=1"], "train.ema_decay=1.0: must be in [0.0, 1.0)"),
    ("digits", ["train.tpu=grpc://x"], "train.tpu='grpc://x': only used with train.strategy=tpu"),
    ("digits", ["data.source=celeba"], "data.source='celeba': unknown data source"),
    ("digits", ["eval.extractor=vgg"], "eval.extractor='vgg': unknown feature extractor"),
    ("digits", ["eval.num_samples=0"], "eval.num_samples=0: must be >= 1"),
    ("digits", ["eval.thresholds=fid<=3"], "eval.thresholds='fid': unknown score"),
    ("digits", ["eval.thresholds=fd<3"], "eval.thresholds='fd<3': expected SCORE<=VALUE"),
    ("digits", ["eval.extractor=inception"], "eval.inception_path='': the inception extractor"),
    ("mog8", ["model.type=dcgan", "model.image_size=32", "model.channels=1"],
     "data.source='mog8': it holds points but the dcgan model makes images"),
    ("dcgan", ["data.source=digits", "model.image_size=32"],
     "model.image_size=32: data.source=digits holds 28 x 28"),
])
def test_invalid_combinations_name_the_key(preset, sets, message):
    with pytest.raises(ConfigError) as raised:
        resolve(preset, overrides=sets)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_tfrecord_needs_a_path_only_when_asked():
    resolve("dcgan")
    with pytest.raises(ConfigError, match="data.source=tfrecord needs a prepared folder"):
        resolve("dcgan", needs_data_path=True)
    assert resolve("dcgan", overrides=["data.path=/d"], needs_data_path=True).data.path == "/d"


def test_config_file_sits_between_preset_and_set(tmp_path):
    saved = resolve("dcgan", overrides=["model.image_size=32", "optim.lr_d=1e-3"])
    whole = tmp_path / "config.json"
    whole.write_text(config_lib.to_json(saved))
    assert resolve("digits", str(whole)) == saved          # a config.json repeats the run
    partial = tmp_path / "partial.yaml"
    partial.write_text("optim:\n  lr_d: 0.0005\ntrain:\n  steps: 9\n")
    config = resolve("digits", str(partial), ["train.steps=11"])
    assert (config.optim.lr_d, config.train.steps, config.model.type) == (5e-4, 11, "conditional")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"optim": {"lr": 1}}))
    with pytest.raises(ConfigError, match="unknown keys \\['lr'\\] for OptimConfig"):
        resolve("digits", str(bad))
    with pytest.raises(ConfigError, match="cannot read it"):
        resolve("digits", str(tmp_path / "missing.json"))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(ConfigError, match="not valid JSON"):
        resolve("digits", str(tmp_path / "broken.json"))


def test_thresholds_parse_into_bounds():
    assert parse_thresholds(["fd_noise_ratio<=0.2", "precision>=0.5", "precision<=1"]) == {
        "fd_noise_ratio": {"max": 0.2}, "precision": {"min": 0.5, "max": 1.0}}
    config = resolve("digits", overrides=["eval.thresholds=fd<=2, recall>=0.1"])
    assert config.eval.thresholds == ("fd<=2", "recall>=0.1")


def test_threshold_names_cover_what_the_evaluator_reports():
    from lsgan_tf.builtin_data import MOG_STD, mog8_centres
    from lsgan_tf.metrics.evaluate import score_features
    from lsgan_tf.metrics.mog import mode_metrics

    rng = np.random.default_rng(0)
    reported = set(score_features(rng.normal(size=(40, 3)), rng.normal(size=(40, 3)),
                                  kid_subsets=2, kid_subset_size=20))
    reported |= set(mode_metrics(rng.normal(size=(40, 2)), mog8_centres(), MOG_STD))
    reported |= {"classifier_score", "classes_covered", "label_accuracy", "fd_noise_ratio"}
    assert reported == set(SCORES)


def test_resume_conflicts_are_the_model_loss_and_data_keys():
    saved = resolve("digits")
    longer = resolve("digits", overrides=["train.steps=5000", "train.log_every=7",
                                          "eval.num_samples=300", "train.strategy=mirrored",
                                          "optim.lr_d=1e-5"])
    assert config_lib.resume_conflicts(saved, longer) == []
    other = resolve("digits", overrides=["model.g_width=32", "loss.type=pearson",
                                         "optim.optimizer=rmsprop", "train.ema_decay=0.9"])
    assert config_lib.resume_conflicts(saved, other) == [
        "loss.type: 'ls' -> 'pearson'", "model.g_width: 64 -> 32",
        "optim.optimizer: 'adam' -> 'rmsprop'", "train.ema_decay: 0.0 -> 0.9"]


def test_resolving_imports_no_tensorflow():
    code = ("import sys; from lsgan_tf.config import resolve; "
            "[resolve(p) for p in ('digits', 'dcgan', 'lsun_112', 'hwdb_3740', 'mog8')]; "
            "print(sorted(m for m in ('tensorflow', 'keras', 'tfx', 'apache_beam') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
