"""Lucic et al. 2018 ("Are GANs Created Equal?") on MNIST and Fashion-MNIST: our LSGAN and the
regular GANs scored by FID as they scored them.

Plan: data sets (``--data``: mnist, fashion_mnist) x losses (``--losses``: ls, pearson, ns,
minimax) x seeds (``--seeds``: 0 .. N-1). Each run is ``lsgan train --preset=<data set>``
(the compare_gan networks, ``lsgan_tf.models.infogan``) with ``loss.type`` and ``train.seed``,
on the IDX files prepared once by the ``idx`` source (train split: the 60,000 training
images; eval split: the official 10,000 test images). Training keeps the best checkpoint by
the in-training score (``eval.every``, a cheap classifier FD) beside the last one; both
generators are scored with ``fid_inception`` (compare_gan protocol) on ``--num_samples``
samples (10,000 as Lucic et al.) against the 10,000 test images, whose features are computed
once and cached.

Outputs under ``--out`` (default ``runs/experiments/lucic``): ``<data>_prepared/``,
``<data>/<loss>/seed_<k>/`` (the run; ``fid.json``: best and last FID, steps, times),
``summary.json`` (every run and the table: mean, std over seeds per data set x loss); the
table is printed beside Lucic et al.'s numbers. Resumable: a run whose ``fid.json`` exists is
not run again, and an interrupted run resumes from its last checkpoint.

  .venv/bin/python -m experiments.lucic                                   # 2 x 3 losses x 3 seeds
  .venv/bin/python -m experiments.lucic --data mnist --losses ls --seeds 1 --steps 2000
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

DATA_DIRS = {"mnist": "../shared/data/mnist", "fashion_mnist": "../shared/data/fashion_mnist"}
# Lucic et al. 2018, best FID of their large hyper-parameter search, mean +- std as published
# (10,000 samples against the 10,000 test images). pearson was not in their study.
PUBLISHED = {"mnist": {"ls": (7.8, 0.6), "ns": (6.8, 0.5), "minimax": (9.8, 0.9)},
             "fashion_mnist": {"ls": (30.7, 2.2), "ns": (26.5, 1.6), "minimax": (29.6, 1.6)}}
LOSSES = ("ls", "pearson", "ns", "minimax")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="mnist,fashion_mnist")
    parser.add_argument("--losses", default="ls,pearson,ns")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=None, help="default: the preset's")
    parser.add_argument("--eval_every", type=int, default=None,
                        help="in-training score interval (default: the preset's)")
    parser.add_argument("--num_samples", type=int, default=10000)
    parser.add_argument("--out", default="runs/experiments/lucic")
    parser.add_argument("--mnist_dir", default=DATA_DIRS["mnist"])
    parser.add_argument("--fashion_mnist_dir", default=DATA_DIRS["fashion_mnist"])
    parser.add_argument("--report_only", action="store_true")
    args = parser.parse_args(argv)
    args.data = [d for d in args.data.split(",") if d]
    args.losses = [loss for loss in args.losses.split(",") if loss]
    for name in args.data:
        if name not in DATA_DIRS:
            parser.error(f"--data: unknown data set {name!r}; known: {', '.join(DATA_DIRS)}")
    for loss in args.losses:
        if loss not in LOSSES:
            parser.error(f"--losses: unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    return args


def source_dir(args, name: str) -> str:
    folder = getattr(args, f"{name}_dir")
    if not os.path.isfile(os.path.join(folder, "t10k-images-idx3-ubyte.gz")):
        raise SystemExit(f"experiments.lucic: no {name} IDX files in {folder} (--{name}_dir)")
    return folder


def prepared(args, name: str) -> str:
    """The data set prepared once by ``lsgan prep --source=idx`` (train / official test)."""
    out = os.path.join(args.out, f"{name}_prepared")
    if not os.path.isfile(os.path.join(out, "stats.json")):
        subprocess.run([sys.executable, "-m", "pipeline.cli", "prep", "--source=idx",
                        f"--input={source_dir(args, name)}", f"--output={out}", "--overwrite"],
                       check=True)
    return out


def run_dir(args, name: str, loss: str, seed: int) -> str:
    return os.path.join(args.out, name, loss, f"seed_{seed}")


def train_run(args, name: str, loss: str, seed: int, data: str) -> Dict:
    """Trains one run (resuming when interrupted) in a subprocess: its memory is freed."""
    command = [sys.executable, "-m", "pipeline.cli", "train", f"--preset={name}",
               f"--data={data}", f"--out={run_dir(args, name, loss, seed)}",
               "--set", f"loss.type={loss}", "--set", f"train.seed={seed}"]
    if args.steps:
        command += [f"--steps={args.steps}"]
    if args.eval_every:
        command += ["--set", f"eval.every={args.eval_every}"]
    start = time.time()
    subprocess.run(command, check=True)
    return {"train_seconds": round(time.time() - start, 1)}


def score_run(args, name: str, loss: str, seed: int, data: str) -> Dict:
    """FID of the best and the last generator (``fid_inception``, compare_gan protocol)."""
    from lsgan_tf.metrics.evaluate import evaluate_generator

    where = run_dir(args, name, loss, seed)
    result: Dict = {}
    best_json = os.path.join(where, "best.json")
    if os.path.isfile(best_json):
        with open(best_json) as handle:
            best = json.load(handle)
        result["best_step"], result["last_step"] = best["best"]["step"], best["last"]["step"]
    models = {"best": os.path.join(where, "saved_model"),
              "last": os.path.join(where, "saved_model_last")}
    if not os.path.isdir(models["last"]):  # no selection: the one model is the last
        models = {"last": models["best"]}
    for which, model in models.items():
        start = time.time()
        scores = evaluate_generator(model, data, "eval", extractor="fid_inception",
                                    num_samples=args.num_samples, seed=seed, reference=False,
                                    log=lambda m: print(f"[lucic] {m}", flush=True))
        result[f"fid_{which}"] = scores["scores"]["fd"]
        result[f"{which}_score_seconds"] = round(time.time() - start, 1)
        result["protocol"] = scores["extractor"]["protocol"]
    if "fid_best" not in result:
        result["fid_best"] = result["fid_last"]
    return result


def sweep(args) -> None:
    total = len(args.data) * len(args.losses) * args.seeds
    done = 0
    for name in args.data:
        data = prepared(args, name)
        for loss in args.losses:
            for seed in range(args.seeds):
                done += 1
                path = os.path.join(run_dir(args, name, loss, seed), "fid.json")
                if os.path.isfile(path):
                    continue
                print(f"[lucic] run {done}/{total}: {name} {loss} seed {seed}", flush=True)
                record = {"data": name, "loss": loss, "seed": seed,
                          **train_run(args, name, loss, seed, data),
                          **score_run(args, name, loss, seed, data)}
                with open(path, "w") as handle:  # the run's own report file
                    json.dump(record, handle, indent=2)
                print(f"[lucic] {name} {loss} seed {seed}: FID best {record['fid_best']:.2f}, "
                      f"last {record['fid_last']:.2f}", flush=True)


def summarise(args) -> Dict:
    """Every finished run and, per data set x loss, mean and std (ddof 1) over seeds."""
    runs: List[Dict] = []
    for name in args.data:
        for loss in args.losses:
            for seed in range(args.seeds):
                path = os.path.join(run_dir(args, name, loss, seed), "fid.json")
                if os.path.isfile(path):
                    with open(path) as handle:
                        runs.append(json.load(handle))
    table = []
    for name in args.data:
        for loss in args.losses:
            cell = [r for r in runs if r["data"] == name and r["loss"] == loss]
            if not cell:
                continue
            row = {"data": name, "loss": loss, "seeds": len(cell),
                   "published": PUBLISHED[name].get(loss)}
            for which in ("best", "last"):
                values = np.array([r[f"fid_{which}"] for r in cell])
                row[which] = [float(values.mean()),
                              float(values.std(ddof=1)) if len(values) > 1 else None]
            row["train_minutes"] = round(sum(r["train_seconds"] for r in cell) / 60, 1)
            table.append(row)
    summary = {"runs": runs, "table": table, "num_samples": args.num_samples}
    with open(os.path.join(args.out, "summary.json"), "w") as handle:
        json.dump(summary, handle, indent=2)
    return summary


def format_table(summary: Dict) -> str:
    def ms(pair):
        if pair is None:
            return "-"
        mean, std = pair
        return f"{mean:.1f}" + (f" +- {std:.1f}" if std is not None else "")

    lines = ["| data | loss | seeds | FID best | FID last | Lucic et al. | train min |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for row in summary["table"]:
        lines.append(f"| {row['data']} | {row['loss']} | {row['seeds']} | {ms(row['best'])} | "
                     f"{ms(row['last'])} | {ms(row['published'])} | {row['train_minutes']} |")
    return "\n".join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    if not args.report_only:
        sweep(args)
    summary = summarise(args)
    print(format_table(summary))
    print(f"\n[lucic] runs and summary.json under {os.path.abspath(args.out)}")
    return summary


if __name__ == "__main__":
    main()
