"""The sweep's own dask cluster: on the loopback interface only, with no HTTP server left listening (no
dashboard, no health or metrics pages), and TLS with mutual authentication under a certificate made for this
cluster alone, so that another local user's process can neither submit code to the scheduler nor reach a worker.

Why each step: dask's scheduler starts an HTTP server even with ``dashboard_address=None`` (on port 8787, its
default; the dashboard's bokeh pages off, the JSON and Prometheus routes on), so the scheduler's routes are
emptied and its server stopped once the cluster is up; the workers' HTTP servers (a random loopback port each)
serve no route (``distributed.worker.http.routes`` empty, handed to the worker processes by their nannies). The
scheduler's and workers' comms accept only TLS clients that present a certificate signed by the cluster's
temporary CA (``Security.temporary()``, kept in memory, never written to disk): a plain ``tcp://`` client, or a
TLS client without that certificate, is refused at the handshake.

What remains (docs/reliability.md, "Sweeps: the dask cluster"): a local user who can read this process's memory
(root, or the same user: ptrace) can take the key; the ports are visible. A scheduler given by
``--scheduler ADDRESS`` is the operator's own cluster: its security is theirs (``dask`` configuration
``distributed.comm.tls``).
"""

from __future__ import annotations

from contextlib import contextmanager

QUIET_HTTP = {"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}


@contextmanager
def local_cluster(workers: int):
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes (see the module doc); closed on exit.
    ``Client(cluster)`` takes the cluster's security."""
    import dask
    from dask.distributed import LocalCluster
    from distributed.security import Security

    with dask.config.set(QUIET_HTTP):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               protocol="tls://", security=Security.temporary(), dashboard_address="127.0.0.1:0",
                               scheduler_kwargs={"dashboard": False})
    try:
        async def stop_http() -> None:  # on the cluster's loop: no route served, and now no port either
            cluster.scheduler.http_server.stop()

        cluster.sync(stop_http)
        yield cluster
    finally:
        cluster.close()
