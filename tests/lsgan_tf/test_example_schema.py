"""The data contract: the hand-written serializer against TensorFlow's own, and split_of."""
import numpy as np
import pytest
import tensorflow as tf

from lsgan_tf import example_schema


def tf_example(image, label, record_id):
    def ints(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))

    def raw(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))
    h, w, c = image.shape
    return tf.train.Example(features=tf.train.Features(feature={
        "image": raw(example_schema.encode_png(image)), "label": ints(label), "height": ints(h),
        "width": ints(w), "channels": ints(c), "id": raw(record_id.encode())}))


@pytest.mark.parametrize("shape, label, record_id", [
    ((28, 28, 1), 3, "digits:7"), ((5, 7, 3), -1, "key/\u4e2d.gnt:1024"), ((1, 1, 1), 3739, "")])
def test_serializer_matches_tensorflow(shape, label, record_id):
    image = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    ours = example_schema.serialize_example(image, label, record_id)
    expected = tf_example(image, label, record_id)
    assert tf.train.Example.FromString(ours) == expected
    assert ours == expected.SerializeToString(deterministic=True)
    parsed = tf.io.parse_single_example(ours, example_schema.feature_spec())
    np.testing.assert_array_equal(tf.io.decode_png(parsed["image"]).numpy(), image)
    assert int(parsed["label"]) == label and parsed["id"].numpy().decode() == record_id


def test_split_of_is_stable_and_near_the_fraction():
    ids = [f"file.gnt:{i}" for i in range(4000)]
    first = [example_schema.split_of(i, 0.1) for i in ids]
    assert first == [example_schema.split_of(i, 0.1) for i in ids]
    share = first.count(example_schema.EVAL) / len(ids)
    assert 0.08 < share < 0.12
    assert all(example_schema.split_of(i, 0.0) == example_schema.TRAIN for i in ids[:50])
