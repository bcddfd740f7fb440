"""What holds for every source: stable splits, the stats invariant, errors before running."""
from __future__ import annotations

import apache_beam as beam
import pytest

from data_prep.options import PrepOptions
from data_prep.prepare import ReadAndPrepare
from data_prep.source import InputError
from data_prep.testdata import write_gnt
from lsgan_tf import example_schema
from prep_helpers import solid


@pytest.fixture
def gnt_files(tmp_path):
    characters = "啊阿埃挨哎唉哀皑癌蔼矮艾碍爱隘"
    for writer in range(3):
        write_gnt(str(tmp_path / f"{writer}.gnt"),
                  [(c, solid(5, 4, 10 * writer, channels=1)[:, :, 0]) for c in characters])
    return tmp_path


def test_every_record_lands_in_the_split_of_its_id_whatever_the_sharding(prepare, gnt_files):
    whole = prepare("hwdb", gnt_files, image_size=4, eval_fraction=0.3)
    limited = prepare("hwdb", gnt_files / "*.gnt", image_size=4, eval_fraction=0.3,
                      max_records=20)

    splits = {i: e["split"] for i, e in whole.examples.items()}
    assert len(splits) == 45
    assert splits == {i: example_schema.split_of(i, 0.3) for i in splits}
    assert 0 < list(splits.values()).count("eval") < 45
    assert len(limited.examples) == 20
    assert {i: e["split"] for i, e in limited.examples.items()} == {
        i: splits[i] for i in limited.examples}


def test_stats_and_counters_agree_and_read_is_written_plus_rejected(prepare, gnt_files):
    (gnt_files / "0.gnt").write_bytes((gnt_files / "0.gnt").read_bytes()[:-7])
    out = prepare("hwdb", gnt_files, image_size=4)
    stats = out.stats
    assert stats["rejected"] == {"truncated_sample": 1}
    assert stats["read"] == sum(stats["written"].values()) + sum(stats["rejected"].values()) == 45
    assert stats["classes"] == 15 and stats["source"] == "hwdb"
    for split in example_schema.SPLITS:
        assert out.counter(f"written_{split}") == stats["written"][split]
    assert (out.counter("read"), out.counter("rejected")) == (45, 1)


def test_unknown_source_and_missing_inputs_fail_before_the_pipeline_runs(tmp_path):
    pipeline = beam.Pipeline()
    with pytest.raises(KeyError, match="unknown prep source 'nope'.*digits, folder, hwdb"):
        _ = pipeline | "A" >> ReadAndPrepare("nope", "x", PrepOptions())
    for source in ("lsun", "hwdb", "folder", "idx"):
        with pytest.raises(InputError, match="does not exist|no LMDB|not a directory"):
            _ = pipeline | source >> ReadAndPrepare(source, str(tmp_path / "missing"),
                                                    PrepOptions())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no .gnt files"):
        _ = pipeline | "B" >> ReadAndPrepare("hwdb", str(tmp_path / "empty"), PrepOptions())


def test_options_are_checked():
    for bad in ({"eval_fraction": 1.5}, {"channels": 2}, {"charset": "gb18030"},
                {"image_size": 0}, {"max_records": 0}):
        with pytest.raises(ValueError):
            PrepOptions(**bad)
