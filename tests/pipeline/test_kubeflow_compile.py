"""The Kubeflow compile names every component and the given image."""
import dataclasses
import json
import subprocess
import sys

from lsgan_tf import config as config_lib
from lsgan_tf.config import resolve
from pipeline.kubeflow_runner import compile_pipeline


def test_compile_needs_a_root():
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "compile", "--image=x"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "lsgan compile: flag --root=None: Flag --root must have a value other than None."]


def test_compile_writes_pipeline_json(tmp_path):
    config = resolve("digits", overrides=["optim.lr_d=3e-4", "eval.num_samples=300"])
    path = compile_pipeline(config=config, image="registry.example/lsgan:7",
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
    # The resolved config travels whole: the Trainer's custom_config and the evaluator's eval.
    params = tasks["Trainer"]["inputs"]["parameters"]
    custom = json.loads(params["custom_config"]["runtimeValue"]["constantValue"]["stringValue"])
    assert config_lib.from_json(custom["config"]) == dataclasses.replace(
        config, eval=config_lib.EvalConfig())  # eval goes to the evaluator only
    params = tasks["GanEvaluator"]["inputs"]["parameters"]
    evaluation = params["eval_config"]["runtimeValue"]["constantValue"]["stringValue"]
    assert config_lib.merge_dict(config_lib.EvalConfig(), json.loads(evaluation)) == config.eval


def test_trainer_resources_reach_only_the_trainer_container(tmp_path):
    from pipeline.kubeflow_runner import TrainerResources

    path = compile_pipeline(config=resolve("digits"), image="registry.example/lsgan:7",
                            output=str(tmp_path / "pipeline.json"), source="digits",
                            pipeline_root="gs://bucket/lsgan", serving_dir="gs://bucket/serving",
                            trainer_resources=TrainerResources(8, 32, "NVIDIA_TESLA_T4", 2))
    executors = json.load(open(path))["pipelineSpec"]["deploymentSpec"]["executors"]
    assert executors["Trainer_executor"]["container"]["resources"] == {
        "accelerator": {"count": "2", "type": "NVIDIA_TESLA_T4"}, "cpuLimit": 8.0,
        "memoryLimit": 32.0}
    assert all("resources" not in e.get("container", {}) for name, e in executors.items()
               if name != "Trainer_executor")


def test_an_accelerator_needs_its_count():
    result = subprocess.run([sys.executable, "-m", "pipeline.cli", "compile", "--image=x",
                             "--root=gs://b/l", "--trainer_accelerator=NVIDIA_L4"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("lsgan compile: --trainer_accelerator and "
                                    "--trainer_accelerator_count go together")
