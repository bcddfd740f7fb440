"""The Kubeflow compile names every component and the given image."""
import json

from pipeline.kubeflow_runner import compile_pipeline


def test_compile_writes_pipeline_json(tmp_path):
    path = compile_pipeline(preset="digits", image="registry.example/lsgan:7",
                            output=str(tmp_path / "pipeline.json"), source="digits",
                            pipeline_root="gs://bucket/lsgan", serving_dir="gs://bucket/serving")
    spec = json.load(open(path))["pipelineSpec"]
    tasks = spec["root"]["dag"]["tasks"]
    for name in ("LsganExampleGen", "Trainer", "GanEvaluator", "Pusher"):
        assert name in tasks
    images = {executor["container"]["image"]
              for executor in spec["deploymentSpec"]["executors"].values()
              if "container" in executor}
    assert images == {"registry.example/lsgan:7"}
    assert any("resolver" in name for name in tasks)
