"""``export_generator`` is atomic: the model is written to ``<dir>.tmp-<unique>`` and moved into
place whole, so an export that fails part way leaves no model (or the previous one) at
``<dir>`` and no temporary folder beside it."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import export
from lsgan_tf.models import build_models

from helpers import tiny_digits

LABELS = np.arange(4) % 10


def generator(seed):
    keras.utils.set_random_seed(seed)
    config = tiny_digits()
    return build_models(config.model), config


def do_export(seed, path):
    models, config = generator(seed)
    return export.export_generator(models.generator, config, models.output_activation, path)


def samples(path):
    return export.GeneratorClient(path).sample(4, seed=0, labels=LABELS)


def fail_after_writing(monkeypatch):
    """Makes tf.saved_model.save write the whole model, then raise (a crash mid-export)."""
    real_save = tf.saved_model.save
    written = []

    def save_then_fail(module, path, **kwargs):
        real_save(module, path, **kwargs)
        written.append(path)
        raise RuntimeError("killed during export")

    monkeypatch.setattr(tf.saved_model, "save", save_then_fail)
    return written


def test_export_failing_midway_leaves_no_model_and_no_temp(tmp_path, monkeypatch):
    written = fail_after_writing(monkeypatch)
    final = str(tmp_path / "saved_model")
    with pytest.raises(RuntimeError, match="killed during export"):
        do_export(0, final)
    assert len(written) == 1 and written[0].startswith(final + ".tmp-")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_failed_replacement_keeps_the_previous_model(tmp_path, monkeypatch):
    final = str(tmp_path / "saved_model")
    do_export(0, final)
    before = samples(final)
    fail_after_writing(monkeypatch)
    with pytest.raises(RuntimeError):
        do_export(1, final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    np.testing.assert_array_equal(samples(final), before)


def test_export_and_replacement_leave_only_the_final_model(tmp_path):
    final = str(tmp_path / "saved_model")
    (tmp_path / "saved_model.tmp-killed" / "variables").mkdir(parents=True)  # a killed export
    assert do_export(0, final) == final
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    first = samples(final)
    do_export(1, final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved_model"]
    second = samples(final)
    assert second.shape == first.shape == (4, 28, 28, 1)
    assert not np.array_equal(first, second), "the second export did not replace the first"
    assert (tmp_path / "saved_model" / export.WARMUP_FILE).is_file()


def test_export_to_an_object_store_path_moves_file_by_file(tmp_path):
    root = f"ram://atomic-{tmp_path.name}"
    final = do_export(0, f"{root}/Format-Serving")
    assert tf.io.gfile.listdir(root) == ["Format-Serving"]
    assert tf.saved_model.contains_saved_model(final)
    assert samples(final).shape == (4, 28, 28, 1)
