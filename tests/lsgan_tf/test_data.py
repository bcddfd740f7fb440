"""The input pipeline on built-in data and on a prepared directory in the data contract."""
import dataclasses
import json
import io
import os

import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import data as data_lib
from lsgan_tf import example_schema
from lsgan_tf.training import train

from helpers import tiny_digits
from prepared import write_prepared


def test_digits_splits_are_disjoint_and_stable():
    train_images, train_labels = data_lib.load_split("digits", "train")
    eval_images, _ = data_lib.load_split("digits", "eval")
    assert len(train_images) + len(eval_images) == 1797
    assert train_images.shape[1:] == (28, 28, 1) and train_images.dtype == np.uint8
    assert set(train_labels.tolist()) == set(range(10))
    again, _ = data_lib.load_split("digits", "train")
    np.testing.assert_array_equal(train_images, again)


def test_training_batches_are_scaled_and_carry_noise():
    config = tiny_digits()
    batch = next(iter(data_lib.training_dataset(config, "sigmoid")))
    assert batch["real"].shape == (8, 28, 28, 1)
    assert 0.0 <= float(tf.reduce_min(batch["real"])) and float(tf.reduce_max(batch["real"])) <= 1.0
    assert batch["z_d"].shape == (8, 8) and not np.array_equal(batch["z_d"], batch["z_g"])
    assert float(tf.reduce_min(batch["z_d"])) >= -1.0 and float(tf.reduce_max(batch["z_d"])) <= 1.0
    tanh_batch = next(iter(data_lib.training_dataset(config, "tanh")))
    assert float(tf.reduce_min(tanh_batch["real"])) == -1.0


def test_noise_resumes_from_its_step():
    config = tiny_digits()
    stream = data_lib.training_dataset(config, "sigmoid")
    third = [b for _, b in zip(range(3), stream)][2]
    resumed = next(iter(data_lib.training_dataset(config, "sigmoid", start_step=2)))
    np.testing.assert_array_equal(third["z_g"], resumed["z_g"])


def test_shared_g_noise_draws_no_second_noise():
    """train.g_noise=shared: z_g is z_d, and z_d is the number stream of the fresh setting."""
    fresh = tiny_digits()
    shared = dataclasses.replace(fresh, train=dataclasses.replace(fresh.train, g_noise="shared"))
    fresh_batch = [b for _, b in zip(range(2), data_lib.training_dataset(fresh, "sigmoid"))][1]
    shared_batch = [b for _, b in zip(range(2), data_lib.training_dataset(shared, "sigmoid"))][1]
    np.testing.assert_array_equal(shared_batch["z_g"], shared_batch["z_d"])
    np.testing.assert_array_equal(shared_batch["z_d"], fresh_batch["z_d"])
    np.testing.assert_array_equal(shared_batch["real"], fresh_batch["real"])


def test_mog8_batches_lie_on_the_ring():
    config = dataclasses.replace(tiny_digits(), data=dataclasses.replace(tiny_digits().data, source="mog8"))
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, type="mog_mlp"))
    batch = next(iter(data_lib.training_dataset(config, "linear")))
    radius = np.linalg.norm(batch["real"].numpy(), axis=1)
    assert batch["real"].shape == (8, 2) and np.all(np.abs(radius - 1.0) < 0.06)


def test_prepared_directory_round_trips_pixels(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28, 1), dtype=np.uint8)
    root = write_prepared(str(tmp_path), images, [0, 1, 2, 0, 1, 2], ["a", "b", "c"])
    loaded, labels = data_lib.load_split(root, "eval")
    np.testing.assert_array_equal(loaded, images)
    assert labels.tolist() == [0, 1, 2, 0, 1, 2]
    info = data_lib.inspect("tfrecord", root)
    assert (info.image_size, info.channels, info.labeled, info.class_names) == (28, 1, True, ("a", "b", "c"))


def test_train_on_prepared_data_adapts_num_classes(tmp_path):
    rng = np.random.default_rng(1)
    root = write_prepared(str(tmp_path / "data"), rng.integers(0, 256, (16, 28, 28, 1), np.uint8),
                          rng.integers(0, 3, 16), ["x", "y", "z"])
    config = tiny_digits(steps=2, **{"data.source": "tfrecord", "data.path": root})
    result = train(config, str(tmp_path / "run"), stream=io.StringIO())
    assert '"num_classes": 3' in open(os.path.join(result.out_dir, "config.json")).read()


def test_clear_errors_for_unusable_data(tmp_path):
    with pytest.raises(data_lib.DataError, match="does not exist"):
        data_lib.training_dataset(tiny_digits(**{"data.source": "tfrecord", "data.path": str(tmp_path / "nope")}), "sigmoid")
    small = write_prepared(str(tmp_path / "small"), np.zeros((2, 16, 16, 1), np.uint8), [0, 1])
    with pytest.raises(data_lib.DataError, match=r"holds 16 x 16 images .* --image_size=28"):
        data_lib.training_dataset(tiny_digits(**{"data.source": "tfrecord", "data.path": small}), "sigmoid")
    unlabeled = write_prepared(str(tmp_path / "unl"), np.zeros((2, 28, 28, 1), np.uint8), [-1, -1])
    with pytest.raises(data_lib.DataError, match="needs labelled data"):
        data_lib.training_dataset(tiny_digits(**{"data.source": "tfrecord", "data.path": unlabeled}), "sigmoid")
    with pytest.raises(data_lib.DataError, match="stats.json, which `lsgan prep` writes last, is missing"):
        os.makedirs(tmp_path / "empty")
        data_lib.load_split(str(tmp_path / "empty"), "train")


def test_mog8_authors_layout_draws_centre_0_twice_as_often():
    """9 equally likely components, the 8 centres and centre 0 again: P(0) = 2/9, others 1/9."""
    from lsgan_tf.builtin_data import mog8_batch, mog8_centres, mog8_sample

    points, modes = mog8_batch(90000, tf.constant([3, 4]), components=9)
    shares = np.bincount(modes.numpy(), minlength=8) / 90000
    np.testing.assert_allclose(shares, [2 / 9] + [1 / 9] * 7, atol=0.006)
    offsets = points.numpy() - mog8_centres()[modes.numpy()]
    assert np.abs(offsets).max() < 0.06
    eight = np.bincount(mog8_batch(90000, tf.constant([3, 4]))[1].numpy(), minlength=8) / 90000
    np.testing.assert_allclose(eight, [1 / 8] * 8, atol=0.006)
    sample = mog8_sample(90000, seed=0, components=9)
    near_0 = np.linalg.norm(sample - mog8_centres()[0], axis=1) < 0.06
    assert abs(near_0.mean() - 2 / 9) < 0.006
    config = dataclasses.replace(tiny_digits(), data=dataclasses.replace(tiny_digits().data,
                                                                         source="mog8_authors"))
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, type="mog_mlp"))
    batch = next(iter(data_lib.training_dataset(config, "linear")))
    assert batch["real"].shape == (8, 2)


def test_cached_and_uncached_prepared_input_give_the_same_batches(tmp_path):
    """A split within data.cache_mb is decoded once and cached; one above it is decoded batch
    by batch. Same seed, same batches, from step 0 and resumed at step 5 (3 epochs of 12 rows
    in 3 shards, batch 8), and the records' pixels are the ones written."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (12, 28, 28, 1), np.uint8)
    root = write_prepared(str(tmp_path / "data"), images, np.arange(12) % 3, ["x", "y", "z"],
                          shards=3)
    assert data_lib.decoded_mb(root, "train", 28, 1) == 12 * 28 * 28 / 2 ** 20
    batches = {}
    for cache_mb in (0, 1):
        config = tiny_digits(**{"data.source": "tfrecord", "data.path": root,
                                "data.cache_mb": cache_mb, "model.num_classes": 3})
        for start in (0, 5):
            dataset = data_lib.training_dataset(config, "tanh", start_step=start)
            batches[cache_mb, start] = [{k: v.numpy() for k, v in b.items()}
                                        for b in dataset.take(9 - start)]
    for start in (0, 5):
        for cached, uncached in zip(batches[1, start], batches[0, start]):
            for key in ("real", "label", "z_d", "z_g"):
                np.testing.assert_array_equal(cached[key], uncached[key], err_msg=key)
    assert len(batches[1, 5]) == len(batches[1, 0][5:]) == 4
    for resumed, whole in zip(batches[1, 5], batches[1, 0][5:]):
        np.testing.assert_array_equal(resumed["real"], whole["real"])
    pixels = {tuple(np.round((b * 127.5 + 127.5)).astype(np.uint8).ravel()[:20])
              for batch in batches[1, 0] for b in batch["real"]}
    assert pixels <= {tuple(image.ravel()[:20]) for image in images}
    assert len(pixels) == 12  # 72 rows over 12 records: every record was seen


def test_the_decoded_size_is_unknown_without_counts(tmp_path):
    rng = np.random.default_rng(3)
    root = write_prepared(str(tmp_path / "data"), rng.integers(0, 256, (2, 28, 28, 1), np.uint8),
                          [0, 1])
    stats_path = os.path.join(root, example_schema.STATS_FILE)
    stats = json.loads(open(stats_path).read())
    del stats["written"]
    open(stats_path, "w").write(json.dumps(stats))
    assert data_lib.decoded_mb(root, "train", 28, 1) == float("inf")
