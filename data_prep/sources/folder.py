r"""``folder``: image files under a directory: JPEG, PNG, WEBP, GIF, BMP or TIFF.

* One subdirectory per class: labels are the sorted subdirectory names (``labels.txt``), the
  files anywhere below a class directory belong to it; files directly in the root are then
  rejected (``outside_class_dir``).
* A flat folder (no subdirectories): unlabeled (-1).
Directories whose names start with ``.`` are ignored. Every other file is read: one that is
not an image is a reject (``not_an_image``, ``empty``, ``corrupt_image``...); so is one in a
format outside ``images.FOLDER_FORMATS`` (only those decoders are tried: Pillow's EPS plugin
would run Ghostscript on the file). Images are
converted to RGB (``--channels=1`` for grayscale), the shorter side resized and centre-cropped
to ``image_size`` (default 64). ``id`` = the path relative to the input directory.

Names are made text by ``records.escape_name``, the same rule for ids and class names: a byte
that is not UTF-8 is ``\xNN``, a control or line-breaking character ``\uNNNN`` (a class folder
``a<newline>b`` is ``a\u000ab`` in labels.txt, in the ids of its files and in the rejects TSV),
a backslash ``\\``; ``records.unescape_name(id)`` gives the file's relative path back as bytes.
Entries that cannot be read as files are rejects without being opened (``data_prep.files``):
``not_a_regular_file`` (a FIFO, socket, device, or a symbolic link to a folder of the input,
not followed), ``symlink_outside_input`` (a symbolic link to a file or folder out of the
input: never read), ``duplicate_link`` (a link to a file that is read anyway: each file once),
``path_too_long`` (a path longer than the system takes) and ``unreadable`` (a link loop or
dangling link, a folder that cannot be listed, any ``OSError`` opening or reading the file).
An archive (zip, tar, 7z, RAR, a compressed tar..., told by its first bytes:
``data_prep.archives``) is an ``archive`` reject, read no further than those bytes (one
compressed file, e.g. ``x.png.gz``, is read, and is ``not_an_image``); an ``--input`` that is
one archive or compressed file is an ``InputError`` saying how to unpack it.

The directory is listed and its files read through Beam's ``FileSystems`` (``data_prep.files``):
local or remote (``gs://bucket/pets``). A listing holds files only, so a class directory is one
with at least one file below it (object stores have no empty folders; a local empty
subdirectory is no class either).
"""
from __future__ import annotations

import os
from typing import Iterator, List, Optional, Tuple, Union

import numpy as np

from data_prep import archives, images
from data_prep.files import (UNREADABLE, archive_problem, check_file, describe, is_folder, join,
                             list_folder, open_raw, read_once, refuse_archive)
from data_prep.records import Record, Reject, escape_name
from data_prep.source import InputError, Plan, Source, chunked
from data_prep.sources import SOURCES
from lsgan_tf.example_schema import UNLABELED

FILES_PER_SHARD = 256
OUTSIDE_CLASS_DIR = "outside_class_dir"


def _parts(relative: str) -> List[str]:
    return relative.replace(os.sep, "/").split("/")


@SOURCES.register("folder")
class FolderSource(Source):
    """A directory of images -> RGB squares; shards of ``(relative path as bytes, label or
    None (outside the class folders), problem or None)``."""

    default_image_size = 64
    default_channels = 3

    def check_input(self) -> None:
        refuse_archive(self.input_path, "folder")

    def plan(self) -> Plan:
        root = self.input_path
        self.check_input()
        listed = list_folder(root)
        if not listed and not is_folder(root):
            raise InputError(f"folder: {root} is not a directory")
        folders = [_parts(entry.rel)[:-1] for entry in listed]
        names = {escape_name(parts[0]): parts[0] for parts in folders
                 if parts and not parts[0].startswith(".")}
        classes = sorted(names)
        label_of = {names[name]: label for label, name in enumerate(classes)}
        # what is read: the entries outside hidden directories, each file once
        listed = read_once([entry for entry, parts in zip(listed, folders)
                            if not any(folder.startswith(".") for folder in parts)])
        files: List[Tuple[bytes, Optional[int], Optional[Tuple[str, str]]]] = []
        for entry in listed:
            parts = _parts(entry.rel)[:-1]
            label = label_of[parts[0]] if parts else None if classes else UNLABELED
            # bytes: a name that is not UTF-8 (surrogate escapes) could not pass Beam's coders
            files.append((os.fsencode(entry.rel), label, entry.problem))
        files = sorted(files)[:self.options.max_records]
        kind = f"{len(classes)} class folders" if classes else "a flat folder (unlabeled)"
        return Plan(shards=chunked(files, FILES_PER_SHARD), class_names=tuple(classes),
                    description=f"{len(files):,} files in {kind}")

    def read(self, shard: Tuple[Tuple[bytes, Optional[int], Optional[Tuple[str, str]]], ...]
             ) -> Iterator[Union[Record, Reject]]:
        for rel, label, problem in shard:
            rel = os.fsdecode(rel)
            record_id = escape_name(rel)
            path = join(self.input_path, rel)
            problem = problem or (check_file(path) if label is not None else None)
            if problem:
                yield Reject(record_id, *problem)
                continue
            if label is None:
                yield Reject(record_id, OUTSIDE_CLASS_DIR, "a file next to the class folders")
                continue
            try:
                with open_raw(path) as handle:
                    data = handle.read(archives.HEAD_BYTES)
                    archive = archives.identify(data)
                    if archive is not None and archive.compression:
                        archive = None  # one compressed file: read, and not_an_image
                    if archive is None:
                        data += handle.read()
            except OSError as error:
                yield Reject(record_id, UNREADABLE, describe(error))
                continue
            if archive is not None:
                yield Reject(record_id, *archive_problem(archive, rel))
                continue
            yield Record(record_id, data, label)

    def decode(self, record: Record) -> np.ndarray:
        image = images.open_encoded(record.payload, images.FOLDER_FORMATS,
                                    draft_size=self.image_size, channels=self.channels)
        return images.to_array(images.crop_to_square(image, self.image_size), self.channels)
