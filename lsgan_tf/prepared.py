"""Complete-or-refused: the check every reader of a prepared directory makes first.

``lsgan prep`` (and the TFX ExampleGen, which runs the same Beam transforms) writes
``stats.json`` last, once every shard, ``labels.txt`` and the rejects are in place
(``data_prep.write``). Its ``shards`` entry is the completion manifest:

  stats.json["shards"][split] = N   ->  <root>/Split-<split>/data-00000-of-0000N.tfrecord.gz ...
                                        data-0000(N-1)-of-0000N.tfrecord.gz, each present
  stats.json["classes"] = K > 0      ->  labels.txt holds K names

``check(root, split)`` returns the shard paths of ``split`` when all of that holds, and raises
``DataError`` naming what is missing otherwise: a directory whose preparation was killed, or
whose files were partly deleted or copied, is never read as if it were whole.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List

from lsgan_tf import example_schema, paths
from lsgan_tf.errors import UsageError

SHARD_PREFIX = "data"  # data_prep.write.SHARD_PREFIX: Beam names shards data-SSSSS-of-NNNNN


class DataError(UsageError):
    """Input data that cannot be used as asked (missing, incomplete, empty, wrong shape)."""


def shard_name(index: int, count: int) -> str:
    """Beam's shard name: ``data-SSSSS-of-NNNNN.tfrecord.gz``."""
    return f"{SHARD_PREFIX}-{index:05d}-of-{count:05d}{example_schema.TFRECORD_SUFFIX}"


def _again(root: str) -> str:
    return (f"prepare it again (`lsgan prep ... --output={root}`), or rerun the pipeline's "
            f"ExampleGen")


def read_stats(root: str) -> Dict:
    """``<root>/stats.json`` as a dict; ``DataError`` when the directory or the file is missing
    or the file is not the JSON object ``lsgan prep`` writes."""
    if not paths.isdir(root):
        raise DataError(f"data directory {root!r} does not exist (make one with `lsgan prep`)")
    path = os.path.join(root, example_schema.STATS_FILE)
    if not paths.exists(path):
        raise DataError(f"{root!r} is not a complete prepared data set: "
                        f"{example_schema.STATS_FILE}, which `lsgan prep` writes last, is "
                        f"missing (the preparation did not finish); {_again(root)}")
    try:
        stats = json.loads(paths.read_text(path))
    except ValueError as error:
        raise DataError(f"{path!r} is damaged ({error}); {_again(root)}") from None
    if not isinstance(stats, dict) or not isinstance(stats.get("shards"), dict):
        raise DataError(f"{path!r} has no \"shards\" entry (written by an older or a foreign "
                        f"tool); {_again(root)}")
    return stats


def check(root: str, split: str) -> List[str]:
    """The shard paths of ``split`` in ``root``, after checking them, and ``labels.txt``,
    against ``stats.json`` (module docstring); ``DataError`` naming what is missing."""
    stats = read_stats(root)
    count = stats["shards"].get(split)
    if not isinstance(count, int) or count < 1:
        raise DataError(f"{root!r}: stats.json lists no shards for split {split!r}; "
                        f"{_again(root)}")
    folder = example_schema.split_dir(root, split)
    expected = [os.path.join(folder, shard_name(i, count)) for i in range(count)]
    present = {os.path.basename(path)
               for path in paths.glob(example_schema.split_pattern(root, split))}
    missing = [os.path.basename(path) for path in expected
               if os.path.basename(path) not in present]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3
                                          else "")
        raise DataError(f"{root!r} is incomplete: {len(missing)} of the {count} {split} shards "
                        f"listed in stats.json are missing from {folder!r} ({shown}); "
                        f"{_again(root)}")
    classes = stats.get("classes", 0)
    if classes:
        names = example_schema.read_labels(root)
        if len(names) != classes:
            raise DataError(f"{root!r} is incomplete: stats.json lists {classes} classes, "
                            f"{example_schema.LABELS_FILE} holds {len(names)}; {_again(root)}")
    return expected
