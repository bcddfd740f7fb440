"""``folder``: image files under a directory, in any format Pillow reads.

* One subdirectory per class: labels are the sorted subdirectory names (``labels.txt``), the
  files anywhere below a class directory belong to it; files directly in the root are then
  rejected (``outside_class_dir``).
* A flat folder (no subdirectories): unlabeled (-1).
Directories whose names start with ``.`` are ignored. Every other file is read: one that is
not an image is a reject (``not_an_image``, ``empty``, ``corrupt_image``...). Images are
converted to RGB (``--channels=1`` for grayscale), the shorter side resized and centre-cropped
to ``image_size`` (default 64). ``id`` = the path relative to the input directory.
"""
from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from data_prep import images
from lsgan_tf.example_schema import UNLABELED
from data_prep.records import Record, Reject
from data_prep.source import InputError, Plan, Source, chunked
from data_prep.sources import SOURCES

FILES_PER_SHARD = 256
OUTSIDE_CLASS_DIR = "outside_class_dir"
UNREADABLE = "unreadable"


def _files_below(root: str, folder: str) -> List[str]:
    """Paths relative to ``root`` of the files below ``root/folder``, hidden folders left out."""
    found = []
    for current, folders, names in os.walk(os.path.join(root, folder)):
        folders[:] = [name for name in folders if not name.startswith(".")]
        found += [os.path.relpath(os.path.join(current, name), root) for name in names]
    return found


@SOURCES.register("folder")
class FolderSource(Source):
    """A directory of images -> RGB squares; shards of ``(relative path, label or None)``."""

    default_image_size = 64
    default_channels = 3

    def plan(self) -> Plan:
        root = self.input_path
        if not os.path.isdir(root):
            raise InputError(f"folder: {root} is not a directory")
        entries = sorted(os.listdir(root))
        classes = [name for name in entries
                   if not name.startswith(".") and os.path.isdir(os.path.join(root, name))]
        files: List[Tuple[str, Optional[int]]]
        if classes:
            files = [(rel, label) for label, name in enumerate(classes)
                     for rel in _files_below(root, name)]
            files += [(name, None) for name in entries
                      if os.path.isfile(os.path.join(root, name))]
        else:
            files = [(rel, UNLABELED) for rel in _files_below(root, "")]
        files = sorted(files)[:self.options.max_records]
        kind = f"{len(classes)} class folders" if classes else "a flat folder (unlabeled)"
        return Plan(shards=chunked(files, FILES_PER_SHARD), class_names=tuple(classes),
                    description=f"{len(files):,} files in {kind}")

    def read(self, shard: Tuple[Tuple[str, Optional[int]], ...]
             ) -> Iterator[Union[Record, Reject]]:
        for rel, label in shard:
            if label is None:
                yield Reject(rel, OUTSIDE_CLASS_DIR, "a file next to the class folders")
                continue
            try:
                with open(os.path.join(self.input_path, rel), "rb") as handle:
                    data = handle.read()
            except OSError as error:
                yield Reject(rel, UNREADABLE, str(error))
                continue
            yield Record(rel, data, label)

    def decode(self, record: Record) -> np.ndarray:
        image = images.open_encoded(record.payload, draft_size=self.image_size,
                                    channels=self.channels)
        return images.to_array(images.crop_to_square(image, self.image_size), self.channels)
