"""experiments.no_bn: outcomes, the table over seeds and the arguments, on hand-made run records."""
import json

import numpy as np
import pytest

from experiments import no_bn

CLASSES = 40


def run(setting="g_no_bn_adam", loss="ls", seed=0, covered=(30, 38), fd=(20.0, 8.0),
        status="ok", steps=(400, 800)):
    history = [{"step": s, "fd": f, "kid": f / 10, "precision": 0.5, "recall": 0.4,
                "coverage": 0.3, "classifier_score": 9.0, "classes_covered": c}
               for s, f, c in zip(steps, fd, covered)]
    return {"setting": setting, "loss": loss, "seed": seed, "status": status,
            "history": history}


def test_outcome_reads_the_last_stage():
    assert no_bn.outcome(run(), CLASSES, 800) == "ok"
    assert no_bn.outcome(run(covered=(38, 20)), CLASSES, 800) == "collapsed"  # 20 <= 40 / 2
    assert no_bn.outcome(run(covered=(38, 21)), CLASSES, 800) == "ok"
    assert no_bn.outcome(run(status="diverged: NaN at step 350"), CLASSES, 800) == "diverged"
    assert no_bn.outcome(run(), CLASSES, 1200) == "unfinished"
    assert no_bn.outcome(run(covered=(), fd=(), steps=()), CLASSES, 800) == "unfinished"


def test_summarize_gives_mean_std_min_max_over_finished_seeds():
    runs = [run(seed=0, fd=(30.0, 10.0)), run(seed=1, fd=(30.0, 14.0)),
            run(seed=2, fd=(30.0, 30.0), covered=(10, 12)),  # collapsed: in the spread
            run(seed=3, status="diverged: NaN"), run(seed=4, steps=(400,), fd=(5.0,),
                                                     covered=(40,)),  # unfinished: not
            run(loss="ns", seed=0, fd=(50.0, 60.0))]
    rows = no_bn.summarize(runs, CLASSES, 800)
    assert [(r["setting"], r["loss"]) for r in rows] == [("g_no_bn_adam", "ls"),
                                                        ("g_no_bn_adam", "ns")]
    ls = rows[0]
    assert (ls["seeds"], ls["finished"], ls["diverged"], ls["collapsed"], ls["unfinished"]) \
        == (5, 3, 1, 1, 1)
    fd = ls["scores"]["fd"]
    assert fd["mean"] == pytest.approx(18.0)
    assert fd["std"] == pytest.approx(np.std([10.0, 14.0, 30.0], ddof=1))
    assert (fd["min"], fd["max"]) == (10.0, 30.0)
    assert ls["scores"]["classes_covered"]["mean"] == pytest.approx((38 + 38 + 12) / 3)
    assert rows[1]["scores"]["fd"] == {"mean": 60.0, "std": 0.0, "min": 60.0, "max": 60.0}


def test_markdown_table_has_an_arm_per_row_and_the_references():
    rows = no_bn.summarize([run(seed=0), run(seed=1, fd=(20.0, 12.0))], CLASSES, 800)
    table = no_bn.markdown_table(rows, {"uniform noise": {"fd": 300.0, "classes_covered": 4}})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| (a) no BN in G, Adam 2e-4 | LSGAN (0,1,1) | 2 | 0 | 0 | 10 ± 2.8")
    assert lines[3].startswith("| reference | uniform noise | - | - | - | 300 | - |")


def test_load_run_reads_a_saved_run_or_starts_empty(tmp_path):
    args = no_bn.parse_args(["--out", str(tmp_path), "--seeds", "2"])
    saved = run(seed=1)
    where = tmp_path / "g_no_bn_adam" / "ls" / "seed_1"
    where.mkdir(parents=True)
    (where / "scores.json").write_text(json.dumps(saved))
    assert no_bn.load_run(args, "g_no_bn_adam", "ls", 1) == saved
    assert no_bn.load_run(args, "g_no_bn_adam", "ls", 0)["history"] == []


@pytest.mark.parametrize("argv, message", [
    (["--steps", "1000", "--eval_every", "300"], "multiple of --eval_every"),
    (["--seeds", "0"], "at least 1"),
    (["--settings", "g_no_bn_adam,bogus"], "unknown ['bogus']"),
])
def test_bad_arguments_fail_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit):
        no_bn.parse_args(argv)
    assert message in capsys.readouterr().err


def test_data_without_labels_or_stats_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="no prepared data at .*make no-bn-data"):
        no_bn.num_classes(str(tmp_path))
