"""experiments.mog: it trains what ``lsgan train`` trains (bit for bit), writes per-run JSON with the
three rules at every snapshot, resumes, and reports per scheme x loss."""
import collections
import json
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from experiments import mog

STATE = ("generator/", "discriminator/", "d_optimizer/", "g_optimizer/", "step/")


def checkpoint_state(folder):
    reader = tf.train.load_checkpoint(os.path.join(folder, "checkpoints"))
    return {key: reader.get_tensor(key) for key in reader.get_variable_to_shape_map()
            if key.startswith(STATE)}


def assert_same_state(ours, theirs, what):
    assert ours.keys() == theirs.keys() and len(ours) > 10
    assert int(ours["step/.ATTRIBUTES/VARIABLE_VALUE"]) == 3
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key], value, err_msg=f"{what} {key}")


@pytest.mark.parametrize("scheme", ["authors", "ours"])
def test_bench_run_is_lsgan_train(tmp_path, scheme):
    """3 steps of the bench's ``train_run`` and of ``lsgan_tf.training.train`` on the same
    config (in this process) leave the same checkpoint, bit for bit: the same initial weights,
    batches, noise and updates (the bench runs 3 steps in one loop call, ``train`` 3 calls of 1)."""
    from lsgan_tf.training import train

    args = mog.parse_args(["--steps", "3", "--snapshot_every", "3", "--num_samples", "50",
                           "--out", str(tmp_path / "bench")])
    mog.train_run((scheme, "ls", 0), args)
    train(mog.run_config(scheme, "ls", 0, 3, 3), str(tmp_path / "train"))
    assert_same_state(checkpoint_state(tmp_path / "bench" / scheme / "ls" / "seed_0"),
                      checkpoint_state(tmp_path / "train"), scheme)


def test_quick_sweep_writes_scores_resumes_and_reports(tmp_path, capsys):
    out, figs = str(tmp_path / "mog"), str(tmp_path / "figs")
    argv = ["--quick", "--steps", "20", "--snapshot_every", "10", "--seeds", "1",
            "--num_samples", "300", "--workers", "0", "--out", out, "--figure_dir", figs]
    # An unfinished run: 10 of 20 steps, as if the sweep had been stopped there.
    args = mog.parse_args(argv)
    assert mog.plan(args) == [("authors", "ls", 0), ("authors", "ns", 0), ("ours", "ls", 0),
                              ("ours", "ns", 0)]
    args.steps = 10
    mog.train_run(("ours", "ns", 0), args)
    os.remove(os.path.join(out, "ours", "ns", "seed_0.json"))
    capsys.readouterr()
    summary = mog.main(argv)
    text = capsys.readouterr().out
    assert "0 finished, 4 to run" in text and "ours ns seed 0: resuming at step 10" in text
    for scheme in ("authors", "ours"):
        for loss in ("ls", "ns"):
            with open(os.path.join(out, scheme, loss, "seed_0.json")) as handle:
                run = json.load(handle)
            assert run["complete"] and run["steps"] == 20 and run["scheme"] == scheme
            assert run["config"]["loss"]["type"] == loss
            assert [s["step"] for s in run["snapshots"]] == [0, 10, 20]
            for snap in run["snapshots"]:
                assert 0 <= snap["modes_covered"] <= 8 and 0 <= snap["sectors_covered"] <= 8
                assert 0.0 <= snap["ring_share"] <= 1.0 and 0.25 <= snap["top_sector_share"]
            assert run["collapsed_at_end"] == run["snapshots"][-1]["collapsed"]
            final = summary[f"{scheme}/{loss}"]["per_step"]["20"]
            assert final["seeds"] == 1 and len(final["ring_share"]["values"]) == 1
    for name in ("table.md", "summary.json", "density.png", "metrics.png"):
        assert os.path.exists(os.path.join(figs, f"mog_quick_{name}"))
    mog.main(argv)  # everything finished: nothing trained, report rebuilt
    text = capsys.readouterr().out
    assert "4 finished, 0 to run" in text and "At step 20" in text


def test_plan_is_seed_major_with_smaller_mixed_cells():
    args = mog.parse_args(["--seeds", "3", "--mixed_seeds", "2", "--losses", "ls,pearson",
                           "--mixed_losses", "ls"])
    assert args.steps == 35000 and args.snapshot_every == 5000
    assert mog.plan(args)[:6] == [("authors", "ls", 0), ("authors", "pearson", 0),
                                  ("ours", "ls", 0), ("ours", "pearson", 0),
                                  ("alt_shared", "ls", 0), ("sim_fresh", "ls", 0)]
    assert len(mog.plan(args)) == 3 * 4 + 2 * 2
    full = mog.parse_args([])
    assert len(mog.plan(full)) == 2 * 4 * 10 + 2 * 2 * 5
    with pytest.raises(SystemExit):
        mog.parse_args(["--schemes", "authors,nope"])


def test_summary_and_tables_by_hand():
    def run(seed, modes, collapsed):
        snaps = [{"step": 10 * i, "modes_covered": m, "ring_share": 0.5, "sectors_covered": m,
                  "top_sector_share": 0.9 if c else 0.3, "high_quality_share": 0.1,
                  "collapsed": c} for i, (m, c) in enumerate(zip(modes, collapsed))]
        return {"seed": seed, "steps": 20, "snapshots": snaps,
                **mog.collapse_summary_of(snaps)}

    results = {("authors", "ns"): [run(0, [0, 8, 8], [True, False, False]),
                                   run(1, [0, 2, 6], [False, True, False]),
                                   run(2, [0, 1, 1], [False, True, True])]}
    summary = mog.summarise(results)["authors/ns"]
    assert summary["per_step"]["20"]["modes_covered"]["mean"] == 5.0
    assert summary["collapse_episode"] == {"count": 2, "n": 3}
    assert summary["collapsed_at_end"] == {"count": 1, "n": 3}
    table = mog.final_table({"authors/ns": summary})
    assert "| authors | ns | 3 | 5.0 ± 2.9 (8, 6, 1) |" in table
    assert "| 2/3 (0, 1, 2) | 1/3 |" in table
    assert "| authors | ns | 1/3 | 2/3 | 1/3 |" in mog.step_tables({"authors/ns": summary})


def test_published_mog_table_is_the_summary_it_was_built_from():
    """docs/RESULTS.md's MoG table holds the rows `final_table` renders from the published
    docs/figures/mog_summary.json (no hand edits), with the seeds the sweep plans per cell."""
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs"
    summary = json.loads((docs / "figures" / "mog_summary.json").read_text())
    results = (docs / "RESULTS.md").read_text()
    rendered = mog.final_table(summary).splitlines()
    header = rendered[0]
    assert results.count(header) == 1
    start = results.index(header)
    published = results[start:results.index("\n\n", start)].splitlines()
    assert published[:2] == rendered[:2]
    assert sorted(published[2:]) == sorted(rendered[2:])
    seeds = {key: entry["collapse_episode"]["n"] for key, entry in summary.items()}
    planned = collections.Counter(f"{scheme}/{loss}" for scheme, loss, _ in
                                  mog.plan(mog.parse_args(["--seeds", "10"])))
    assert seeds == planned
    assert sorted(set(seeds.values())) == [5, 10]
