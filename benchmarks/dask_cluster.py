"""A Dask ``LocalCluster`` on loopback, run in a process of its own.

In a deployment the scheduler and the workers are other pods; here they are
other processes, so that the resident memory of the process measured as the
app holds neither the scheduler's bookkeeping nor any worker's data.
"""

from __future__ import annotations

import multiprocessing
from contextlib import contextmanager

from benchmarks.served import HOST

START_SECONDS = 120.0
STOP_SECONDS = 60.0


@contextmanager
def local_cluster(workers: int, threads: int = 1):
    """Yield the scheduler address of a running cluster; stop it afterwards."""
    spawn = multiprocessing.get_context("spawn")
    addresses, stop = spawn.Queue(), spawn.Event()
    # Not a daemon: the cluster starts worker processes of its own.
    process = spawn.Process(target=_serve, args=(workers, threads, addresses, stop),
                            name="bench-dask-cluster")
    process.start()
    try:
        yield addresses.get(timeout=START_SECONDS)
    finally:
        stop.set()
        process.join(STOP_SECONDS)
        if process.is_alive():
            process.terminate()
            process.join(STOP_SECONDS)


def _serve(workers: int, threads: int, addresses, stop) -> None:
    from distributed import LocalCluster

    with LocalCluster(n_workers=workers, threads_per_worker=threads,
                      processes=True, host=HOST, dashboard_address=None) as cluster:
        addresses.put(cluster.scheduler_address)
        stop.wait()
