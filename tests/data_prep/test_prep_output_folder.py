"""``lsgan prep --output`` under the output-folder contract (issue 24, class 1): a folder of the
user's files is refused, ``--overwrite`` or not, and left byte for byte; an output inside the
input, or holding it, is refused; so are an empty ``--output`` and a training run's folder.
In process (``command.main``), each refusal before Beam runs."""
import os

import pytest

from data_prep import command
from helpers import image_folder, tree
from lsgan_tf import output_folder
from prep_helpers import prep_in_process

@pytest.fixture
def prep(capsys):
    """``lsgan prep ARGS`` in process; returns (exit status, stdout, stderr)."""
    return prep_in_process(capsys)




def refused(status, err):
    assert status == 2, err[-2000:]
    (line,) = err.strip().splitlines()
    assert line.startswith("lsgan prep: "), line
    return line[len("lsgan prep: "):]


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
def test_a_folder_of_the_users_files_is_refused_and_left_byte_for_byte(prep, tmp_path, overwrite):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "labels.txt").write_text("the user's labels\n")  # a name a prepared dataset has too
    (mine / "notes.txt").write_text("mine\n")
    before = tree(mine)
    status, _, err = prep("--source=digits", "--max_records=20", f"--output={mine}", *overwrite)
    assert refused(status, err) == (
        f"--output={mine} already holds files that `lsgan prep` did not make (labels.txt, "
        "notes.txt); nothing was written: choose an absent or empty folder (or one an earlier "
        "`lsgan prep` made)")
    assert tree(mine) == before


def test_an_output_inside_the_input_or_holding_it_is_refused(prep, tmp_path):
    images = tmp_path / "images"
    before = image_folder(images)
    inside = images / "prepared"
    status, _, err = prep("--source=folder", f"--input={images}", f"--output={inside}")
    assert refused(status, err) == (f"--output={inside} is inside --input={images}: the files "
                                    "written there would be read as input; choose an --output "
                                    "outside it")
    status, _, err = prep("--source=folder", f"--input={images}", f"--output={tmp_path}")
    assert refused(status, err) == (f"--input={images} is inside --output={tmp_path}: the input "
                                    "would be mixed with the outputs; choose an --output that "
                                    "does not hold the input")
    assert tree(images) == before and os.listdir(tmp_path) == ["images"]


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_output_is_refused(prep, tmp_path, monkeypatch, value):
    monkeypatch.chdir(tmp_path)
    status, _, err = prep("--source=digits", "--max_records=20", f"--output={value}")
    assert refused(status, err) == (f"--output={value!r}: name a folder (an empty path would be "
                                    "the current folder)")
    assert os.listdir(tmp_path) == []


def test_a_training_run_is_not_an_output_and_a_prepared_dataset_is_marked(prep, tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    output_folder.mark(str(run), output_folder.TRAIN)
    status, _, err = prep("--source=digits", "--max_records=20", f"--output={run}", "--overwrite")
    assert refused(status, err) == (f"--output={run} is a training run made by `lsgan train`, "
                                    "not a prepared dataset; choose an absent or empty folder "
                                    "for `lsgan prep`")
    assert os.listdir(run) == [output_folder.MARKER]
    status, _, err = prep("--source=digits", "--max_records=20", f"--output={out}")
    assert status == 0, err
    assert output_folder.MARKER in os.listdir(out)
    output_folder.check(str(out), output_folder.PREPARED)  # its own: accepted again


def test_beam_storage_lists_the_top_level_entries(tmp_path):
    (tmp_path / "Split-train").mkdir()
    (tmp_path / "Split-train" / "data-0.tfrecord.gz").write_bytes(b"x")
    (tmp_path / "stats.json").write_text("{}")
    assert command.BEAM_STORAGE.names(str(tmp_path)) == ["Split-train", "stats.json"]
    assert command.BEAM_STORAGE.names(str(tmp_path / "absent")) is None
    command.BEAM_STORAGE.write(str(tmp_path / "m"), b"marker")
    assert command.BEAM_STORAGE.read(str(tmp_path / "m")) == b"marker"
