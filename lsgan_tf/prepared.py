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

Nothing in ``stats.json`` is trusted before it is bounded (``read_stats``: the file at most
``MAX_STATS_BYTES``; ``shards``, ``written`` and ``classes`` integers in their ranges), and each
listed shard is checked cheaply before it is read (``check``, two small reads per shard): it
is not empty, it is gzip (``1f 8b 08``), it is at least an empty gzip stream long, and its gzip
trailer's uncompressed size is one deflate can reach from its size (at most 1032 times: a
truncated shard ends in arbitrary bytes, which rarely pass). Damage inside a shard (a flipped
bit, a truncation the trailer check misses) shows only when the records are read: TensorFlow
then raises a ``DataLossError`` that names no file, and ``find_damage`` names it, scanning the
shards one by one. All of these are ``DamagedData`` (a ``DataError``): one line naming the shard,
the record where that is known, and what to do.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

from lsgan_tf import example_schema, paths
from lsgan_tf.errors import UsageError
from lsgan_tf.messages import shown
from lsgan_tf.tf_error_text import reason

SHARD_PREFIX = "data"  # data_prep.write.SHARD_PREFIX: Beam names shards data-SSSSS-of-NNNNN
MAX_STATS_BYTES = 16 * 2 ** 20
MAX_SHARDS = 100_000  # shards of one split ("-of-NNNNN": five digits)
MAX_RECORDS = 2 ** 40  # records of one split
MAX_CLASSES = 2 ** 24  # lines of labels.txt
GZIP_MAGIC = b"\x1f\x8b\x08"  # gzip, deflate
GZIP_MIN_BYTES = 20  # an empty gzip stream: 10-byte header, empty final block, 8-byte trailer
DEFLATE_MAX_RATIO = 1032  # zlib: deflate expands its input at most 1032 times
SCAN_BATCH = 4096  # records counted per step of ``find_damage``'s first pass


class DataError(UsageError):
    """Input data that cannot be used as asked (missing, incomplete, empty, wrong shape)."""


class DamagedData(DataError):
    """A shard whose bytes cannot be read whole: ``path`` names it, ``record`` the first record
    that cannot be read (the records before it read whole), None when the check before reading
    found it."""

    def __init__(self, message: str, path: str, record: Optional[int] = None):
        super().__init__(message)
        self.path, self.record = path, record


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
    size = paths.size(path)
    if size > MAX_STATS_BYTES:
        raise DataError(f"{path!r} is {size} bytes, more than the {MAX_STATS_BYTES} a "
                        f"stats.json of `lsgan prep` takes; {_again(root)}")
    try:
        stats = json.loads(paths.read_text(path))
    except ValueError as error:
        raise DataError(f"{path!r} is damaged ({error}); {_again(root)}") from None
    if not isinstance(stats, dict) or not isinstance(stats.get("shards"), dict):
        raise DataError(f"{path!r} has no \"shards\" entry (written by an older or a foreign "
                        f"tool); {_again(root)}")
    _check_counts(stats, path, root)
    return stats


def _check_counts(stats: Dict, path: str, root: str) -> None:
    """``DataError`` unless ``shards`` and ``written`` map names to integers within
    ``MAX_SHARDS`` and ``MAX_RECORDS`` and ``classes`` is one within ``MAX_CLASSES``."""
    def bounded(key: str, value, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= high:
            raise DataError(f"{path!r}: {key} = {shown(value)}; allowed: an integer from 0 to "
                            f"{high}; {_again(root)}")

    for key, high in (("shards", MAX_SHARDS), ("written", MAX_RECORDS)):
        counts = stats.get(key, {})
        if not isinstance(counts, dict):
            raise DataError(f"{path!r}: {key} = {shown(counts)}; allowed: a mapping of split "
                            f"names to integers; {_again(root)}")
        for name, value in counts.items():
            bounded(f"{key}.{name}", value, high)
    bounded("classes", stats.get("classes", 0), MAX_CLASSES)


def _shard_problem(path: str) -> Optional[str]:
    """What the cheap checks before reading (module docstring) find wrong with a shard."""
    import tensorflow as tf

    size = paths.size(path)
    if size == 0:
        return "is empty (0 bytes)"
    if size < GZIP_MIN_BYTES:
        return f"is {size} bytes, shorter than any gzip file ({GZIP_MIN_BYTES})"
    with tf.io.gfile.GFile(path, "rb") as handle:
        head = handle.read(len(GZIP_MAGIC))
        handle.seek(size - 4)
        uncompressed = int.from_bytes(handle.read(4), "little")  # ISIZE, modulo 2**32
    if head != GZIP_MAGIC:
        return f"is not gzip (it starts with {head.hex(' ')}, gzip with 1f 8b 08)"
    if uncompressed > DEFLATE_MAX_RATIO * size:
        return (f"is truncated or damaged: its last bytes, the gzip trailer, claim "
                f"{uncompressed} uncompressed bytes, more than its {size} bytes can hold")
    return None


def _count_until_loss(dataset) -> Tuple[int, Optional[BaseException]]:
    """(records read, the ``DataLossError`` that stopped the reading, or None at the end) of
    a dataset of records or of batches of records."""
    import tensorflow as tf

    done = 0
    try:
        for element in dataset:
            done += int(tf.size(element))
    except tf.errors.DataLossError as error:
        return done, error
    return done, None


def find_damage(files: Sequence[str]) -> Optional[DamagedData]:
    """The first of ``files`` (gzipped TFRecord shards of a prepared folder) that cannot be
    read to its end, as ``DamagedData`` naming it, the first record that cannot be read and
    TensorFlow's reason (for a truncation ``truncated record at N``: its byte offset in the
    uncompressed stream; TensorFlow inflates a shard in chunks of a few hundred KiB, so the
    damage may lie up to a chunk further on); None when every one reads whole. Reads every
    file to its end (in batches of ``SCAN_BATCH``, then a damaged one again record by record
    from the last whole batch): for the path where a read failed, not before every run. Errors
    other than a ``DataLossError`` (a read the storage refused) are raised as they are."""
    import tensorflow as tf

    for path in files:
        records = tf.data.TFRecordDataset(path, compression_type="GZIP")
        whole, error = _count_until_loss(records.batch(SCAN_BATCH))
        if error is None:
            continue
        more, again = _count_until_loss(records.skip(whole))
        record, error = whole + more, again or error
        before = f"records 0-{record - 1} read whole" if record else "no record read whole"
        return DamagedData(f"shard {path} is damaged: reading stopped at record {record} "
                           f"({before}): {reason(error)}; "
                           f"{_again(os.path.dirname(os.path.dirname(path)))}", path, record)
    return None


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
    for path in expected:
        problem = _shard_problem(path)
        if problem:
            raise DamagedData(f"shard {path} {problem}, though stats.json lists it; "
                              f"{_again(root)}", path)
    classes = stats.get("classes", 0)
    if classes:
        names = example_schema.read_labels(root)
        if len(names) != classes:
            raise DataError(f"{root!r} is incomplete: stats.json lists {classes} classes, "
                            f"{example_schema.LABELS_FILE} holds {len(names)}; {_again(root)}")
    return expected
