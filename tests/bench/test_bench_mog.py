"""bench.mog: a short run writes per-seed JSON with the metrics at every snapshot, resumes."""
import json
import os

from bench import mog


def test_mog_quick_run_writes_json_and_skips_finished(tmp_path, capsys):
    out, figs = str(tmp_path / "mog"), str(tmp_path / "figs")
    argv = ["--steps", "200", "--snapshot_every", "100", "--seeds", "1", "--losses", "ls,ns",
            "--num_samples", "300", "--out", out, "--figure_dir", figs, "--jit", "0"]
    summary = mog.main(argv)
    for loss in ("ls", "ns"):
        with open(os.path.join(out, loss, "seed_0.json")) as handle:
            run = json.load(handle)
        assert run["complete"] and run["steps"] == 200 and run["config"]["loss"]["type"] == loss
        assert [s["step"] for s in run["snapshots"]] == [0, 100, 200]
        for snap in run["snapshots"]:
            assert 0 <= snap["modes_covered"] <= 8
            assert 0.0 <= snap["high_quality_share"] <= 1.0
            assert snap["mode_kl"] >= 0.0
        assert summary[loss]["per_step"]["200"]["modes_covered"]["values"]
    assert os.path.exists(os.path.join(figs, "mog_density.png"))
    assert os.path.exists(os.path.join(figs, "mog_modes.png"))
    assert "modes covered" in capsys.readouterr().out
    mog.main(argv)  # everything finished: skipped, report rebuilt
    assert "done, skipped" in capsys.readouterr().out


def test_summary_table_statistics():
    runs = [{"seed": s, "steps": 10, "snapshots": [
        {"step": 10, "modes_covered": m, "high_quality_share": 0.5, "mode_kl": 0.1}]}
        for s, m in enumerate([8, 6, 8])]
    summary = mog.summarise({"ls": runs})
    final = summary["ls"]["per_step"]["10"]["modes_covered"]
    assert final["mean"] == 22 / 3 and final["min"] == 6 and final["max"] == 8
    assert summary["ls"]["all_8_modes_share"] == 2 / 3
    assert "7.33 +- 0.94" in mog.table(summary)
