"""A prepared directory in the data contract, written directly (no Beam) for fast tests; the
root may be any ``tf.io.gfile`` path (``ram://`` too)."""
import os

import tensorflow as tf

from lsgan_tf import example_schema


def write_prepared(root, images, labels, names=None):
    """Writes every (image, label) to both splits' single shard, and ``labels.txt``."""
    for split in example_schema.SPLITS:
        tf.io.gfile.makedirs(example_schema.split_dir(root, split))
        path = os.path.join(example_schema.split_dir(root, split),
                            "data-00000" + example_schema.TFRECORD_SUFFIX)
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for i, (image, label) in enumerate(zip(images, labels)):
                example = example_schema.make_example(image, int(label), f"{split}:{i}")
                writer.write(example.SerializeToString())
    if names:
        example_schema.write_labels(root, names)
    return root
