"""The vanishing-gradient argument of the paper (its Figure 1), measured.

Real data: a 2-D Gaussian N((0, 0), 0.3^2 I); the current fake data: N((-2.5, 0), 0.3^2 I).
For each discriminator objective (sigmoid cross-entropy, least squares (0, 1, 1), least squares
(-1, 1, 0)) a discriminator is trained on these two sets and then frozen: an MLP 2 -> 128 -> 128
-> 1 with LeakyReLU(0.2) and a linear output (piecewise linear, so far from the data its output
keeps growing instead of flattening out the way a tanh network would; the saturation seen below
is the loss's, not the network's).

Probe "fake" samples are then placed along the x axis, from the fake side, through the decision
boundary, across the real data and far beyond it on the real side. For each probe x the
generator's loss gradient with respect to the sample, || dL_G / dx ||, is what back-propagation
hands to G (dL_G/dtheta = dL_G/dx . dx/dtheta), so a zero here starves G whatever G is.

  * GAN, non-saturating  L_G = -log sigmoid(D(x)):   |dL/dD| = sigmoid(-D(x)) -> 0 as D grows
  * GAN, minimax         L_G = log(1 - sigmoid(D(x))): |dL/dD| = sigmoid(D(x))
  * least squares        L_G = 1/2 (D(x) - c)^2:       |dL/dD| = |D(x) - c|, grows with distance

(The losses are the library's, ``lsgan_tf.losses``; the per-sample gradient is taken of
N x the batch mean.)

Outputs: ``docs/figures/gradients.png`` (gradient-norm field and the direction G is pushed,
per loss, plus the norm along the axis on a log scale) and ``docs/figures/gradients.json``.

  .venv/bin/python -m experiments.gradients
"""
from __future__ import annotations

import argparse
import json
import os
from typing import Dict

import numpy as np

REAL_CENTRE = (0.0, 0.0)
FAKE_CENTRE = (-2.5, 0.0)
SPREAD = 0.3
# D objective -> generator objectives scored with that D.
SETTINGS = {
    "sigmoid cross-entropy": ("ns", ("ns", "minimax")),
    "least squares (0,1,1)": ("ls", ("ls",)),
    "least squares (-1,1,0)": ("pearson", ("pearson",)),
}
G_NAMES = {"ns": "GAN, non-saturating G", "minimax": "GAN, minimax G",
           "ls": "LSGAN (0,1,1)", "pearson": "LSGAN (-1,1,0)"}
PROBE_POSITIONS = (-2.5, 0.0, 1.0, 2.0, 4.0, 8.0)  # x on the axis y = 0


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d_steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default="docs/figures/gradients.png")
    parser.add_argument("--json", default="docs/figures/gradients.json")
    return parser.parse_args(argv)


def build_discriminator(seed: int):
    import keras

    keras.utils.set_random_seed(seed)
    point = keras.Input((2,))
    x = point
    for _ in range(2):
        x = keras.layers.Dense(128)(x)
        x = keras.layers.LeakyReLU(negative_slope=0.2)(x)
    return keras.Model(point, keras.layers.Dense(1)(x))


def train_discriminator(loss_name: str, args):
    """A D trained to convergence-ish on the fixed real and fake sets with ``loss_name``'s L_D."""
    import keras
    import tensorflow as tf

    from lsgan_tf.registry import LOSSES
    import lsgan_tf.losses  # noqa: F401  (registers the losses)

    loss_fn = LOSSES.get(loss_name)(None)
    disc = build_discriminator(args.seed)
    opt = keras.optimizers.Adam(1e-3, beta_1=0.5)
    rng = np.random.default_rng(args.seed)

    @tf.function
    def step(real, fake):
        with tf.GradientTape() as tape:
            d_loss = loss_fn(disc(real), disc(fake)).d_loss
        grads = tape.gradient(d_loss, disc.trainable_variables)
        opt.apply_gradients(zip(grads, disc.trainable_variables))
        return d_loss

    for _ in range(args.d_steps):
        real = rng.normal(REAL_CENTRE, SPREAD, (args.batch, 2)).astype(np.float32)
        fake = rng.normal(FAKE_CENTRE, SPREAD, (args.batch, 2)).astype(np.float32)
        d_loss = float(step(real, fake))
    return disc, loss_fn, d_loss


def per_sample_gradient(disc, g_loss_name: str, points: np.ndarray):
    """(D(x), || dL_G / dx ||) for every probe x (the L_G of ``g_loss_name``)."""
    import tensorflow as tf

    from lsgan_tf.registry import LOSSES

    loss_fn = LOSSES.get(g_loss_name)(None)
    x = tf.constant(points, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        d_fake = disc(x)
        g_loss = loss_fn(tf.zeros_like(d_fake), d_fake).g_loss * float(len(points))
    grad = tape.gradient(g_loss, x).numpy()
    return d_fake.numpy()[:, 0], np.linalg.norm(grad, axis=1), grad


def main(argv=None) -> Dict:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import lsgan_tf.losses  # noqa: F401  (registers the losses)
    from lsgan_tf.registry import LOSSES

    lim_x, lim_y = (-5.0, 9.0), (-4.0, 4.0)
    gx, gy = np.meshgrid(np.linspace(*lim_x, 141), np.linspace(*lim_y, 81))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    axis_x = np.linspace(lim_x[0], lim_x[1], 281).astype(np.float32)
    axis = np.stack([axis_x, np.zeros_like(axis_x)], 1)
    rng = np.random.default_rng(1)
    real = rng.normal(REAL_CENTRE, SPREAD, (200, 2))
    fake = rng.normal(FAKE_CENTRE, SPREAD, (200, 2))

    results = {"setting": {"real": f"N({REAL_CENTRE}, {SPREAD}^2 I)",
                           "fake": f"N({FAKE_CENTRE}, {SPREAD}^2 I)",
                           "discriminator": "MLP 2-128-128-1, LeakyReLU(0.2), linear output",
                           "d_steps": args.d_steps, "batch": args.batch,
                           "probe": "points (x, 0): x = -2.5 fake centre, 0 real centre, "
                                    "x > 0 beyond the real data on the real side"},
               "losses": {}}
    panels = [(d_title, d_loss, g) for d_title, (d_loss, gs) in SETTINGS.items() for g in gs]
    fig, axes = plt.subplots(2, 3, figsize=(13.5, 7.2))
    axes = axes.ravel()
    axes[-1].axis("off")
    for ax, (d_title, d_loss_name, g_name) in zip(axes, panels):
        disc, _, final_d_loss = train_discriminator(d_loss_name, args)
        _, norm, grad = per_sample_gradient(disc, g_name, grid)
        d_axis, norm_axis, _ = per_sample_gradient(disc, g_name, axis)
        a_b = getattr(LOSSES.get(d_loss_name)(None), "labels", None)  # (a, b, c) or None
        boundary = 0.0 if a_b is None else 0.5 * (a_b[0] + a_b[1])
        d_grid = disc(grid).numpy()[:, 0]
        image = ax.imshow(np.log10(norm.reshape(gx.shape) + 1e-12), origin="lower",
                          extent=[*lim_x, *lim_y], cmap="magma", vmin=-6, vmax=2, aspect="auto")
        ax.contour(gx, gy, d_grid.reshape(gx.shape), levels=[boundary], colors="cyan",
                   linewidths=1.2)
        step = 10
        sub = (slice(None, None, step), slice(None, None, step))
        u = -grad[:, 0].reshape(gx.shape)[sub]
        v = -grad[:, 1].reshape(gx.shape)[sub]
        scale = np.hypot(u, v) + 1e-12
        shown = scale > 1e-6  # no arrow where the gradient has vanished
        ax.quiver(gx[sub][shown], gy[sub][shown], (u / scale)[shown], (v / scale)[shown],
                  color="white", alpha=0.6, width=0.004)
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:green", label="real")
        ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:red", label="fake")
        ax.set_title(f"D: {d_title}\nG: {G_NAMES[g_name]}", fontsize=8)
        ax.set_xlim(*lim_x)
        ax.set_ylim(*lim_y)
        fig.colorbar(image, ax=ax, fraction=0.04).set_label("log10 ||dL_G/dx||", fontsize=7)
        probes = {}
        for position in PROBE_POSITIONS:
            i = int(np.argmin(np.abs(axis_x - position)))
            probes[f"{position:g}"] = {"grad_norm": float(norm_axis[i]), "d": float(d_axis[i])}
        results["losses"][f"{d_loss_name}/{g_name}"] = {
            "d_objective": d_title, "g_objective": G_NAMES[g_name], "final_d_loss": final_d_loss,
            "decision_level": boundary, "probes": probes}
        axes[len(panels)].semilogy(axis_x, norm_axis + 1e-12, label=G_NAMES[g_name])
    axes[0].legend(fontsize=7, loc="lower right")
    last = axes[len(panels)]
    last.axvspan(REAL_CENTRE[0] - 2 * SPREAD, REAL_CENTRE[0] + 2 * SPREAD, color="tab:green",
                 alpha=0.2, label="real data")
    last.axvspan(FAKE_CENTRE[0] - 2 * SPREAD, FAKE_CENTRE[0] + 2 * SPREAD, color="tab:red",
                 alpha=0.2, label="fake data")
    last.set_xlabel("probe position x (y = 0)")
    last.set_title("||dL_G/dx|| along the axis", fontsize=8)
    last.legend(fontsize=6)
    last.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.figure)), exist_ok=True)
    fig.savefig(args.figure, dpi=80)
    plt.close(fig)
    with open(args.json, "w") as handle:
        json.dump(results, handle, indent=1)
    print("| G objective (D objective) | " + " | ".join(
        f"x={x:g}" for x in PROBE_POSITIONS) + " |")
    print("|---" * (len(PROBE_POSITIONS) + 1) + "|")
    for entry in results["losses"].values():
        cells = [f"{p['grad_norm']:.2e} (D {p['d']:.1f})"
                 for p in entry["probes"].values()]
        print(f"| {entry['g_objective']} ({entry['d_objective']}) | " + " | ".join(cells) + " |")
    print(f"[gradients] figure {args.figure}, numbers {args.json}")
    return results


if __name__ == "__main__":
    main()
