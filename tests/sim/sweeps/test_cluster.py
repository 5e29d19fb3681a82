"""The sweep's own cluster: nothing listens on dask's dashboard port or on any interface but the loopback, no
HTTP port is left open by the scheduler, and a client without the cluster's certificate cannot connect (neither
plain TCP nor TLS without the certificate), while the sweep's own client runs its tasks."""

from __future__ import annotations

import socket

import psutil
import pytest
from dask.distributed import Client

from sim.sweeps.cluster import local_cluster


def _listening(pids) -> list[tuple[int, str, int]]:
    out = []
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        out += [(pid, c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def _add(x: int) -> int:
    return x + 1


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as c:
        yield c


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def test_no_dashboard_and_loopback_only(cluster):
    with Client(cluster) as client:
        assert client.submit(_add, 1).result(timeout=60) == 2
        me = psutil.Process()
        ports = _listening([me.pid] + [p.pid for p in me.children(recursive=True)])
        workers = client.scheduler_info()["workers"]
    assert ports and all(ip == "127.0.0.1" for _, ip, _ in ports), ports
    assert all(port != 8787 for _, _, port in ports), ports
    comms = {_port(cluster.scheduler_address)} | {_port(n.address) for n in cluster.workers.values()} \
        | {_port(a) for a in workers}  # scheduler, nannies, workers: TLS only
    assert all(a.startswith("tls://127.0.0.1:") for a in [cluster.scheduler_address, *workers])
    http = {w["services"]["dashboard"] for w in workers.values() if "dashboard" in w.get("services", {})}
    assert {p for _, _, p in ports} == comms | http  # the scheduler's HTTP server stopped: no port of its own
    for port in http:  # a worker's HTTP server (dask always starts one) serves no page at all
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.1 404")
    assert http  # dask starts one per worker: each checked above


def test_a_client_without_the_certificate_is_refused(cluster):
    address = cluster.scheduler_address
    for attempt in (address.replace("tls://", "tcp://"), address):
        with pytest.raises((OSError, TypeError)):  # TypeError: dask's "TLS expects a ssl_context" (no certificate)
            with Client(attempt, timeout=3) as c:
                c.submit(_add, 1).result(timeout=3)
    host, port = address.removeprefix("tls://").rsplit(":", 1)
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # a TLS client that trusts anything, but has no cert
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw) as tls:  # TLS 1.3: the server checks the client's certificate after this
                tls.sendall(b"\x00" * 8)
                answer = tls.recv(1)
        except TimeoutError:
            pytest.fail("the scheduler kept a client without a certificate connected")
        except (ssl.SSLError, ConnectionError) as exc:  # refused: "certificate required" alert, or reset
            answer = exc
    assert answer == b"" or isinstance(answer, (ssl.SSLError, ConnectionError)), answer
