"""Throughput benchmarks: our training step, input pipeline and Beam preparation against the
alternatives a user would pick (PyTorch, Keras fit, a plain loop), in one run each; see
docs/PERFORMANCE.md. The paper's experiments live in ``experiments/``."""
