"""A prepared directory in the data contract, written directly (no Beam) for fast tests; the
root may be any ``tf.io.gfile`` path (``ram://`` too)."""
import json
import os

import tensorflow as tf

from lsgan_tf import example_schema, prepared


def write_prepared(root, images, labels, names=None, shards=1):
    """Writes every (image, label) to both splits, dealt round-robin over ``shards`` shards named
    as Beam names them, ``labels.txt``, then ``stats.json`` last, as ``lsgan prep`` does."""
    for split in example_schema.SPLITS:
        tf.io.gfile.makedirs(example_schema.split_dir(root, split))
        writers = [tf.io.TFRecordWriter(
            os.path.join(example_schema.split_dir(root, split), prepared.shard_name(i, shards)),
            options="GZIP") for i in range(shards)]
        for i, (image, label) in enumerate(zip(images, labels)):
            example = example_schema.make_example(image, int(label), f"{split}:{i}")
            writers[i % shards].write(example.SerializeToString())
        for writer in writers:
            writer.close()
    if names:
        example_schema.write_labels(root, names)
    stats = {"read": 2 * len(images), "written": {split: len(images)
                                                   for split in example_schema.SPLITS},
             "rejected": {}, "skipped": {}, "classes": len(names or []),
             "shards": {**{split: shards for split in example_schema.SPLITS}, "rejects": 0}}
    with tf.io.gfile.GFile(os.path.join(root, example_schema.STATS_FILE), "w") as handle:
        handle.write(json.dumps(stats))
    return root
