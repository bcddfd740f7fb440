"""What holds for every source: stable splits, the stats invariant, errors before running."""
from __future__ import annotations

import os
import sys

import apache_beam as beam
import pytest

from data_prep.options import PrepOptions
from data_prep.prepare import ReadAndPrepare, make_source
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


def read_ids(source_name: str, input_path, **options):
    """The ids a source reads (plan, setup, read, as the workers do), sorted; no pipeline."""
    source = make_source(source_name, str(input_path), PrepOptions(**options))
    plan = source.plan()
    source.setup()
    return sorted(item.id for shard in plan.shards for item in source.read(shard))


def test_ids_are_the_same_however_the_input_files_are_named(gnt_files, monkeypatch):
    (gnt_files / "more").mkdir()
    write_gnt(str(gnt_files / "more" / "3.gnt"), [("啊", solid(2, 3, 0, channels=1)[:, :, 0])])
    whole = read_ids("hwdb", gnt_files)
    assert len(whole) == 46 and "0.gnt:0" in whole and "more/3.gnt:0" in whole
    top = [record_id for record_id in whole if not record_id.startswith("more/")]

    monkeypatch.chdir(gnt_files.parent)  # relative paths: Beam's match needs absolute ones
    name = gnt_files.name
    assert read_ids("hwdb", name) == whole
    assert read_ids("hwdb", f"{name}/") == whole
    assert read_ids("hwdb", f"{name}/**/*.gnt") == whole  # `**/` also matches no folder
    assert read_ids("hwdb", f"{name}/*.gnt") == top  # `*` stays in one folder
    assert read_ids("hwdb", f"{name}/[01].gnt") == [i for i in top if i[0] in "01"]
    assert read_ids("hwdb", f"{name}/more/3.gnt") == ["3.gnt:0"]


def test_a_path_no_beam_file_system_handles_is_an_input_error():
    for source in ("hwdb", "idx", "folder"):
        with pytest.raises(InputError, match="nope://bucket/x: Unable to get filesystem"):
            _ = beam.Pipeline() | ReadAndPrepare(source, "nope://bucket/x", PrepOptions())


LOCAL_ONLY_CALLS = {"open", "io.open", "gzip.open", "os.walk", "os.listdir", "os.scandir",
                    "os.stat", "os.lstat", "os.fstat", "os.path.isfile", "os.path.isdir",
                    "os.path.exists", "os.path.lexists", "os.path.islink", "os.path.getsize",
                    "glob.glob", "glob.iglob"}


def test_data_prep_lists_reads_and_writes_files_only_through_beam_file_systems():
    """Issue 11: every input and output may be remote. Exempt: the LMDB source (py-lmdb maps
    a local folder; remote paths are refused), testdata (writes local test fixtures), and the
    ``_local_*`` helpers of files.py, which run only for local paths (issue 13: Beam's local
    listing silently drops entries it cannot stat, and only ``os.stat`` tells a FIFO from a
    file before it is opened)."""
    import ast

    def dotted(node):
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute):
            return f"{dotted(node.value)}.{node.attr}"
        return ""

    def calls(tree, rel):
        """Local-only calls, except those inside files.py's ``_local_*`` functions."""
        exempt = set()
        if rel == "files.py":
            for function in ast.walk(tree):
                if isinstance(function, ast.FunctionDef) and function.name.startswith("_local"):
                    exempt |= {id(node) for node in ast.walk(function)}
        return [f"{rel}:{node.lineno} {dotted(node.func)}" for node in ast.walk(tree)
                if isinstance(node, ast.Call) and dotted(node.func) in LOCAL_ONLY_CALLS
                and id(node) not in exempt]

    package = os.path.dirname(sys.modules[make_source.__module__].__file__)  # data_prep/
    found = []
    for folder, _, names in os.walk(package):
        for name in names:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, package)
            if not name.endswith(".py") or rel in ("testdata.py", os.path.join("sources",
                                                                               "lsun.py")):
                continue
            with open(path, encoding="utf-8") as handle:
                found += calls(ast.parse(handle.read()), rel)
    assert not found


def test_options_are_checked():
    for bad in ({"eval_fraction": 1.5}, {"channels": 2}, {"charset": "gb18030"},
                {"image_size": 0}, {"max_records": 0}):
        with pytest.raises(ValueError):
            PrepOptions(**bad)
