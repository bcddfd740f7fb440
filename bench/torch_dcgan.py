"""The dcgan networks and training step of ``lsgan_tf`` in PyTorch, for ``bench.train_throughput``.

Imports only the standard library and ``torch`` (no TensorFlow, no ``lsgan_tf``): it runs in its
own virtualenv (``make torch-venv``, ``runs/torch-venv``), started by ``bench.train_throughput``
as a worker that answers one JSON line per command on stdin:

    python -m bench.torch_dcgan --image_size 64 --g_width 64 --d_width 64 --batch 64 --cpus 0
    -> {"ready": true, "torch": "2.x", "device": "cpu", "rows": ["torch-float32", ...]}
    {"cmd": "run", "row": "torch-bf16", "warmup": 2, "steps": 5}  -> {"row": ..., "seconds": ...}
    {"cmd": "peak", "size": 4096}                                  -> {"peaks": {"float32": GFLOP/s, ...}}
    {"cmd": "quit"}

The layers mirror ``lsgan_tf/models/dcgan.py`` (and ``models/layers.py``) one for one:
  G: Linear(z, 4*4*top) (no bias with BN), BatchNorm1d, ReLU, view [top, 4, 4]; n-1 x
     (ConvTranspose2d 5x5 stride 2 halving the width, no bias with BN, BatchNorm2d, ReLU);
     ConvTranspose2d 5x5/2 to ``channels`` (bias), tanh. top = width * 2^(n-1),
     n = log2(image_size / 4). ``padding=2, output_padding=1`` doubles the size as Keras'
     ``padding="same"`` does.
  D: Conv2d 5x5/2 width (bias), LeakyReLU 0.2; n-1 x (Conv2d 5x5/2 doubling the width, no bias
     with BN, BatchNorm2d, LeakyReLU 0.2); flatten, Linear(1).
  Weights N(0, 0.02), biases 0; batch norm momentum 0.1 (Keras' 0.9) and epsilon 1e-5.
Two layout differences that change no FLOP count: PyTorch is NCHW (Keras NHWC), so G's dense
units map to [top, 4, 4] instead of [4, 4, top]; and a stride-2 5x5 "same" convolution pads
(1, 2) in Keras, (2, 2) here.

The step is ``lsgan_tf.gan_task.GanTask``'s alternating one with least-squares labels
(a, b, c) = (0, 1, 1): D step on D(x) and D(G(z_d)) (G's forward without autograd, as the
TensorFlow graph prunes it), then G step on D(G(z_g)) with D's weights frozen
(``requires_grad_(False)``, so no D weight gradients are computed, as in the TensorFlow graph);
Adam for each. ``torch-bf16`` runs the forward passes under ``torch.autocast(dtype=bfloat16)``,
``torch-fp16`` (CUDA only) under float16 autocast with a ``GradScaler``; the losses are float32.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image_size", type=int, default=64)
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--z_dim", type=int, default=100)
    parser.add_argument("--noise", default="uniform", choices=["uniform", "normal"])
    parser.add_argument("--g_width", type=int, default=64)
    parser.add_argument("--d_width", type=int, default=64)
    parser.add_argument("--g_batchnorm", type=int, default=1)
    parser.add_argument("--d_batchnorm", type=int, default=1)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr_d", type=float, default=2e-4)
    parser.add_argument("--lr_g", type=float, default=2e-4)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--beta2", type=float, default=0.999)
    parser.add_argument("--epsilon", type=float, default=1e-7)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cpus", default="", help="comma-separated CPU ids to pin to")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def pin(threads: int, cpus: str) -> None:
    """Pins this process to ``cpus`` and sizes PyTorch's thread pools; before torch is used."""
    if cpus and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def build(args):
    """(generator, discriminator) as in ``lsgan_tf/models/dcgan.py``."""
    import torch
    from torch import nn

    sizes = {32: 3, 64: 4, 128: 5}
    if args.image_size not in sizes:
        raise ValueError(f"dcgan builds 32, 64, 128, got {args.image_size}")
    n = sizes[args.image_size]
    top = args.g_width * 2 ** (n - 1)
    g_bn, d_bn = bool(args.g_batchnorm), bool(args.d_batchnorm)

    def bn2d(c):
        return nn.BatchNorm2d(c, eps=1e-5, momentum=0.1)

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense = nn.Linear(args.z_dim, 16 * top, bias=not g_bn)
            self.bn = nn.BatchNorm1d(16 * top, eps=1e-5, momentum=0.1) if g_bn else nn.Identity()
            layers, width = [], top
            for i in range(n - 1):
                out = top // 2 ** (i + 1)
                layers += [nn.ConvTranspose2d(width, out, 5, 2, padding=2, output_padding=1,
                                              bias=not g_bn),
                           bn2d(out) if g_bn else nn.Identity(), nn.ReLU()]
                width = out
            layers += [nn.ConvTranspose2d(width, args.channels, 5, 2, padding=2,
                                          output_padding=1), nn.Tanh()]
            self.blocks = nn.Sequential(*layers)

        def forward(self, z):
            x = torch.relu(self.bn(self.dense(z)))
            return self.blocks(x.view(-1, top, 4, 4))

    d_layers = [nn.Conv2d(args.channels, args.d_width, 5, 2, padding=2), nn.LeakyReLU(0.2)]
    for i in range(1, n):
        d_layers += [nn.Conv2d(args.d_width * 2 ** (i - 1), args.d_width * 2 ** i, 5, 2,
                               padding=2, bias=not d_bn),
                     bn2d(args.d_width * 2 ** i) if d_bn else nn.Identity(), nn.LeakyReLU(0.2)]
    side = args.image_size // 2 ** n
    d_layers += [nn.Flatten(), nn.Linear(args.d_width * 2 ** (n - 1) * side * side, 1)]
    discriminator = nn.Sequential(*d_layers)
    generator = Generator()
    for module in list(generator.modules()) + list(discriminator.modules()):
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return generator, discriminator


class TorchRow:
    """One row: its own networks, optimisers and fixed in-memory batch on ``device``."""

    def __init__(self, args, device: str, dtype):
        import torch

        torch.manual_seed(args.seed)
        self.device, self.dtype = device, dtype
        self.generator, self.discriminator = (m.to(device) for m in build(args))
        self.generator.train()
        self.discriminator.train()
        betas = (args.beta1, args.beta2)
        self.opt_d = torch.optim.Adam(self.discriminator.parameters(), args.lr_d, betas=betas,
                                      eps=args.epsilon)
        self.opt_g = torch.optim.Adam(self.generator.parameters(), args.lr_g, betas=betas,
                                      eps=args.epsilon)
        gen = torch.Generator().manual_seed(args.seed)
        shape = (args.batch, args.channels, args.image_size, args.image_size)
        self.real = (torch.rand(shape, generator=gen) * 2 - 1).to(device)

        def noise():
            if args.noise == "uniform":
                return torch.rand((args.batch, args.z_dim), generator=gen) * 2 - 1
            return torch.randn((args.batch, args.z_dim), generator=gen)
        self.z_d, self.z_g = noise().to(device), noise().to(device)
        self.scaler = (torch.amp.GradScaler("cuda") if dtype == torch.float16 else None)
        self.last = None

    def _autocast(self):
        import contextlib

        import torch
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device, dtype=self.dtype)

    def _backward_step(self, loss, optimizer):
        if self.scaler is None:
            loss.backward()
            optimizer.step()
        else:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()

    def step(self):
        import torch

        generator, discriminator = self.generator, self.discriminator
        with self._autocast():
            with torch.no_grad():
                fake = generator(self.z_d)
            d_real = discriminator(self.real).float()
            d_fake = discriminator(fake).float()
            d_loss = 0.5 * ((d_real - 1.0) ** 2).mean() + 0.5 * (d_fake ** 2).mean()
        self.opt_d.zero_grad(set_to_none=True)
        self._backward_step(d_loss, self.opt_d)
        discriminator.requires_grad_(False)
        with self._autocast():
            d_fake_g = discriminator(generator(self.z_g)).float()
            g_loss = 0.5 * ((d_fake_g - 1.0) ** 2).mean()
        self.opt_g.zero_grad(set_to_none=True)
        self._backward_step(g_loss, self.opt_g)
        discriminator.requires_grad_(True)
        self.last = (d_loss, g_loss)

    def sync(self) -> float:
        import torch
        if self.device == "cuda":
            torch.cuda.synchronize()
        return float(self.last[0].item())

    def run(self, warmup: int, steps: int) -> float:
        """Seconds per step over ``steps`` steps after ``warmup`` untimed ones (and
        ``cpu_share``: this process's CPU time over the wall time of those steps)."""
        for _ in range(warmup):
            self.step()
        self.sync()
        start, cpu = time.perf_counter(), time.process_time()
        for _ in range(steps):
            self.step()
        loss = self.sync()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if not math.isfinite(loss):
            raise FloatingPointError(f"d_loss {loss}")
        self.cpu_share = cpu / wall if wall > 0 else None
        return wall / steps


def matmul_peak(device: str, dtype, size: int, min_seconds: float = 0.5) -> float:
    """GFLOP/s of ``size`` x ``size`` matmuls (2 n^3 FLOPs each)."""
    import torch

    a = torch.rand((size, size), device=device).to(dtype)
    b = torch.rand((size, size), device=device).to(dtype)

    def timed(count):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(count):
            c = a @ b
        float(c[0, 0])
        return time.perf_counter() - start

    timed(1)
    once = max(timed(1), 1e-6)
    count = max(2, int(min_seconds / once))
    return 2.0 * size ** 3 * count / timed(count) / 1e9


def main(argv=None) -> int:
    args = parse_args(argv)
    pin(args.threads, args.cpus)
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(args.threads)
    except RuntimeError:
        pass
    cuda = torch.cuda.is_available() and args.device != "cpu"
    if args.device == "gpu" and not cuda:
        raise SystemExit("torch_dcgan: --device gpu but torch.cuda.is_available() is False")
    device = "cuda" if cuda else "cpu"
    precisions = {"torch-float32": None, "torch-bf16": torch.bfloat16}
    if cuda:
        precisions["torch-fp16"] = torch.float16
    rows = {name: TorchRow(args, device, dtype) for name, dtype in precisions.items()}
    name = torch.cuda.get_device_name(0) if cuda else "cpu"
    out = sys.stdout

    def reply(obj):
        out.write(json.dumps(obj) + "\n")
        out.flush()

    reply({"ready": True, "torch": torch.__version__, "device": device, "device_name": name,
           "threads": torch.get_num_threads(), "rows": list(rows),
           "mkldnn_bf16": bool(getattr(torch.backends.mkldnn, "is_available", lambda: 0)())})
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        try:
            if command["cmd"] == "run":
                row = rows[command["row"]]
                seconds = row.run(command["warmup"], command["steps"])
                reply({"row": command["row"], "seconds": seconds, "cpu_share": row.cpu_share})
            elif command["cmd"] == "peak":
                peaks = {"float32": matmul_peak(device, torch.float32, command["size"]),
                         "bfloat16": matmul_peak(device, torch.bfloat16, command["size"])}
                if cuda:
                    peaks["float16"] = matmul_peak(device, torch.float16, command["size"])
                reply({"peaks": peaks})
            elif command["cmd"] == "quit":
                break
            else:
                reply({"error": f"unknown command {command['cmd']!r}"})
        except Exception as error:  # reported to the parent, which prints the row as failed
            reply({"error": f"{type(error).__name__}: {error}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
