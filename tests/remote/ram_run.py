"""Run as a script by ``test_ram_filesystem.py``: the whole path of a run with every file on
TensorFlow's in-memory ``ram://`` file system, standing in for ``gs://``.

Prepares digits there, trains a few steps with ``out_dir`` there (checkpoints, TensorBoard,
samples, config.json, the SavedModel), runs the GanEvaluator's executor with every artifact URI
there (model, examples, baseline, evaluation, blessing, extractor cache), then TFX's Pusher
executor to a ram:// serving folder. Prints one JSON line: every ram:// file, relative to the
root. The caller checks that list and that nothing was written to the local disk.
"""
import json
import os
import sys

import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from helpers import TINY_MODEL  # noqa: E402 (tests/ is on sys.path from the line above)

ROOT = "ram://lsgan"
TINY = [*TINY_MODEL, "train.steps=3", "train.batch_size=16", "train.log_every=1",
        "train.sample_every=2", "train.checkpoint_every=2", "eval.num_samples=50",
        "eval.thresholds=fd<=1e9", "eval.tolerance=10"]


def artifact(kind, uri, artifact_id):
    """An artifact at ``uri``, its folder made as TFX's launcher makes output folders."""
    from tfx.types import standard_artifacts

    made = getattr(standard_artifacts, kind)()
    made.uri, made.id = uri, artifact_id
    tf.io.gfile.makedirs(uri)
    return made


def main():
    from components.evaluator import executor as evaluator
    from components.trainer.module import run_fn, trainer_custom_config
    from lsgan_tf import config as config_lib
    from lsgan_tf import data as data_lib
    from lsgan_tf.config import resolve
    from prepared import write_prepared
    from tfx.components.pusher import executor as pusher
    from tfx.components.trainer.fn_args_utils import FnArgs
    from tfx.proto import pusher_pb2
    from tfx.utils import json_utils, proto_utils

    images, labels = data_lib.load_split("digits", "train", max_records=96)
    examples_uri = write_prepared(f"{ROOT}/examples", images, labels, [str(d) for d in range(10)])
    config = resolve("digits", overrides=TINY)
    model_uri = f"{ROOT}/Trainer/model/2"
    run_fn(FnArgs(train_files=[f"{examples_uri}/Split-train/*"],
                  eval_files=[f"{examples_uri}/Split-eval/*"],
                  serving_model_dir=f"{model_uri}/Format-Serving",
                  model_run_dir=f"{ROOT}/Trainer/model_run/2", train_steps=0,
                  custom_config=trainer_custom_config(config)))

    model = artifact("Model", model_uri, 2)
    baseline = artifact("Model", model_uri, 1)  # the same weights as a "last blessed" model
    blessing = artifact("ModelBlessing", f"{ROOT}/GanEvaluator/blessing/4", 5)
    evaluator.Executor().Do(
        {"model": [model], "examples": [artifact("Examples", examples_uri, 1)],
         "baseline_model": [baseline]},
        {"evaluation": [artifact("ModelEvaluation", f"{ROOT}/GanEvaluator/evaluation/4", 4)],
         "blessing": [blessing]},
        {"eval_config": json.dumps(config_lib.to_dict(config.eval)),
         "seed": 0, "cache_dir": f"{ROOT}/extractors"})

    # TF's RamFileSystem lists children by name prefix, so the SavedModel's empty ``assets/``
    # folder seems to hold a file ``.extra`` (from ``assets.extra/``) and the Pusher's copy
    # fails on it. Object stores (gs://) list by "folder/" and do not; the empty folder is
    # not needed by TF Serving, so it is removed here, on the stand-in file system only.
    tf.io.gfile.remove(f"{model_uri}/Format-Serving/assets")
    destination = pusher_pb2.PushDestination(filesystem=pusher_pb2.PushDestination.Filesystem(
        base_directory=f"{ROOT}/serving/lsgan_digits"))
    pushed = artifact("PushedModel", f"{ROOT}/Pusher/pushed_model/6", 6)
    pusher.Executor().Do({"model": [model], "model_blessing": [blessing]},
                         {"pushed_model": [pushed]},
                         {"push_destination": proto_utils.proto_to_json(destination),
                          "custom_config": json_utils.dumps({})})
    files = sorted(path[len(ROOT) + 1:] for path in walk(ROOT))
    print(json.dumps({"files": files, "pushed": pushed.get_int_custom_property("pushed"),
                      "blessed": blessing.get_int_custom_property("blessed")}))


def walk(root):
    for folder, _, names in tf.io.gfile.walk(root):
        for name in names:
            yield f"{folder.rstrip('/')}/{name}"


if __name__ == "__main__":
    main()
