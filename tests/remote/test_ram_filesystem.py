"""A whole run on ``ram://`` (TensorFlow's in-memory file system, standing in for ``gs://``):
every file lands there and nothing on the local disk (``ram_run.py`` does the run)."""
import json
import os
import subprocess
import sys

import ram_run  # run as a script below; imported so that Bazel ships it


def test_a_run_on_ram_writes_only_there(tmp_path):
    work, temp, home = (tmp_path / name for name in ("work", "tmp", "home"))
    for folder in (work, temp, home):
        folder.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), HOME=str(home), KERAS_HOME=str(home / ".keras"),
               PYTHONPATH=os.pathsep.join(sys.path), LSGAN_EXTRACTOR_CACHE=str(home / "cache"))
    result = subprocess.run([sys.executable, ram_run.__file__], cwd=work,
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    files = set(outcome["files"])
    for expected in ["examples/labels.txt", "Trainer/model_run/2/config.json",
                     "Trainer/model_run/2/samples/final.png",
                     "Trainer/model_run/2/samples/step_000002.png",
                     "Trainer/model_run/2/checkpoints/checkpoint",
                     "Trainer/model/2/Format-Serving/saved_model.pb",
                     "Trainer/model/2/Format-Serving/assets.extra/tf_serving_warmup_requests",
                     "GanEvaluator/evaluation/4/metrics.json",
                     "GanEvaluator/evaluation/4/samples.png",
                     "GanEvaluator/evaluation/4/blessing.json",
                     "GanEvaluator/evaluation/4/baseline/metrics.json",
                     "GanEvaluator/blessing/4/BLESSED"]:
        assert expected in files, expected
    assert any(f.startswith("Trainer/model_run/2/logs/events.out.tfevents") for f in files)
    assert any(f.startswith("extractors/classifier-") and f.endswith("/model.keras") for f in files)
    pushed = [f for f in files if f.startswith("serving/lsgan_digits/") and f.endswith("saved_model.pb")]
    assert len(pushed) == 1 and outcome["pushed"] == 1 and outcome["blessed"] == 1
    written = {str(folder): sorted(os.listdir(folder)) for folder in (work, temp)}
    assert written == {str(work): [], str(temp): []}
    assert not os.path.exists(home / "cache")
