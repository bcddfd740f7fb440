"""``folder``: image files under a directory, in any format Pillow reads.

* One subdirectory per class: labels are the sorted subdirectory names (``labels.txt``), the
  files anywhere below a class directory belong to it; files directly in the root are then
  rejected (``outside_class_dir``).
* A flat folder (no subdirectories): unlabeled (-1).
Directories whose names start with ``.`` are ignored. Every other file is read: one that is
not an image is a reject (``not_an_image``, ``empty``, ``corrupt_image``...). Images are
converted to RGB (``--channels=1`` for grayscale), the shorter side resized and centre-cropped
to ``image_size`` (default 64). ``id`` = the path relative to the input directory.

The directory is listed and its files read through Beam's ``FileSystems`` (``data_prep.files``):
local or remote (``gs://bucket/pets``). A listing holds files only, so a class directory is one
with at least one file below it (object stores have no empty folders; a local empty
subdirectory is no class either).
"""
from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from data_prep import images
from data_prep.files import is_folder, join, list_folder, open_raw
from lsgan_tf.example_schema import UNLABELED
from data_prep.records import Record, Reject
from data_prep.source import InputError, Plan, Source, chunked
from data_prep.sources import SOURCES

FILES_PER_SHARD = 256
OUTSIDE_CLASS_DIR = "outside_class_dir"
UNREADABLE = "unreadable"


def _parts(relative: str) -> List[str]:
    return relative.replace(os.sep, "/").split("/")


@SOURCES.register("folder")
class FolderSource(Source):
    """A directory of images -> RGB squares; shards of ``(relative path, label or None)``."""

    default_image_size = 64
    default_channels = 3

    def plan(self) -> Plan:
        root = self.input_path
        listed = [rel for rel, _ in list_folder(root)]
        if not listed and not is_folder(root):
            raise InputError(f"folder: {root} is not a directory")
        folders = [_parts(rel)[:-1] for rel in listed]
        classes = sorted({parts[0] for parts in folders
                          if parts and not parts[0].startswith(".")})
        label_of = {name: label for label, name in enumerate(classes)}
        files: List[Tuple[str, Optional[int]]] = []
        for rel, parts in zip(listed, folders):
            if any(folder.startswith(".") for folder in parts):
                continue  # below a hidden directory
            if parts:
                files.append((rel, label_of[parts[0]]))
            else:
                files.append((rel, None if classes else UNLABELED))
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
                with open_raw(join(self.input_path, rel)) as handle:
                    data = handle.read()
            except OSError as error:
                yield Reject(rel, UNREADABLE, str(error))
                continue
            yield Record(rel, data, label)

    def decode(self, record: Record) -> np.ndarray:
        image = images.open_encoded(record.payload, draft_size=self.image_size,
                                    channels=self.channels)
        return images.to_array(images.crop_to_square(image, self.image_size), self.channels)
