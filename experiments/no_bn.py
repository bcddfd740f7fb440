"""The paper's stability settings without batch norm, over seeds: LSGAN against the regular GAN.

docs/PAPER.md section 2 (the paper trains 64 x 64 LSUN scenes with a DCGAN-style model):
  (a) ``g_no_bn_adam``:       no BN in G (D keeps it), Adam lr 2e-4, beta1 0.5;
                              LSGAN coding (0, 1, 1) against the regular GAN;
  (b) ``gd_no_bn_rmsprop``:   no BN in G nor in D, RMSProp lr 2e-4;
                              LSGAN coding (-1, 1, 0) against the regular GAN.
The regular GAN is the non-saturating one (``ns``: L_G = -log sigmoid(D(G(z))), what DCGAN code
does in practice). Each of the four arms (setting x loss) runs ``--seeds`` seeds (0 .. N-1; the
seed sets the weights, the data order and the noise).

Scaled to this machine: the data is a prepared folder at 32 x 32 x 1 (default
``runs/experiments/hwdb32``: handwriting-like Chinese characters rendered to true-format
``.gnt`` files by ``make no-bn-data`` -- 40 characters x 60 writers, 4 fonts, random strokes,
slant and offsets -- and prepared with ``lsgan prep --source=hwdb --image_size=32``), the
``dcgan`` preset at ``model.image_size=32 model.channels=1`` with ``--width`` channels (32
instead of 64), ``--steps`` steps (batch 64). Each run is trained by
``lsgan_tf.training.train`` in stages of ``--eval_every`` steps (every stage resumes from the
previous checkpoint and exports G) and each stage's generator is scored by
``lsgan_tf.metrics.evaluate.evaluate_generator`` against the real train split: Frechet distance
and KID in the features of a classifier trained on that split's labels, precision / recall /
density / coverage, classifier score, and two collapse measures: ``classes_covered`` (classes
the classifier gives at least a fifth of their uniform share of the samples; a run with at most
half the classes covered at its last stage counts as collapsed) and ``diversity``
(``lsgan_tf.metrics.diversity``: the samples' per-pixel spread over the real images', 0 when
every sample is the same image). A run that produces NaN/inf stops there and counts as
diverged.

Outputs: ``--out``/<setting>/<loss>/seed_<k>/ (the runs, ``scores.json``), ``--out``/no_bn.json
(every run, the table over seeds per arm, the references); figures
``docs/figures/no_bn_scores.png`` (scores over steps, a line per seed) and
``no_bn_samples.png`` (final sample grids, an arm per row, a seed per column). Resumable: a
finished stage is not run again.

  .venv/bin/python -m experiments.no_bn                        # 5 seeds, 1,200 steps, scored every 400
  .venv/bin/python -m experiments.no_bn --seeds 1 --steps 500 --eval_every 250 --out /tmp/no_bn
"""
from __future__ import annotations

import argparse
import functools
import json
import os
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
SCORES = ("fd", "kid", "precision", "recall", "coverage", "classifier_score", "classes_covered",
          "diversity")
COLLAPSED_BELOW = 0.5  # a run covering at most this share of the classes at the end collapsed
DATA_HINT = "make no-bn-data (renders and prepares the characters), or --data=DIR from lsgan prep"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--eval_every", type=int, default=400)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 per arm")
    parser.add_argument("--width", type=int, default=32, help="model.g_width and d_width")
    parser.add_argument("--image_size", type=int, default=32, help="32, 64 or 128")
    parser.add_argument("--channels", type=int, default=1,
                        help="1 for the characters; 3 for e.g. LSUN prepared at --image_size")
    parser.add_argument("--num_samples", type=int, default=1000)
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--data", default="runs/experiments/hwdb32",
                        help="a prepared folder (lsgan prep) at --image_size with labels")
    parser.add_argument("--out", default="runs/experiments/no_bn")
    parser.add_argument("--figure_dir", default="docs/figures")
    parser.add_argument("--figure_prefix", default="no_bn")
    parser.add_argument("--report_only", action="store_true",
                        help="tables and figures from the runs' scores.json, no training")
    args = parser.parse_args(argv)
    if args.steps % args.eval_every:
        parser.error("--steps must be a multiple of --eval_every")
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    unknown = set(args.settings.split(",")) - set(SETTINGS)
    if unknown:
        parser.error(f"--settings: unknown {sorted(unknown)}; known: {', '.join(SETTINGS)}")
    return args


def num_classes(data: str) -> int:
    """The classes of a complete prepared folder (``lsgan_tf.prepared.check``: stats.json,
    the train shards, labels.txt); exits with the way to make it."""
    from lsgan_tf.example_schema import read_labels
    from lsgan_tf.prepared import DataError, check

    try:
        check(data, "train")
    except DataError as error:
        raise SystemExit(f"experiments.no_bn: no prepared data at {data}: {error}; {DATA_HINT}")
    labels = read_labels(data)
    if len(labels) < 2:
        raise SystemExit(f"experiments.no_bn: {data} has {len(labels)} classes; the classifier "
                         f"features and classes_covered need labelled data: {DATA_HINT}")
    return len(labels)


def run_dir(args, setting: str, loss: str, seed: int) -> str:
    return os.path.join(args.out, setting, loss, f"seed_{seed}")


def run_config(setting: str, loss: str, seed: int, args):
    from lsgan_tf.config import apply_overrides
    from lsgan_tf.presets import get_preset

    return apply_overrides(get_preset("dcgan"), [
        f"model.image_size={args.image_size}", f"model.channels={args.channels}",
        f"model.g_width={args.width}",
        f"model.d_width={args.width}", "data.source=tfrecord", f"data.path={args.data}",
        f"loss.type={loss}", f"train.seed={seed}",
        f"train.checkpoint_every={args.eval_every}", f"train.sample_every={args.eval_every}",
        f"train.log_every={args.eval_every}", "train.keep_checkpoints=1",
        *SETTINGS[setting]["overrides"]])


def load_run(args, setting: str, loss: str, seed: int) -> Dict:
    """The run's scores.json, or an empty record when it has not started."""
    path = os.path.join(run_dir(args, setting, loss, seed), "scores.json")
    if os.path.exists(path):
        with open(path) as handle:
            return json.load(handle)
    return {"setting": setting, "loss": loss, "seed": seed, "status": "ok", "history": []}


def run_one(setting: str, loss: str, seed: int, args) -> Dict:
    """Trains (resuming) in stages of ``eval_every`` steps and scores each stage's generator."""
    import dataclasses

    from lsgan_tf.metrics.evaluate import evaluate_generator
    from lsgan_tf.training import TrainingDiverged, train

    where = run_dir(args, setting, loss, seed)
    run = load_run(args, setting, loss, seed)
    base = run_config(setting, loss, seed, args)
    for stop in range(args.eval_every, args.steps + 1, args.eval_every):
        if run["status"] != "ok":
            break
        if any(h["step"] == stop for h in run["history"]):
            continue
        config = dataclasses.replace(base, train=dataclasses.replace(base.train, steps=stop))
        t0 = time.time()
        os.makedirs(where, exist_ok=True)
        try:
            with open(where + ".log", "a") as log:  # the training loop's progress lines
                result = train(config, where, stream=log)
        except TrainingDiverged as error:
            run["status"] = f"diverged: {error}".split(". Last good")[0]
            print(f"[no_bn] {setting}/{loss}/seed {seed}: {run['status']}", flush=True)
            break
        seconds = time.time() - t0
        metrics = evaluate_generator(result.saved_model, args.data, split="train",
                                     extractor="classifier", num_samples=args.num_samples,
                                     seed=seed, reference=False,
                                     cache_dir=os.path.join(args.out, "extractor_cache"))
        entry = {"step": stop, "train_seconds": seconds, **result.metrics,
                 **{k: metrics["scores"][k] for k in SCORES if k in metrics["scores"]},
                 "diversity": sample_diversity(result.saved_model, args, seed)}
        run["history"].append(entry)
        _save(where, run)
        print(f"[no_bn] {setting}/{loss}/seed {seed} step {stop}: " + " ".join(
            f"{k} {entry[k]:.4g}" for k in SCORES if k in entry) + f" ({seconds:.0f}s)",
            flush=True)
    return _save(where, run)


@functools.lru_cache(maxsize=2)
def real_images(data: str) -> np.ndarray:
    from lsgan_tf import data as data_lib

    return data_lib.load_split(data, "train")[0]


def sample_diversity(saved_model: str, args, seed: int) -> float:
    """``lsgan_tf.metrics.diversity.diversity_ratio`` of ``--num_samples`` samples (noise
    seed ``seed``) against the real train split: 0 = every sample the same image."""
    from lsgan_tf.export import GeneratorClient
    from lsgan_tf.metrics.diversity import diversity_ratio

    fake = GeneratorClient(saved_model).sample(args.num_samples, seed)
    return diversity_ratio(fake, real_images(args.data))


def _save(where: str, run: Dict) -> Dict:
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, "scores.json"), "w") as handle:
        json.dump(run, handle, indent=1)
    return run


def outcome(run: Dict, classes: int, steps: int) -> str:
    """``diverged`` (NaN/inf), ``unfinished`` (its last scored stage before ``steps``),
    ``collapsed`` (classes_covered <= half of ``classes`` at ``steps``) or ``ok``."""
    if run["status"] != "ok":
        return "diverged"
    if not run["history"] or run["history"][-1]["step"] < steps:
        return "unfinished"
    return "collapsed" if run["history"][-1]["classes_covered"] <= COLLAPSED_BELOW * classes \
        else "ok"


def summarize(runs: List[Dict], classes: int, steps: int) -> List[Dict]:
    """One row per arm (setting, loss), in the order first seen: the seeds, how many diverged,
    collapsed or are unfinished, and the mean, std (ddof 1), min and max over the finished,
    not diverged seeds of each score at the last stage (a collapsed run counts: its scores are
    part of the arm's spread)."""
    arms: Dict = {}
    for run in runs:
        arms.setdefault((run["setting"], run["loss"]), []).append(run)
    rows = []
    for (setting, loss), members in arms.items():
        outcomes = [outcome(run, classes, steps) for run in members]
        final = [run["history"][-1] for run, o in zip(members, outcomes)
                 if o in ("ok", "collapsed")]
        stats = {}
        for key in SCORES:
            values = np.array([h[key] for h in final if key in h], dtype=np.float64)
            if len(values):
                stats[key] = {"mean": float(values.mean()),
                              "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                              "min": float(values.min()), "max": float(values.max())}
        rows.append({"setting": setting, "loss": loss, "seeds": len(members),
                     "finished": len(final), "diverged": outcomes.count("diverged"),
                     "collapsed": outcomes.count("collapsed"),
                     "unfinished": outcomes.count("unfinished"), "scores": stats})
    return rows


def markdown_table(rows: List[Dict], reference: Dict[str, Dict[str, float]]) -> str:
    """Arms as rows: seeds, diverged, collapsed, then each score as mean +- std [min, max]."""
    lines = ["| setting | loss | seeds | diverged | collapsed | " + " | ".join(SCORES) + " |",
             "|---" * (len(SCORES) + 5) + "|"]
    for row in rows:
        cells = []
        for key in SCORES:
            s = row["scores"].get(key)
            cells.append("-" if s is None else
                         f"{s['mean']:.3g} ± {s['std']:.2g} [{s['min']:.3g}, {s['max']:.3g}]")
        lines.append(f"| {SETTINGS[row['setting']]['title']} | "
                     f"{SETTINGS[row['setting']]['losses'][row['loss']]} | {row['seeds']} | "
                     f"{row['diverged']} | {row['collapsed']} | " + " | ".join(cells) + " |")
    for name, scores in reference.items():
        lines.append(f"| reference | {name} | - | - | - | " + " | ".join(
            f"{scores[k]:.3g}" if k in scores else "-" for k in SCORES) + " |")
    return "\n".join(lines)


def reference_scores(args) -> Dict[str, Dict[str, float]]:
    """The same scores for the real held-out records (eval split) and for uniform noise."""
    from lsgan_tf import data as data_lib
    from lsgan_tf.metrics.diversity import diversity_ratio
    from lsgan_tf.metrics.evaluate import noise_like, score_samples, training_data
    from lsgan_tf.metrics.extractors import get_extractor

    real = real_images(args.data)
    held_out, _ = data_lib.load_split(args.data, "eval")
    noise = noise_like(real, args.num_samples, 0)
    extractor = get_extractor("classifier", training_data(args.data),
                              os.path.join(args.out, "extractor_cache"))
    return {"real eval split": {**score_samples(extractor, real, held_out),
                                "diversity": diversity_ratio(held_out, real)},
            "uniform noise": {**score_samples(extractor, real, noise),
                              "diversity": diversity_ratio(noise, real)}}


def arm_label(setting: str, loss: str, sep: str = " ") -> str:
    return f"{SETTINGS[setting]['title'][:3]}{sep}{SETTINGS[setting]['losses'][loss]}"


def figures(runs: List[Dict], args) -> List[str]:
    """Scores over steps (a line per run, a colour per arm) and the final sample grids (an arm
    per row, a seed per column)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    os.makedirs(args.figure_dir, exist_ok=True)
    arms = list(dict.fromkeys((run["setting"], run["loss"]) for run in runs))
    colours = {arm: f"C{i}" for i, arm in enumerate(arms)}
    shown = {"fd": "Frechet distance (classifier features, lower better)",
             "classes_covered": "classes covered (of the data's; higher better)",
             "diversity": "pixel diversity / the data's (0 = one image)"}
    fig, axes = plt.subplots(1, len(shown), figsize=(13, 3.4))
    labelled = set()
    for run in runs:
        arm = (run["setting"], run["loss"])
        steps = [h["step"] for h in run["history"]]
        for ax, key in zip(axes, shown):
            ax.plot(steps, [h.get(key, np.nan) for h in run["history"]],
                    "--" if run["loss"] == "ns" else "-", color=colours[arm], marker="o", ms=2,
                    lw=1, alpha=0.8,
                    label=None if arm in labelled else arm_label(*arm))
        labelled.add(arm)
    for ax, (key, title) in zip(axes, shown.items()):
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    paths = [os.path.join(args.figure_dir, f"{args.figure_prefix}_scores.png")]
    fig.savefig(paths[0], dpi=80)
    plt.close(fig)

    seeds = sorted({run["seed"] for run in runs})
    fig, axes = plt.subplots(len(arms), len(seeds), figsize=(1.9 * len(seeds) + 1.2,
                                                            2.0 * len(arms)), squeeze=False)
    for run in runs:
        ax = axes[arms.index((run["setting"], run["loss"])), seeds.index(run["seed"])]
        grid = os.path.join(run_dir(args, run["setting"], run["loss"], run["seed"]), "samples",
                            "final.png")
        if os.path.exists(grid):
            image = np.asarray(Image.open(grid))
            ax.imshow(image[:image.shape[0] // 2, :image.shape[1] // 2], cmap="gray")
        ax.set_title(f"seed {run['seed']}" + ("" if run["status"] == "ok" else " (diverged)"),
                     fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    for row, arm in enumerate(arms):
        axes[row, 0].set_ylabel(arm_label(*arm, sep="\n"), fontsize=6)
    fig.tight_layout()
    paths.append(os.path.join(args.figure_dir, f"{args.figure_prefix}_samples.png"))
    fig.savefig(paths[1], dpi=80)
    plt.close(fig)
    return paths


def main(argv=None) -> Dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    classes = num_classes(args.data)
    settings = [s.strip() for s in args.settings.split(",") if s.strip()]
    arms = [(setting, loss) for setting in settings for loss in SETTINGS[setting]["losses"]]
    t0 = time.time()
    runs = []
    for seed in range(args.seeds):  # seed-major: a stopped sweep has every arm's first seeds
        for setting, loss in arms:
            runs.append(load_run(args, setting, loss, seed) if args.report_only
                        else run_one(setting, loss, seed, args))
    rows = summarize(runs, classes, args.steps)
    reference = reference_scores(args)
    summary = {"steps": args.steps, "width": args.width, "num_samples": args.num_samples,
               "data": args.data, "classes": classes, "seeds": args.seeds, "arms": rows,
               "runs": runs, "reference": reference}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "no_bn.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    paths = figures(runs, args)
    print(markdown_table(rows, reference))
    train_seconds = sum(h.get("train_seconds", 0.0) for run in runs for h in run["history"])
    print(f"[no_bn] {len(runs)} runs ({train_seconds / 60:.0f} min of training in total, "
          f"{(time.time() - t0) / 60:.0f} min this call); {os.path.join(args.out, 'no_bn.json')};"
          f" figures {' '.join(paths)}")
    return summary


if __name__ == "__main__":
    main()
