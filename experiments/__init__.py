"""The paper's experiments, run again and measured (see docs/RESULTS.md): the MoG stability
study, training without batch norm, the gradient argument, the HWDB characters and the FID
sweep beside Lucic et al. Throughput benchmarks live in ``bench/``."""
