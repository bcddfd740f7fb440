"""The paper's stability settings without batch norm: LSGAN against the regular GAN.

REFERENCE.md section 2 (the paper trains 64 x 64 LSUN scenes with a DCGAN-style model):
  (a) ``g_no_bn_adam``:       no BN in G (D keeps it), Adam lr 2e-4, beta1 0.5;
                              LSGAN coding (0, 1, 1) against the regular GAN;
  (b) ``gd_no_bn_rmsprop``:   no BN in G nor in D, RMSProp lr 2e-4;
                              LSGAN coding (-1, 1, 0) against the regular GAN.
The regular GAN is the non-saturating one (``ns``: L_G = -log sigmoid(D(G(z))), what DCGAN code
does in practice).

Scaled to this machine: the data is scikit-learn's 1,797 handwritten digits at 32 x 32 x 1
(``lsgan prep --source=digits --image_size=32``, made on first use), the ``dcgan`` preset at
``model.image_size=32 model.channels=1`` with ``--width`` channels (32 by default instead of 64),
``--steps`` steps (batch 64). Each run is trained by ``lsgan_tf.training.train`` in stages of
``--eval_every`` steps (every stage resumes from the previous checkpoint and exports G) and each
stage's generator is scored by ``lsgan_tf.metrics.evaluate.evaluate_generator`` against the
real train split: Frechet distance and KID in the features of a digit classifier trained on
that split, precision / recall / density / coverage, classifier score.

Outputs: ``--out``/<setting>/<loss>/ (the runs, ``scores.json``), ``--out``/no_bn.json;
figures ``docs/figures/no_bn_scores.png`` (scores over steps) and ``no_bn_samples.png``
(final sample grids, one per setting and loss).

  .venv/bin/python -m bench.no_bn                     # 1,500 steps, scored every 500
  .venv/bin/python -m bench.no_bn --steps 500 --eval_every 250 --out /tmp/no_bn   # a look
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Dict, List

import numpy as np

SETTINGS = {
    "g_no_bn_adam": {
        "title": "(a) no BN in G, Adam 2e-4",
        "overrides": ["model.g_batchnorm=false", "optim.optimizer=adam", "optim.lr_d=2e-4",
                      "optim.lr_g=2e-4", "optim.beta1=0.5"],
        "losses": {"ls": "LSGAN (0,1,1)", "ns": "regular GAN (non-saturating)"},
    },
    "gd_no_bn_rmsprop": {
        "title": "(b) no BN in G or D, RMSProp 2e-4",
        "overrides": ["model.g_batchnorm=false", "model.d_batchnorm=false",
                      "optim.optimizer=rmsprop", "optim.lr_d=2e-4", "optim.lr_g=2e-4"],
        "losses": {"pearson": "LSGAN (-1,1,0)", "ns": "regular GAN (non-saturating)"},
    },
}
SCORES = ("fd", "kid", "precision", "recall", "coverage", "classifier_score")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--eval_every", type=int, default=500)
    parser.add_argument("--width", type=int, default=32, help="model.g_width and d_width")
    parser.add_argument("--image_size", type=int, default=32, help="32, 64 or 128")
    parser.add_argument("--channels", type=int, default=1,
                        help="1 for the digits; 3 for e.g. LSUN prepared at --image_size")
    parser.add_argument("--num_samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--data", default="runs/experiments/digits32",
                        help="a prepared folder at --image_size; when missing, the digits are "
                             "prepared there with lsgan prep")
    parser.add_argument("--out", default="runs/experiments/no_bn")
    parser.add_argument("--figure_dir", default="docs/figures")
    parser.add_argument("--figure_prefix", default="no_bn")
    parser.add_argument("--report_only", action="store_true")
    args = parser.parse_args(argv)
    if args.steps % args.eval_every:
        parser.error("--steps must be a multiple of --eval_every")
    return args


def ensure_data(path: str, image_size: int = 32) -> str:
    """Prepares the digits at ``image_size`` with ``lsgan prep`` when ``path`` holds no data."""
    if os.path.isdir(os.path.join(path, "Split-train")):
        return path
    command = [sys.executable, "-m", "pipeline.cli", "prep", "--source=digits",
               f"--image_size={image_size}", f"--output={path}", "--",
               "--direct_running_mode=in_memory", "--direct_num_workers=1"]
    print("[no_bn] preparing the data: " + " ".join(command), flush=True)
    subprocess.run(command, check=True)
    return path


def run_config(setting: str, loss: str, args):
    from lsgan_tf.config import apply_overrides
    from lsgan_tf.presets import get_preset

    return apply_overrides(get_preset("dcgan"), [
        f"model.image_size={args.image_size}", f"model.channels={args.channels}",
        f"model.g_width={args.width}",
        f"model.d_width={args.width}", "data.source=tfrecord", f"data.path={args.data}",
        f"loss.type={loss}", f"train.seed={args.seed}",
        f"train.checkpoint_every={args.eval_every}", f"train.sample_every={args.eval_every}",
        f"train.log_every={args.eval_every}", "train.keep_checkpoints=1",
        *SETTINGS[setting]["overrides"]])


def run_one(setting: str, loss: str, args) -> Dict:
    """Trains (resuming) in stages of ``eval_every`` steps and scores each stage's generator."""
    import dataclasses

    from lsgan_tf.metrics.evaluate import evaluate_generator
    from lsgan_tf.training import TrainingDiverged, train

    run_dir = os.path.join(args.out, setting, loss)
    scores_path = os.path.join(run_dir, "scores.json")
    history: List[Dict] = []
    if os.path.exists(scores_path):
        with open(scores_path) as handle:
            history = json.load(handle)["history"]
    base = run_config(setting, loss, args)
    status = "ok"
    for stop in range(args.eval_every, args.steps + 1, args.eval_every):
        if any(h["step"] == stop for h in history):
            continue
        config = dataclasses.replace(base, train=dataclasses.replace(base.train, steps=stop))
        t0 = time.time()
        os.makedirs(run_dir, exist_ok=True)
        try:
            with open(run_dir + ".log", "a") as log:  # the training loop's progress lines
                result = train(config, run_dir, stream=log)
        except TrainingDiverged as error:
            status = f"diverged: {error}".split(". Last good")[0]
            print(f"[no_bn] {setting}/{loss}: {status}", flush=True)
            break
        seconds = time.time() - t0
        metrics = evaluate_generator(result.saved_model, args.data, split="train",
                                     extractor="classifier", num_samples=args.num_samples,
                                     seed=args.seed, reference=False)
        entry = {"step": stop, "train_seconds": seconds, **result.metrics,
                 **{k: metrics["scores"][k] for k in SCORES if k in metrics["scores"]}}
        history.append(entry)
        _save(scores_path, setting, loss, history, status)
        print(f"[no_bn] {setting}/{loss} step {stop}: " + " ".join(
            f"{k} {entry[k]:.4g}" for k in SCORES if k in entry) + f" ({seconds:.0f}s)",
            flush=True)
    return _save(scores_path, setting, loss, history, status)


def _save(path, setting, loss, history, status) -> Dict:
    payload = {"setting": setting, "title": SETTINGS[setting]["title"], "loss": loss,
               "loss_name": SETTINGS[setting]["losses"][loss], "status": status,
               "history": history}
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(payload, handle, indent=1)
    return payload


def reference_scores(args) -> Dict[str, Dict[str, float]]:
    """The same scores for real held-out digits (eval split) and for uniform noise."""
    from lsgan_tf import data as data_lib
    from lsgan_tf.metrics.evaluate import noise_like, score_samples, training_data
    from lsgan_tf.metrics.extractors import get_extractor

    real, _ = data_lib.load_split(args.data, "train")
    held_out, _ = data_lib.load_split(args.data, "eval")
    extractor = get_extractor("classifier", training_data(args.data))
    return {"real eval split": score_samples(extractor, real, held_out),
            "uniform noise": score_samples(extractor, real,
                                           noise_like(real, args.num_samples, args.seed))}


def figures(results: List[Dict], args) -> List[str]:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    paths = []
    shown = ("fd", "recall", "precision")
    fig, axes = plt.subplots(1, len(shown), figsize=(12, 3.2))
    for run in results:
        steps = [h["step"] for h in run["history"]]
        style = "-" if run["loss"] != "ns" else "--"
        for ax, key in zip(axes, shown):
            ax.plot(steps, [h.get(key, np.nan) for h in run["history"]], style, marker="o",
                    ms=3, label=f"{SETTINGS[run['setting']]['title'][:3]} {run['loss_name']}")
    for ax, key in zip(axes, shown):
        ax.set_title({"fd": "Frechet distance (classifier features, lower better)",
                      "recall": "recall (higher better)",
                      "precision": "precision (higher better)"}[key], fontsize=8)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    path = os.path.join(args.figure_dir, f"{args.figure_prefix}_scores.png")
    os.makedirs(args.figure_dir, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    paths.append(path)

    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 3.6), squeeze=False)
    for ax, run in zip(axes[0], results):
        grid = os.path.join(args.out, run["setting"], run["loss"], "samples", "final.png")
        if os.path.exists(grid):
            image = np.asarray(Image.open(grid))
            ax.imshow(image[:image.shape[0] * 6 // 10, :image.shape[1] * 6 // 10],
                      cmap="gray")
        ax.set_title(f"{SETTINGS[run['setting']]['title']}\n{run['loss_name']}"
                     + ("" if run["status"] == "ok" else "\n(diverged)"), fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    path = os.path.join(args.figure_dir, f"{args.figure_prefix}_samples.png")
    fig.savefig(path, dpi=80)
    plt.close(fig)
    paths.append(path)
    return paths


def main(argv=None) -> Dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    ensure_data(args.data, args.image_size)
    results = []
    for setting in settings:
        for loss in SETTINGS[setting]["losses"]:
            if args.report_only:
                with open(os.path.join(args.out, setting, loss, "scores.json")) as handle:
                    results.append(json.load(handle))
            else:
                results.append(run_one(setting, loss, args))
    summary = {"steps": args.steps, "width": args.width, "num_samples": args.num_samples,
               "data": args.data, "runs": results, "reference": reference_scores(args)}
    with open(os.path.join(args.out, "no_bn.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    paths = figures(results, args)
    print("| setting | loss | status | " + " | ".join(SCORES) + " |")
    print("|---" * (len(SCORES) + 3) + "|")
    for run in results:
        last = run["history"][-1] if run["history"] else {}
        print(f"| {SETTINGS[run['setting']]['title']} | {run['loss_name']} | {run['status'][:40]} "
              f"| " + " | ".join(f"{last.get(k, float('nan')):.4g}" for k in SCORES) + " |")
    for name, scores in summary["reference"].items():
        print(f"| reference | {name} | - | " + " | ".join(
            f"{scores.get(k, float('nan')):.4g}" for k in SCORES) + " |")
    print(f"[no_bn] {os.path.join(args.out, 'no_bn.json')}; figures {' '.join(paths)}")
    return summary


if __name__ == "__main__":
    main()
