"""The paper's mixture-of-Gaussians stability experiment: LSGAN (both codings) vs the regular GAN.

Setting (REFERENCE.md section 2, preset ``mog8``): 8 Gaussians on a ring of radius 1, std 0.01;
G and D are MLPs with two dense layers of 128 and tanh; G maps 256-d N(0, I) noise to 2-d;
batch 512; Adam beta1 0.5, lr D 1e-4, lr G 1e-3; 35,000 iterations (one D step then one G step).

For every (loss, seed) the run trains with ``lsgan_tf.training.GanTrainer`` (the library's one
D-step/G-step function), compiled together with the in-graph data into one ``tf.function`` that
runs ``--snapshot_every`` steps per call. The batches are the ones ``lsgan train --preset=mog8``
draws (``lsgan_tf.builtin_data.mog8_batch`` and ``sample_noise`` with the same stateless seeds).
At step 0 and every snapshot, ``--num_samples`` points from fixed noise are scored with
``lsgan_tf.metrics.mog.mode_metrics`` (modes covered, high-quality share, KL to uniform).

Outputs (``--out``, default runs/experiments/mog):
  ``<loss>/seed_<k>/``       checkpoints, ``snapshots.json`` (so far) and samples ``step_N.npy``;
  ``<loss>/seed_<k>.json``   the finished run: setting and the metrics at every snapshot;
  ``summary.json``           mean / std / min / max over seeds per loss and snapshot.
Also written to ``--figure_dir``: ``mog_summary.json`` (the same) and ``mog_table.md`` (the
tables the command prints).
Figures (``--figure_dir``, default docs/figures): ``mog_density.png`` (sample density per
snapshot, one seed per loss, like the paper's figure) and ``mog_modes.png`` (modes covered
over training, mean and spread over seeds).

An interrupted run continues where it stopped: finished seeds are skipped, an unfinished seed
resumes from its latest snapshot checkpoint.

  .venv/bin/python -m bench.mog                      # full: 35,000 steps, 5 seeds per loss
  .venv/bin/python -m bench.mog --seeds 10           # the paper's 10 repeats
  .venv/bin/python -m bench.mog --quick              # 2,000 steps, 2 seeds, separate folder
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Dict, List

import numpy as np

from lsgan_tf.models.mlp import INIT_GAIN

LOSSES = ("ls", "pearson", "ns")
LOSS_NAMES = {"ls": "LSGAN (0,1,1)", "pearson": "LSGAN (-1,1,0)", "ns": "GAN (non-saturating)",
              "minimax": "GAN (minimax)"}
METRICS = ("modes_covered", "high_quality_share", "mode_kl")
# A looser reading of the same samples: "high quality" within 10 std (0.1) of a centre instead
# of 3 std (0.03); neighbouring centres are 0.77 apart, so a sample still counts for one mode.
LOOSE_STD = 10.0
LOOSE = "_10std"
ALL_METRICS = METRICS + tuple(m + LOOSE for m in METRICS)
SAMPLE_NOISE_SALT = 777


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--losses", default=",".join(LOSSES),
                        help="comma-separated loss names (lsgan_tf.losses registry)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per loss")
    parser.add_argument("--steps", type=int, default=35000)
    parser.add_argument("--snapshot_every", type=int, default=5000)
    parser.add_argument("--num_samples", type=int, default=2500, help="points scored per snapshot")
    parser.add_argument("--out", default="runs/experiments/mog")
    parser.add_argument("--figure_dir", default="docs/figures")
    parser.add_argument("--figure_prefix", default="mog")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow intra-op threads (the networks are tiny)")
    parser.add_argument("--init", choices=("orthogonal", "preset"), default="orthogonal",
                        help="orthogonal (gain 1.4, the authors' MoG code, drawn from the run's "
                             "seed) or the model's own initializer draw (also orthogonal 1.4)")
    parser.add_argument("--jit", type=int, default=1,
                        help="1: compile the training chunk with XLA (faster on CPU)")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 steps, snapshots every 500, 2 seeds, out "
                             "runs/experiments/mog_quick, figures prefixed mog_quick")
    parser.add_argument("--report_only", action="store_true",
                        help="only rebuild summary and figures from the JSON files")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.snapshot_every, args.seeds = 2000, 500, 2
        if args.out == "runs/experiments/mog":
            args.out = "runs/experiments/mog_quick"
        if args.figure_prefix == "mog":
            args.figure_prefix = "mog_quick"
    if args.steps % args.snapshot_every:
        parser.error("--steps must be a multiple of --snapshot_every")
    return args


def run_config(loss: str, seed: int, steps: int, snapshot_every: int):
    from lsgan_tf.config import apply_overrides
    from lsgan_tf.presets import get_preset

    return apply_overrides(get_preset("mog8"), [
        f"loss.type={loss}", f"train.seed={seed}", f"train.steps={steps}",
        f"train.checkpoint_every={snapshot_every}", "train.keep_checkpoints=1"])


def _write_json(path: str, payload) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def reinitialise_orthogonal(models, seed: int, gain: float = INIT_GAIN) -> None:
    """Kernels of every dense layer of G and D <- orthogonal(gain), biases <- 0: the
    initialisation of the authors' MoG code, drawn from the run's seed (the library's MoG
    model starts the same way since; with the N(0, 0.02) of the conv models these tanh MLPs
    start almost linear and D cannot see the modes for tens of thousands of steps)."""
    import keras

    for offset, model in enumerate((models.generator, models.discriminator)):
        for index, layer in enumerate(model.layers):
            if isinstance(layer, keras.layers.Dense):
                init = keras.initializers.Orthogonal(
                    gain=gain, seed=1000 * seed + 100 * offset + index)
                layer.kernel.assign(init(tuple(layer.kernel.shape)))
                if layer.bias is not None:
                    layer.bias.assign(keras.ops.zeros_like(layer.bias))


def train_one(loss: str, seed: int, args, log=sys.stdout) -> Dict:
    """Trains one (loss, seed) run to ``args.steps`` and returns its result dict."""
    import tensorflow as tf

    from lsgan_tf import builtin_data
    from lsgan_tf import data as data_lib
    from lsgan_tf.config import to_dict
    from lsgan_tf.metrics.mog import mode_metrics
    from lsgan_tf.training import GanTrainer

    config = run_config(loss, seed, args.steps, args.snapshot_every)
    run_dir = os.path.join(args.out, loss, f"seed_{seed}")
    os.makedirs(run_dir, exist_ok=True)
    trainer = GanTrainer(config, run_dir)
    if args.init == "orthogonal":
        reinitialise_orthogonal(trainer.models, seed)
    start = trainer.restore()
    snap_path = os.path.join(run_dir, "snapshots.json")
    snapshots: List[Dict] = []
    if os.path.exists(snap_path):
        with open(snap_path) as handle:
            snapshots = [s for s in json.load(handle) if s["step"] <= start]
    batch_size, noise = config.train.batch_size, config.model.noise
    seed64 = tf.constant(seed, tf.int64)
    step_fn = trainer.make_step_fn()
    centres = builtin_data.mog8_centres()
    z_eval = data_lib.sample_noise([args.num_samples, noise.dim], noise.distribution,
                                   [seed, SAMPLE_NOISE_SALT])

    def batch_for(step):
        # The same stateless seeds as lsgan_tf.data.training_dataset for source mog8.
        real, label = builtin_data.mog8_batch(batch_size, tf.stack([seed64, 2 ** 40 + step]))
        shape = [batch_size, noise.dim]
        return {"real": real, "label": label,
                "z_d": data_lib.sample_noise(shape, noise.distribution,
                                             tf.stack([seed64, 2 * step])),
                "z_g": data_lib.sample_noise(shape, noise.distribution,
                                             tf.stack([seed64, 2 * step + 1]))}

    # An explicit tf.while_loop (no AutoGraph, which re-reads this file's source when tracing).
    @tf.function(jit_compile=bool(args.jit), autograph=False)
    def run_steps(count):
        def body(i, metrics):
            del metrics
            return i + 1, step_fn(batch_for(trainer.step))

        init = {k: tf.constant(0.0) for k in ("d_loss", "g_loss", "d_real", "d_fake")}
        _, metrics = tf.while_loop(lambda i, _: i < count, body, (tf.constant(0), init))
        return metrics

    def snapshot(step: int, metrics: Dict[str, float], seconds: float) -> None:
        points = trainer.models.generator(z_eval, training=False).numpy()
        np.save(os.path.join(run_dir, f"step_{step:06d}.npy"), points.astype(np.float16))
        finite = bool(np.all(np.isfinite(points)))
        scores = (mode_metrics(points, centres, builtin_data.MOG_STD) if finite else
                  {"modes_covered": 0, "num_modes": len(centres), "high_quality_share": 0.0,
                   "mode_kl": float(np.log(len(centres)))})
        entry = {"step": step, **scores, **metrics, "finite": finite, "train_seconds": seconds}
        snapshots.append(entry)
        _write_json(snap_path, snapshots)
        print(f"[mog] {loss} seed {seed} step {step}: modes {scores['modes_covered']}/8 "
              f"hq {scores['high_quality_share']:.3f} kl {scores['mode_kl']:.3f} "
              + " ".join(f"{k} {v:.4f}" for k, v in metrics.items())
              + f" ({seconds:.1f}s)", file=log, flush=True)

    if start == 0 and not snapshots:
        snapshot(0, {}, 0.0)
    step = start
    while step < args.steps:
        t0 = time.time()
        metrics = {k: float(v) for k, v in run_steps(tf.constant(args.snapshot_every)).items()}
        seconds = time.time() - t0
        step = int(trainer.step.numpy())
        trainer.manager.save(checkpoint_number=step)
        snapshot(step, metrics, seconds)
    result = {"loss": loss, "loss_name": LOSS_NAMES.get(loss, loss), "seed": seed,
              "init": args.init,
              "steps": args.steps, "num_samples": args.num_samples,
              "config": to_dict(config), "snapshots": snapshots, "complete": True}
    _write_json(os.path.join(args.out, loss, f"seed_{seed}.json"), result)
    return result


def add_loose_metrics(run: Dict, run_dir: str) -> None:
    """Adds the ``LOOSE_STD`` reading of every snapshot, from the stored samples."""
    from lsgan_tf import builtin_data
    from lsgan_tf.metrics.mog import mode_metrics

    for snap in run["snapshots"]:
        path = os.path.join(run_dir, f"step_{snap['step']:06d}.npy")
        if METRICS[0] + LOOSE in snap or not os.path.exists(path):
            continue
        points = np.load(path).astype(np.float32)
        points = points[np.all(np.isfinite(points), axis=1)]
        if len(points) == 0:
            continue
        loose = mode_metrics(points, builtin_data.mog8_centres(), builtin_data.MOG_STD,
                             num_std=LOOSE_STD)
        snap.update({k + LOOSE: loose[k] for k in METRICS})


def load_results(out: str, losses, steps: int) -> Dict[str, List[Dict]]:
    results: Dict[str, List[Dict]] = {}
    for loss in losses:
        folder = os.path.join(out, loss)
        runs = []
        if os.path.isdir(folder):
            for name in sorted(os.listdir(folder)):
                if name.startswith("seed_") and name.endswith(".json"):
                    with open(os.path.join(folder, name)) as handle:
                        run = json.load(handle)
                    if run.get("complete") and run["steps"] == steps:
                        add_loose_metrics(run, os.path.join(folder, name[:-len(".json")]))
                        runs.append(run)
        results[loss] = runs
    return results


def summarise(results: Dict[str, List[Dict]]) -> Dict[str, Dict]:
    """Per loss and snapshot step: mean, std (ddof 0), min, max over seeds of each metric."""
    summary = {}
    for loss, runs in results.items():
        if not runs:
            continue
        steps = sorted({s["step"] for s in runs[0]["snapshots"]})
        per_step = {}
        for step in steps:
            entry = {"seeds": 0}
            for metric in ALL_METRICS:
                values = np.array([s[metric] for run in runs for s in run["snapshots"]
                                   if s["step"] == step and metric in s], np.float64)
                if len(values) == 0:
                    continue
                entry["seeds"] = len(values)
                entry[metric] = {"mean": float(values.mean()), "std": float(values.std()),
                                 "min": float(values.min()), "max": float(values.max()),
                                 "values": values.tolist()}
            per_step[str(step)] = entry
        final = runs[0]["steps"]
        covered = per_step[str(final)]["modes_covered"]["values"]
        loose = per_step[str(final)].get("modes_covered" + LOOSE, {}).get("values", [])
        summary[loss] = {"name": LOSS_NAMES.get(loss, loss), "seeds": [r["seed"] for r in runs],
                         "final_step": final, "per_step": per_step,
                         "all_8_modes_share": float(np.mean(np.array(covered) == 8)),
                         "all_8_modes_share" + LOOSE: float(np.mean(np.array(loose) == 8))
                         if loose else float("nan"),
                         "seconds_per_run": float(np.mean([
                             sum(s.get("train_seconds", 0.0) for s in r["snapshots"])
                             for r in runs]))}
    return summary


def table(summary: Dict[str, Dict]) -> str:
    """Final-step table: modes covered, runs with all 8, high-quality share, KL; at 3 std (the
    metric's default) and at 10 std."""
    lines = ["| loss | seeds | steps | modes covered, 3 std (of 8) | all 8 | high-quality share, "
             "3 std | KL to uniform, 3 std | modes covered, 10 std | all 8 | "
             "high-quality share, 10 std |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for loss, entry in summary.items():
        final = entry["per_step"][str(entry["final_step"])]
        n = final["seeds"]

        def ms(key, digits):
            if key not in final:
                return "-"
            v = final[key]
            text = f"{v['mean']:.{digits}f} +- {v['std']:.{digits}f}"
            if key.startswith("modes_covered"):
                text += f" (min {v['min']:.0f}, max {v['max']:.0f})"
            return text

        all8 = entry["all_8_modes_share"] * n
        all8_loose = entry.get("all_8_modes_share" + LOOSE, float("nan")) * n
        lines.append(
            f"| {entry['name']} (`{loss}`) | {n} | {entry['final_step']:,} | "
            f"{ms('modes_covered', 2)} | {all8:.0f}/{n} | {ms('high_quality_share', 3)} | "
            f"{ms('mode_kl', 3)} | {ms('modes_covered' + LOOSE, 2)} | "
            + (f"{all8_loose:.0f}/{n}" if np.isfinite(all8_loose) else "-")
            + f" | {ms('high_quality_share' + LOOSE, 3)} |")
    return "\n".join(lines)


def per_step_table(summary: Dict[str, Dict]) -> str:
    losses = list(summary)
    if not losses:
        return ""
    steps = list(summary[losses[0]]["per_step"])
    head = "| step | " + " | ".join(summary[l]["name"] for l in losses) + " |"
    lines = [head, "|---" * (len(losses) + 1) + "|"]
    for step in steps:
        cells = []
        for loss in losses:
            entry = summary[loss]["per_step"].get(step)
            if entry is None:
                cells.append("-")
                continue
            cell = f"{entry['modes_covered']['mean']:.1f} +- {entry['modes_covered']['std']:.1f}"
            if "modes_covered" + LOOSE in entry:
                loose = entry["modes_covered" + LOOSE]
                cell += f" / {loose['mean']:.1f} +- {loose['std']:.1f}"
            cells.append(cell)
        lines.append(f"| {int(step):,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def density_figure(results: Dict[str, List[Dict]], out: str, path: str, seed: int = 0) -> str:
    """Rows: one loss (seed ``seed``); columns: the snapshots and the target (like the paper)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.ndimage import gaussian_filter

    from lsgan_tf import builtin_data

    losses = [l for l, runs in results.items() if any(r["seed"] == seed for r in runs)]
    if not losses:
        return ""
    steps = [s["step"] for s in results[losses[0]][0]["snapshots"]]
    target = builtin_data.mog8_sample(2500, 12345)
    lim, bins = 1.5, 120
    fig, axes = plt.subplots(len(losses), len(steps) + 1,
                             figsize=(1.6 * (len(steps) + 1), 1.7 * len(losses)), squeeze=False)

    def panel(ax, points, title):
        points = np.asarray(points, np.float32)
        points = points[np.all(np.isfinite(points), axis=1)]
        hist, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=bins,
                                    range=[[-lim, lim], [-lim, lim]])
        ax.imshow(np.log1p(gaussian_filter(hist, 1.0)), origin="lower", cmap="viridis",
                  extent=[-lim, lim, -lim, lim], interpolation="bilinear")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=7)

    for row, loss in enumerate(losses):
        run_dir = os.path.join(out, loss, f"seed_{seed}")
        for col, step in enumerate(steps):
            points = np.load(os.path.join(run_dir, f"step_{step:06d}.npy"))
            panel(axes[row, col], points, f"step {step:,}")
        panel(axes[row, -1], target, "target")
        axes[row, 0].set_ylabel(LOSS_NAMES.get(loss, loss), fontsize=7)
    fig.suptitle(f"Sample density (log), seed {seed}, 2,500 samples per panel", fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def modes_figure(summary: Dict[str, Dict], path: str) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (("modes_covered", "modes covered (of 8), 3 std"),
              ("modes_covered" + LOOSE, "modes covered (of 8), 10 std"),
              ("high_quality_share", "high-quality share (<= 3 std)"),
              ("mode_kl", "KL(mode histogram || uniform), 3 std"))
    fig, axes = plt.subplots(1, len(panels), figsize=(14, 3.1))
    for loss, entry in summary.items():
        steps = [int(s) for s in entry["per_step"]]
        for ax, (metric, _) in zip(axes, panels):
            have = [s for s in steps if metric in entry["per_step"][str(s)]]
            mean = np.array([entry["per_step"][str(s)][metric]["mean"] for s in have])
            std = np.array([entry["per_step"][str(s)][metric]["std"] for s in have])
            ax.plot(have, mean, marker="o", ms=3, label=f"{entry['name']}")
            ax.fill_between(have, mean - std, mean + std, alpha=0.2)
    for ax, (_, label) in zip(axes, panels):
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    seeds = max(len(e["seeds"]) for e in summary.values())
    fig.suptitle(f"8-Gaussian ring: mean +- std over up to {seeds} seeds per loss", fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def report(args) -> Dict[str, Dict]:
    losses = [l.strip() for l in args.losses.split(",") if l.strip()]
    results = load_results(args.out, losses, args.steps)
    summary = summarise(results)
    if not summary:
        print("[mog] no finished runs yet", flush=True)
        return summary
    _write_json(os.path.join(args.out, "summary.json"), summary)
    density = density_figure(results, args.out,
                             os.path.join(args.figure_dir, f"{args.figure_prefix}_density.png"))
    modes = modes_figure(summary, os.path.join(args.figure_dir, f"{args.figure_prefix}_modes.png"))
    text = ("Modes covered over training (mean +- std over seeds; 3 std / 10 std):\n\n"
            + per_step_table(summary) + f"\n\nAt step {args.steps:,}:\n\n" + table(summary) + "\n")
    print("\n" + text)
    with open(os.path.join(args.figure_dir, f"{args.figure_prefix}_table.md"), "w") as handle:
        handle.write(text)
    _write_json(os.path.join(args.figure_dir, f"{args.figure_prefix}_summary.json"), summary)
    print(f"\n[mog] summary: {os.path.join(args.out, 'summary.json')}\n[mog] figures: "
          f"{density} {modes}", flush=True)
    return summary


def main(argv=None) -> Dict[str, Dict]:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    losses = [l.strip() for l in args.losses.split(",") if l.strip()]
    if not args.report_only:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        except RuntimeError:  # TensorFlow already initialised (e.g. under pytest): keep it
            pass
        t0 = time.time()
        # Seed-major order: an interrupted run still has every loss at the same seed count.
        for seed in range(args.seeds):
            for loss in losses:
                done = os.path.join(args.out, loss, f"seed_{seed}.json")
                if os.path.exists(done):
                    with open(done) as handle:
                        if json.load(handle).get("steps") == args.steps:
                            print(f"[mog] {loss} seed {seed}: done, skipped", flush=True)
                            continue
                train_one(loss, seed, args)
                print(f"[mog] elapsed {time.time() - t0:.0f}s", flush=True)
    return report(args)


if __name__ == "__main__":
    main()
