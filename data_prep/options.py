"""``PrepOptions``: the settings of one preprocessing run, shared by every source."""
from __future__ import annotations

import dataclasses
from typing import Optional

CHARSET_ALL = "all"
CHARSET_GB2312_LEVEL1 = "gb2312_level1"
CHARSETS = (CHARSET_ALL, CHARSET_GB2312_LEVEL1)
NUM_SHARDS = 10  # default TFRecord files of the two splits together (data_prep.write)


@dataclasses.dataclass(frozen=True)
class PrepOptions:
    """Settings of one run; a source ignores the fields that do not concern it.

    Attributes:
      image_size: side of the square output images; None takes the source's default
        (lsun 112, hwdb 28, folder 64, idx 28, digits 28, tfds: the dataset's own size).
      channels: 1 (grayscale) or 3 (RGB); None takes the source's default.
      charset: hwdb only: ``all`` keeps every character, ``gb2312_level1`` keeps the 3,755
        GB2312 level-1 characters (the others are counted as skipped).
      eval_fraction: share of records routed to ``eval`` by ``example_schema.split_of(id)``.
      max_records: read at most this many records (the first ones in the source's order).
      transpose: idx only: images are stored transposed (EMNIST).
      tfds_data_dir: tfds only: the directory holding the prepared TFDS dataset.
    """

    image_size: Optional[int] = None
    channels: Optional[int] = None
    charset: str = CHARSET_ALL
    eval_fraction: float = 0.1
    max_records: Optional[int] = None
    transpose: bool = False
    tfds_data_dir: Optional[str] = None

    def __post_init__(self):
        if self.image_size is not None and self.image_size < 1:
            raise ValueError(f"image_size must be positive, got {self.image_size}")
        if self.channels not in (None, 1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")
        if self.charset not in CHARSETS:
            raise ValueError(f"charset must be one of {', '.join(CHARSETS)}, got {self.charset!r}")
        if not 0.0 <= self.eval_fraction <= 1.0:
            raise ValueError(f"eval_fraction must be in [0, 1], got {self.eval_fraction}")
        if self.max_records is not None and self.max_records < 1:
            raise ValueError(f"max_records must be positive, got {self.max_records}")
