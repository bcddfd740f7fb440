"""The paper's mixture-of-Gaussians stability experiment, in a 2 x 2 design of update schemes.

Setting (docs/PAPER.md section 2, preset ``mog8``): 8 Gaussians on a ring of radius 1, std 0.01;
G and D are MLPs with two dense layers of 128 and tanh, starting orthogonal with gain 1.4 (the
``mog_mlp`` model's own initialisation, as in the authors' script); G maps 256-d N(0, I) noise
to 2-d; batch 512; Adam beta1 0.5, lr D 1e-4, lr G 1e-3; float32; 35,000 iterations. Everything
is the ``mog8`` preset except the loss, the seed and the scheme (and bookkeeping that leaves the
weights alone: a checkpoint per snapshot, ``train.steps_per_loop`` = the snapshot interval):

  scheme       train.update   train.g_noise
  authors      simultaneous   shared    (the authors' one sess.run from the same samples)
  ours         alternating    fresh     (the library's default)
  alt_shared   alternating    shared
  sim_fresh    simultaneous   fresh

A run (scheme, loss, seed) trains with the library's own loop: ``GanTrainer.make_loop_fn()``
fed by ``GanTrainer.dataset(start)``, ``--snapshot_every`` steps per call; nothing of its own
(no batch function, no XLA). So its batches and noise are those ``lsgan train --preset=mog8
--set train.seed=K`` draws (real points and noise are stateless functions of (seed, step), made
by tf.data), and it trains what ``lsgan train`` trains: ``run_config`` is the whole config, and
3 steps here and in ``lsgan_tf.training.train`` leave bit-identical checkpoints (in one process:
``tests/experiments/test_mog_experiment.py``; the 1-thread workers against ``train`` in another process:
``tests/experiments/test_mog_workers.py``, slow). There is no ``--init`` any more: the library's
model already starts orthogonal, so the former re-initialisation is gone.

At step 0 and every snapshot, ``--num_samples`` points from fixed noise (seed (K, 777)) are
scored by three rules side by side (``lsgan_tf.metrics.mog``): (a) modes within 3 std
(PacGAN), (b) the ring rule (share of samples within 0.1 of the ring; 45-degree sectors around
the centres holding >= 20 % of their uniform share) and (c) collapse (the 2 most populated
sectors hold >= 80 % of the samples); per run, the collapse episodes over its snapshots.

Runs go to ``--workers`` subprocesses (``python -m experiments.mog --one SCHEME,LOSS,SEED``, one
TensorFlow thread each), seed-major, then scheme, then loss, so an interrupted sweep has
balanced cells. Resumable: finished runs are skipped, an unfinished one resumes from its last
snapshot checkpoint. The mixed schemes (alt_shared, sim_fresh) run ``--mixed_losses`` with
``--mixed_seeds`` seeds only.

Outputs (``--out``, default runs/experiments/mog):
  ``<scheme>/<loss>/seed_<k>/``     config.json, checkpoints, snapshots.json (so far) and the
                                    scored samples ``step_NNNNNN.npy``;
  ``<scheme>/<loss>/seed_<k>.json`` the finished run: setting and scores at every snapshot;
  ``<scheme>/<loss>/seed_<k>.log``  its worker's output;
  ``summary.json``                  statistics over seeds per scheme, loss and snapshot.
In ``--figure_dir`` (default docs/figures; ``--quick``: ``--out``), prefix ``--figure_prefix``
(default mog):
``mog_table.md`` (the tables the command prints), ``mog_summary.json`` (= summary.json),
``mog_density.png`` (sample density, rows scheme x loss for one seed, columns snapshots) and
``mog_metrics.png`` (the scores over training, mean and spread over seeds).

  .venv/bin/python -m experiments.mog                   # the sweep: 80 runs + 20 mixed, 35,000 steps
  .venv/bin/python -m experiments.mog --quick           # 2,000 steps, 2 seeds, ls/ns, authors/ours
                                                  # (out and figures: runs/experiments/mog_quick)
  .venv/bin/python -m experiments.mog --report_only     # tables and figures from the finished runs
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Dict, List, Sequence, Tuple

import numpy as np

SCHEMES = {"authors": ("simultaneous", "shared"), "ours": ("alternating", "fresh"),
           "alt_shared": ("alternating", "shared"), "sim_fresh": ("simultaneous", "fresh")}
SCHEME_NAMES = {"authors": "authors: simultaneous, shared z", "ours": "ours: alternating, fresh z",
                "alt_shared": "alternating, shared z", "sim_fresh": "simultaneous, fresh z"}
MIXED = ("alt_shared", "sim_fresh")
LOSSES = ("ls", "pearson", "ns", "minimax")
LOSS_NAMES = {"ls": "LSGAN (0,1,1)", "pearson": "LSGAN (-1,1,0)", "ns": "GAN (non-saturating)",
              "minimax": "GAN (minimax)"}
# Per snapshot: (key, label, digits of mean and std, digits per seed) of the three rules'
# numbers in the tables and figure.
SCORES = (("modes_covered", "modes within 3 std (of 8)", 1, 0),
          ("ring_share", "ring share (within 0.1)", 3, 2),
          ("sectors_covered", "sectors covered (of 8)", 1, 0))
SAMPLE_NOISE_SALT = 777
FULL = dict(steps=35000, snapshot_every=5000, seeds=10, losses=",".join(LOSSES),
            schemes=",".join(SCHEMES), out="runs/experiments/mog", figure_dir="docs/figures",
            figure_prefix="mog")
QUICK = dict(steps=2000, snapshot_every=500, seeds=2, losses="ls,ns", schemes="authors,ours",
             out="runs/experiments/mog_quick", figure_prefix="mog_quick")  # figures: in out
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

Job = Tuple[str, str, int]  # (scheme, loss, seed)


def _names(text: str, known: Sequence[str], what: str, parser) -> List[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if known and n not in known]
    if bad or not names:
        parser.error(f"--{what}: unknown {bad or text!r}; known: {', '.join(known)}")
    return names


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemes", help=f"comma list of {', '.join(SCHEMES)} (default all)")
    parser.add_argument("--losses", help="comma list of losses (lsgan_tf.losses registry; "
                        "default ls,pearson,ns,minimax)")
    parser.add_argument("--seeds", type=int, help="seeds 0..N-1 per cell (default 10)")
    parser.add_argument("--mixed_losses", default="ls,ns",
                        help="the losses of the mixed schemes alt_shared, sim_fresh")
    parser.add_argument("--mixed_seeds", type=int, default=5,
                        help="seeds of the mixed schemes (at most --seeds)")
    parser.add_argument("--steps", type=int, help="iterations per run (default 35,000)")
    parser.add_argument("--snapshot_every", type=int, help="default 5,000")
    parser.add_argument("--num_samples", type=int, default=2500, help="points scored per snapshot")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="extra config override for every run "
                        "(e.g. data.source=mog8_authors); use another --out for such a sweep")
    parser.add_argument("--out", help="default runs/experiments/mog")
    parser.add_argument("--figure_dir", help="default docs/figures (--quick: its --out)")
    parser.add_argument("--figure_prefix", help="default mog")
    parser.add_argument("--density_seed", type=int, default=0, help="the seed the density "
                        "figure shows")
    parser.add_argument("--workers", type=int, default=2,
                        help="worker subprocesses (0: train in this process)")
    parser.add_argument("--threads", type=int, default=1,
                        help="TensorFlow threads per run (the networks are tiny)")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 steps, snapshots every 500, 2 seeds, losses ls,ns, schemes "
                             "authors,ours; out and figures in runs/experiments/mog_quick, "
                             "prefix mog_quick")
    parser.add_argument("--report_only", action="store_true",
                        help="only rebuild tables and figures from the finished runs")
    parser.add_argument("--one", metavar="SCHEME,LOSS,SEED",
                        help="(a worker) train this one run and exit")
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    from lsgan_tf.registry import LOSSES as registry

    args.scheme_list = _names(args.schemes, tuple(SCHEMES), "schemes", parser)
    args.loss_list = _names(args.losses, tuple(registry.names()), "losses", parser)
    args.mixed_loss_list = _names(args.mixed_losses, tuple(registry.names()), "mixed_losses",
                                  parser)
    if args.steps % args.snapshot_every:
        parser.error("--steps must be a multiple of --snapshot_every")
    if args.one:
        scheme, loss, seed = args.one.split(",")
        args.one = (_names(scheme, tuple(SCHEMES), "one", parser)[0],
                    _names(loss, tuple(registry.names()), "one", parser)[0], int(seed))
    args.out = os.path.abspath(args.out)
    if args.figure_dir is None:
        args.figure_dir = args.out
    return args


def plan(args) -> List[Job]:
    """Every run of the sweep, seed-major, then scheme, then loss."""
    jobs = []
    for seed in range(args.seeds):
        for scheme in args.scheme_list:
            mixed = scheme in MIXED
            if seed < (min(args.seeds, args.mixed_seeds) if mixed else args.seeds):
                jobs += [(scheme, loss, seed)
                         for loss in (args.mixed_loss_list if mixed else args.loss_list)]
    return jobs


def cells(args) -> List[Tuple[str, str]]:
    """The (scheme, loss) cells of the sweep, in table order."""
    return [(s, l) for s in args.scheme_list
            for l in (args.mixed_loss_list if s in MIXED else args.loss_list)]


def run_config(scheme: str, loss: str, seed: int, steps: int, snapshot_every: int,
               overrides: Sequence[str] = ()):
    """The run's whole config: the ``mog8`` preset with the loss, seed, scheme and length (a
    checkpoint per snapshot, ``snapshot_every`` steps per loop call)."""
    from lsgan_tf import config as config_lib
    from lsgan_tf.presets import get_preset

    update, g_noise = SCHEMES[scheme]
    return config_lib.validate(config_lib.apply_overrides(get_preset("mog8"), [
        f"loss.type={loss}", f"train.seed={seed}", f"train.steps={steps}",
        f"train.update={update}", f"train.g_noise={g_noise}",
        f"train.checkpoint_every={snapshot_every}", f"train.steps_per_loop={snapshot_every}",
        "train.keep_checkpoints=1", *overrides]))


def run_dir(out: str, job: Job) -> str:
    scheme, loss, seed = job
    return os.path.join(out, scheme, loss, f"seed_{seed}")


def _write_json(path: str, payload) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(payload, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


def finished(out: str, job: Job, steps: int) -> bool:
    path = run_dir(out, job) + ".json"
    if not os.path.exists(path):
        return False
    with open(path) as handle:
        run = json.load(handle)
    return bool(run.get("complete")) and run.get("steps") == steps


def score(points: np.ndarray) -> Dict:
    """The three rules on one snapshot's samples (``lsgan_tf.metrics.mog.ring_scores``)."""
    from lsgan_tf import builtin_data
    from lsgan_tf.metrics.mog import ring_scores

    points = np.asarray(points, np.float64)
    return {**ring_scores(points, builtin_data.mog8_centres(), builtin_data.MOG_STD),
            "finite": bool(np.all(np.isfinite(points)))}


def collapse_summary_of(snapshots: Sequence[Dict]) -> Dict:
    """Rule (c) over a run's snapshots (``lsgan_tf.metrics.mog.collapse_summary``)."""
    from lsgan_tf.metrics.mog import collapse_summary

    return collapse_summary([(s["step"], s["collapsed"]) for s in snapshots])


def set_threads(threads: int) -> None:
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already initialised (e.g. under pytest): keep it
        pass


def train_run(job: Job, args, log=None) -> Dict:
    """Trains one run to ``args.steps`` with the library's loop, scoring every snapshot, and
    returns its result (also written to ``<run dir>.json``)."""
    import tensorflow as tf

    from lsgan_tf import config as config_lib
    from lsgan_tf import data as data_lib
    from lsgan_tf.training import GanTrainer

    log = log or sys.stdout
    scheme, loss, seed = job
    config = run_config(scheme, loss, seed, args.steps, args.snapshot_every, args.overrides)
    folder = run_dir(args.out, job)
    saved = os.path.join(folder, "config.json")
    if os.path.exists(saved):
        old, new = config_lib.flatten(config_lib.load(saved)), config_lib.flatten(config)
        changed = [f"{k}: {old.get(k)!r} -> {new[k]!r}" for k in new
                   if k != "train.steps" and old.get(k) != new[k]]
        if changed:
            raise SystemExit(f"[mog] {folder} holds a run with another config "
                             f"({'; '.join(changed)}): use another --out")
    os.makedirs(folder, exist_ok=True)
    config_lib.save(config, saved)
    trainer = GanTrainer(config, folder)
    start = trainer.restore()
    if start > args.steps:
        raise SystemExit(f"[mog] {folder} is at step {start} > --steps {args.steps}")
    snap_path = os.path.join(folder, "snapshots.json")
    snapshots: List[Dict] = []
    if os.path.exists(snap_path):
        with open(snap_path) as handle:
            snapshots = [s for s in json.load(handle) if s["step"] <= start]
    noise = config.model.noise
    z_eval = data_lib.sample_noise([args.num_samples, noise.dim], noise.distribution,
                                   [seed, SAMPLE_NOISE_SALT])
    batches = iter(trainer.dataset(start))
    loop_fn = trainer.make_loop_fn()
    tag = f"{scheme} {loss} seed {seed}"
    if start:
        print(f"[mog] {tag}: resuming at step {start}", file=log, flush=True)

    def snapshot(step: int, metrics: Dict[str, float], seconds: float) -> None:
        points = trainer.task.models.generator(z_eval, training=False).numpy()
        np.save(os.path.join(folder, f"step_{step:06d}.npy"), points.astype(np.float32))
        scores = score(points)
        snapshots.append({"step": step, **scores, **metrics, "train_seconds": seconds})
        _write_json(snap_path, snapshots)
        print(f"[mog] {tag} step {step}: modes {scores['modes_covered']}/8 ring "
              f"{scores['ring_share']:.3f} sectors {scores['sectors_covered']}/8 top-2 "
              f"{scores['top_sector_share']:.2f}" + (" COLLAPSED" if scores["collapsed"] else "")
              + "".join(f" {k} {v:.4f}" for k, v in metrics.items())
              + f" ({seconds:.1f}s)", file=log, flush=True)

    if not snapshots or snapshots[-1]["step"] < start:  # step 0, or killed before scoring
        snapshot(start, {}, 0.0)
    step = start
    while step < args.steps:
        count = args.snapshot_every - step % args.snapshot_every
        t0 = time.time()
        metrics = {k: float(v) for k, v in
                   loop_fn(batches, tf.constant(count), tf.constant(0.0)).items()}
        seconds = time.time() - t0
        metrics.pop("stop")
        step += count
        trainer.save(step)
        snapshot(step, metrics, seconds)
    result = {"scheme": scheme, "update": config.train.update, "g_noise": config.train.g_noise,
              "loss": loss, "loss_name": LOSS_NAMES.get(loss, loss), "seed": seed,
              "steps": args.steps, "num_samples": args.num_samples,
              "config": config_lib.to_dict(config), "snapshots": snapshots, "complete": True,
              **collapse_summary_of(snapshots)}
    _write_json(folder + ".json", result)
    return result


def _progress(done: int, total: int, ran: int, t0: float, job: Job, out: str) -> None:
    elapsed = time.time() - t0
    left = total - done
    eta = f"{elapsed / ran * left / 60:.0f} min" if ran else "?"
    last = ""
    path = run_dir(out, job) + ".json"
    if os.path.exists(path):
        with open(path) as handle:
            final = json.load(handle)["snapshots"][-1]
        last = (f": modes {final['modes_covered']}, ring {final['ring_share']:.2f}, sectors "
                f"{final['sectors_covered']}" + (", collapsed" if final["collapsed"] else ""))
    print(f"[mog] {done}/{total} runs done ({' '.join(map(str, job))}{last}) | elapsed "
          f"{elapsed / 60:.1f} min | eta {eta}", flush=True)


def worker_command(job: Job, args) -> List[str]:
    command = [sys.executable, "-m", "experiments.mog", "--one", ",".join(map(str, job)),
               "--steps", str(args.steps), "--snapshot_every", str(args.snapshot_every),
               "--num_samples", str(args.num_samples), "--out", args.out,
               "--threads", str(args.threads)]
    for override in args.overrides:
        command += ["--set", override]
    return command


def sweep(args) -> int:
    """Runs the unfinished runs of ``plan(args)`` (in ``args.workers`` subprocesses, or here
    with 0); returns the number that failed."""
    jobs = plan(args)
    todo = [j for j in jobs if not finished(args.out, j, args.steps)]
    done = len(jobs) - len(todo)
    print(f"[mog] {len(jobs)} runs planned, {done} finished, {len(todo)} to run "
          f"({args.steps:,} steps each, {max(args.workers, 1)} at a time) in {args.out}",
          flush=True)
    t0, ran, failed = time.time(), 0, 0
    if args.workers <= 0:
        set_threads(args.threads)
        for job in todo:
            train_run(job, args)
            ran, done = ran + 1, done + 1
            _progress(done, len(jobs), ran, t0, job, args.out)
        return 0
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(filter(None, [REPO, os.environ.get("PYTHONPATH")])))
    running: Dict[subprocess.Popen, Tuple[Job, object]] = {}
    try:
        while todo or running:
            while todo and len(running) < args.workers:
                job = todo.pop(0)
                os.makedirs(os.path.dirname(run_dir(args.out, job)), exist_ok=True)
                log = open(run_dir(args.out, job) + ".log", "a")
                running[subprocess.Popen(worker_command(job, args), cwd=REPO, env=env,
                                         stdout=log, stderr=subprocess.STDOUT)] = (job, log)
            time.sleep(0.5)
            for proc in [p for p in running if p.poll() is not None]:
                job, log = running.pop(proc)
                log.close()
                ran, done = ran + 1, done + 1
                if proc.returncode:
                    failed += 1
                    print(f"[mog] FAILED {' '.join(map(str, job))} (exit {proc.returncode}); "
                          f"see {log.name}", flush=True)
                _progress(done, len(jobs), ran, t0, job, args.out)
    finally:
        for proc, (job, log) in running.items():  # interrupted: stop our workers
            proc.terminate()
            proc.wait()
            log.close()
        if running:
            print("[mog] interrupted: the same command resumes the unfinished runs from their "
                  "last snapshot", flush=True)
    return failed


# --------------------------------------------------------------------------------- the report

def load_results(args) -> Dict[Tuple[str, str], List[Dict]]:
    """The finished runs of every cell (any seed, ``args.steps`` long), rescored from their
    stored samples with today's rules."""
    results = {}
    for scheme, loss in cells(args):
        folder, runs = os.path.join(args.out, scheme, loss), []
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        for name in names:
            if not (name.startswith("seed_") and name.endswith(".json")):
                continue
            with open(os.path.join(folder, name)) as handle:
                run = json.load(handle)
            if not (run.get("complete") and run["steps"] == args.steps):
                continue
            for snap in run["snapshots"]:
                path = os.path.join(folder, name[:-len(".json")], f"step_{snap['step']:06d}.npy")
                if os.path.exists(path):
                    snap.update(score(np.load(path)))
            run.update(collapse_summary_of(run["snapshots"]))
            runs.append(run)
        results[(scheme, loss)] = sorted(runs, key=lambda r: r["seed"])
    return results


def _stats(values) -> Dict:
    v = np.asarray(values, np.float64)
    return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
            "max": float(v.max()), "values": v.tolist()}


def _count(flags) -> Dict:
    return {"count": int(sum(bool(f) for f in flags)), "n": len(flags)}


def summarise(results: Dict[Tuple[str, str], List[Dict]]) -> Dict[str, Dict]:
    """Per cell ``scheme/loss``: per snapshot step, mean / std (ddof 0) / min / max / values
    over seeds of each score and the count of collapsed runs; per run, collapse episodes."""
    summary = {}
    for (scheme, loss), runs in results.items():
        if not runs:
            continue
        per_step = {}
        for step in sorted({s["step"] for run in runs for s in run["snapshots"]}):
            snaps = [s for run in runs for s in run["snapshots"] if s["step"] == step]
            per_step[str(step)] = {
                "seeds": len(snaps), "collapsed": _count([s["collapsed"] for s in snaps]),
                "finite": _count([s.get("finite", True) for s in snaps]),
                **{key: _stats([s[key] for s in snaps])
                   for key in [k for k, *_ in SCORES] + ["top_sector_share",
                                                          "high_quality_share"]}}
        summary[f"{scheme}/{loss}"] = {
            "scheme": scheme, "scheme_name": SCHEME_NAMES[scheme], "loss": loss,
            "loss_name": LOSS_NAMES.get(loss, loss), "seeds": [r["seed"] for r in runs],
            "final_step": runs[0]["steps"], "per_step": per_step,
            "collapse_episode": _count([r["collapse_episode"] for r in runs]),
            "collapsed_at_end": _count([r["collapsed_at_end"] for r in runs]),
            "collapsed_snapshots": _stats([r["collapsed_snapshots"] for r in runs]),
            "seconds_per_run": float(np.mean([sum(s.get("train_seconds", 0.0)
                                                  for s in r["snapshots"]) for r in runs]))}
    return summary


def _cell(entry: Dict) -> str:
    return f"{entry['scheme']} | {entry['loss']}"


def _ms(stats: Dict, digits: int, seed_digits=None) -> str:
    """mean ± std, then the per-seed values in brackets unless ``seed_digits`` is None."""
    text = f"{stats['mean']:.{digits}f} ± {stats['std']:.{digits}f}"
    if seed_digits is not None:
        text += " (" + ", ".join(f"{v:.{seed_digits}f}" for v in stats["values"]) + ")"
    return text


def final_table(summary: Dict[str, Dict]) -> str:
    """At the last step, per cell: the three rules (mean ± std, per-seed values in brackets)
    and the runs with a collapse episode / collapsed at the end."""
    lines = ["| scheme | loss | seeds | modes within 3 std (of 8) | ring share | sectors covered "
             "(of 8) | runs with a collapse episode (collapsed snapshots per seed) | "
             "collapsed at the end |", "|---" * 8 + "|"]
    for entry in summary.values():
        final = entry["per_step"][str(entry["final_step"])]
        episodes, end = entry["collapse_episode"], entry["collapsed_at_end"]
        per_seed = ", ".join(f"{v:.0f}" for v in entry["collapsed_snapshots"]["values"])
        scores = " | ".join(_ms(final[key], digits, seed_digits)
                            for key, _, digits, seed_digits in SCORES)
        lines.append(f"| {_cell(entry)} | {final['seeds']} | {scores} | "
                     f"{episodes['count']}/{episodes['n']} ({per_seed}) | "
                     f"{end['count']}/{end['n']} |")
    return "\n".join(lines)


def step_tables(summary: Dict[str, Dict]) -> str:
    """Per score: cells x snapshot steps, mean ± std over seeds; collapsed runs k/n."""
    if not summary:
        return ""
    steps = sorted({int(s) for e in summary.values() for s in e["per_step"]})
    head = "| scheme | loss | " + " | ".join(f"{s:,}" for s in steps) + " |"
    rule = "|---|---|" + "---|" * len(steps)
    parts = []
    for key, label, digits, _ in SCORES + (("collapsed", "runs collapsed (k/n)", 0, 0),):
        lines = [f"{label}, mean ± std over seeds:" if key != "collapsed" else label + ":",
                 "", head, rule]
        for entry in summary.values():
            row = []
            for step in steps:
                at = entry["per_step"].get(str(step))
                if at is None:
                    row.append("-")
                elif key == "collapsed":
                    row.append(f"{at[key]['count']}/{at[key]['n']}")
                else:
                    row.append(_ms(at[key], digits))
            lines.append(f"| {_cell(entry)} | " + " | ".join(row) + " |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def density_figure(results, out: str, path: str, seed: int = 0) -> str:
    """Rows: one cell (scheme x loss) at seed ``seed``; columns: the snapshots and the target."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.ndimage import gaussian_filter

    from lsgan_tf import builtin_data

    rows = [(cell, run) for cell, runs in results.items() for run in runs if run["seed"] == seed]
    if not rows:
        return ""
    steps = [s["step"] for s in rows[0][1]["snapshots"]]
    target = builtin_data.mog8_sample(2500, 12345)
    lim, bins = 1.5, 120
    fig, axes = plt.subplots(len(rows), len(steps) + 1,
                             figsize=(1.5 * (len(steps) + 1), 1.6 * len(rows)), squeeze=False)

    def panel(ax, points, title):
        points = np.asarray(points, np.float32)
        points = points[np.all(np.isfinite(points), axis=1)]
        hist, _, _ = np.histogram2d(points[:, 1], points[:, 0], bins=bins,
                                    range=[[-lim, lim], [-lim, lim]])
        ax.imshow(np.log1p(gaussian_filter(hist, 1.0)), origin="lower", cmap="viridis",
                  extent=[-lim, lim, -lim, lim], interpolation="bilinear")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=6)

    for row, ((scheme, loss), run) in enumerate(rows):
        folder = run_dir(out, (scheme, loss, seed))
        for col, snap in enumerate(run["snapshots"][:len(steps)]):
            points = np.load(os.path.join(folder, f"step_{snap['step']:06d}.npy"))
            flag = " C" if snap["collapsed"] else ""
            panel(axes[row, col], points, f"{snap['step']:,}: {snap['modes_covered']}m "
                  f"{snap['sectors_covered']}s{flag}")
        panel(axes[row, -1], target, "target")
        axes[row, 0].set_ylabel(f"{scheme}\n{loss}", fontsize=7)
    fig.suptitle(f"Sample density (log), seed {seed}, {len(target):,} samples per panel; title: "
                 "step, modes within 3 std (m), sectors covered (s), C = collapsed", fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def metrics_figure(summary: Dict[str, Dict], path: str) -> str:
    """The three rules over training: mean ± std over seeds per cell; collapsed share of runs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = SCORES + (("collapsed", "share of runs collapsed (top-2 sectors >= 80 %)", 0, 0),)
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.3))
    colors = {loss: f"C{i}" for i, loss in enumerate(dict.fromkeys(
        e["loss"] for e in summary.values()))}
    styles = dict(zip(SCHEMES, ("-", "--", ":", "-.")))
    for entry in summary.values():
        steps = sorted(int(s) for s in entry["per_step"])
        at = [entry["per_step"][str(s)] for s in steps]
        for ax, (key, *_) in zip(axes, panels):
            if key == "collapsed":
                mean, std = np.array([a[key]["count"] / a[key]["n"] for a in at]), None
            else:
                mean = np.array([a[key]["mean"] for a in at])
                std = np.array([a[key]["std"] for a in at])
            ax.plot(steps, mean, styles[entry["scheme"]], color=colors[entry["loss"]],
                    marker="o", ms=2.5, label=f"{entry['scheme']} {entry['loss']}")
            if std is not None:
                ax.fill_between(steps, mean - std, mean + std, color=colors[entry["loss"]],
                                alpha=0.1)
    for ax, (key, label, *_) in zip(axes, panels):
        if key in ("modes_covered", "sectors_covered"):
            ax.set_ylim(-0.3, 8.3)
        elif key in ("ring_share", "collapsed"):
            ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=6, ncol=2)
    seeds = max(len(e["seeds"]) for e in summary.values())
    fig.suptitle(f"8-Gaussian ring: mean ± std over up to {seeds} seeds per cell "
                 "(line style: scheme, colour: loss)", fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def report(args) -> Dict[str, Dict]:
    results = load_results(args)
    summary = summarise(results)
    if not summary:
        print(f"[mog] no finished runs in {args.out} yet", flush=True)
        return summary
    prefix = os.path.join(args.figure_dir, args.figure_prefix)
    os.makedirs(args.figure_dir, exist_ok=True)
    _write_json(os.path.join(args.out, "summary.json"), summary)
    _write_json(prefix + "_summary.json", summary)
    density = density_figure(results, args.out, prefix + "_density.png", args.density_seed)
    metrics = metrics_figure(summary, prefix + "_metrics.png")
    text = (f"8-Gaussian ring, {args.num_samples:,} samples per snapshot from fixed noise; "
            "rules: modes within 3 std (PacGAN), ring share (| ||x|| - 1 | <= 0.1) and sectors "
            "covered (45-degree sectors around the centres with >= 20 % of their uniform share "
            "of on-ring samples), collapsed (the 2 most populated sectors hold >= 80 % of the "
            f"samples); std over seeds with ddof 0.\n\nAt step {args.steps:,} (per-seed values "
            "in brackets):\n\n" + final_table(summary) + "\n\nOver training:\n\n"
            + step_tables(summary) + "\n")
    print("\n" + text)
    with open(prefix + "_table.md", "w") as handle:
        handle.write(text)
    print(f"[mog] runs: {args.out}\n[mog] summary: {os.path.join(args.out, 'summary.json')}, "
          f"{prefix}_summary.json\n[mog] table: {prefix}_table.md\n[mog] figures: {density} "
          f"{metrics}", flush=True)
    return summary


def main(argv=None) -> Dict[str, Dict]:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.one:
        set_threads(args.threads)
        train_run(args.one, args)
        return {}
    failed = 0 if args.report_only else sweep(args)
    summary = report(args)
    if failed:
        raise SystemExit(f"[mog] {failed} runs failed (their .log files say why); the same "
                         "command retries them")
    return summary


if __name__ == "__main__":
    main()
