"""``lsgan prep --runner=dask``: what a lost dask worker leaves, said in one line.

dask.distributed runs the tasks of a worker that dies (killed, out of memory, its machine gone)
again on the workers left, up to ``distributed.scheduler.allowed-failures`` deaths per task (3
by default). A retried task of ``WritePrepared`` rewrites its shard whole and ``stats.json``
is written last, from counts made from the data, so the output is then the DirectRunner's,
byte for byte (``tests/data_prep/test_dask_worker_loss.py``). When dask gives up on a task
(``distributed.scheduler.KilledWorker``) the pipeline stops before ``stats.json`` is written,
and every reader of prepared data refuses the output; ``worker_loss(error, output_dir)`` is then
the one line ``lsgan prep`` prints instead of dask's traceback (exit status 1: a fault at run
time, not a bad input).
"""
from __future__ import annotations

from typing import Optional


def _killed_worker_type():
    try:
        from distributed.scheduler import KilledWorker
    except ImportError:  # no dask installed: no dask run could have lost a worker
        return None
    return KilledWorker


def worker_loss(error: BaseException, output_dir: str) -> Optional[str]:
    """The one line for ``error`` when it (or an exception in its chain) is dask's
    ``KilledWorker``, else None."""
    killed_worker = _killed_worker_type()
    seen = set()
    while killed_worker is not None and error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, killed_worker):
            address = getattr(error.last_worker, "address", error.last_worker)
            deaths = error.allowed_failures + 1
            return (f"dask gave up on a task after {deaths} worker(s) died running it (the "
                    f"last: {address}; distributed.scheduler.allowed-failures="
                    f"{error.allowed_failures}); nothing was published: {output_dir} has no "
                    f"stats.json, so every reader refuses it. See the workers' logs (memory?), "
                    f"then run the same command again with --overwrite")
        error = error.__cause__ or error.__context__
    return None
