"""``lsgan compile`` imports the TFX classes it compiles, not ``tfx.v1``: that imports every
extension too (Vertex AI's client alone is a third of the command's start-up)."""
import json
import subprocess
import sys

import pytest

from helpers import imported_modules


@pytest.mark.slow
def test_compile_loads_no_tfx_extension(tmp_path):
    output = tmp_path / "pipeline.json"
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pipeline.cli", "compile",
         "--image=registry.example/lsgan:7", "--root=gs://bucket/lsgan", f"--output={output}"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = imported_modules(result.stderr)
    assert "tfx.components.trainer.component" in imported
    assert not {"tfx.v1", "google.cloud.aiplatform"} & imported
    assert "Trainer" in json.loads(output.read_text())["pipelineSpec"]["root"]["dag"]["tasks"]
