"""Sweeps on dask.distributed: 4 tariff designs x 4 seeds, restart skips, a killed worker costs a retry, and
1 or 2 workers give identical KPIs."""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import pandas as pd
import pytest

from sim.sweeps.sweep import load_sweep, plan, run_sweep
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
TARIFFS = ROOT / "scenarios" / "tariffs"


def _sweep_file(tmp_path):
    """The tariff sweep of scenarios/tariffs, shrunk to 3 h on a small feeder so the test stays short."""
    text = (TARIFFS / "sweep.toml").read_text().replace('scenario = "', f'scenario = "{TARIFFS}/')
    text = text.replace("[sweep]\n", "[sweep]\noverrides = { \"run.start\" = 2025-06-02T09:00:00, \"run.duration_s\" = 10800, \"feeder.network\" = "
                                      "\"kerber_landnetz_kabel_2\", \"population.0.count\" = 4, "
                                      "\"population.1.count\" = 2 }\n", 1)
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    return path


def _kpis(table: pd.DataFrame) -> pd.DataFrame:
    return table.drop(columns=[c for c in table.columns if c.startswith("timings")]).reset_index(drop=True)


def test_plan_uses_common_seeds_and_validates_every_point(tmp_path):
    spec, folder = load_sweep(_sweep_file(tmp_path))
    runs = plan(spec, folder)
    assert len(runs) == 16
    seeds = {p: [r.seed for r in runs if r.point == p] for p in ("flat", "time_of_use", "dynamic", "day_ahead")}
    assert seeds["flat"] == seeds["time_of_use"] == seeds["dynamic"] == seeds["day_ahead"]
    assert len(set(seeds["flat"])) == 4


def test_sweep_restart_worker_death_and_worker_count(tmp_path):
    sweep = _sweep_file(tmp_path)
    a = run_sweep(sweep, tmp_path / "a", workers=2)
    assert len(a) == 16 and a.point.value_counts().to_dict() == {"day_ahead": 4, "dynamic": 4, "flat": 4,
                                                                  "time_of_use": 4}
    assert pd.read_parquet(tmp_path / "a" / "sweep.parquet").equals(a)
    assert (a["vpp.periods_settled"] == 3).all()
    assert a.groupby("point")["vpp.revenue_eur"].mean().nunique() == 4  # the designs differ

    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("*/summary.json")}
    again = run_sweep(sweep, tmp_path / "a", workers=2)
    assert json.loads((tmp_path / "a" / "sweep.json").read_text())["skipped"] == 16
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "a").glob("*/summary.json")} == stamps
    pd.testing.assert_frame_equal(_kpis(again), _kpis(a))

    one = run_sweep(sweep, tmp_path / "one", workers=1)
    pd.testing.assert_frame_equal(_kpis(one), _kpis(a))

    from dask.distributed import Client

    from sim.sweeps.cluster import local_cluster

    with local_cluster(2) as cluster, Client(cluster) as client:
        box: dict = {}
        t = threading.Thread(target=lambda: box.setdefault("table", run_sweep(sweep, tmp_path / "k", client=client)))
        t.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any((tmp_path / "k").glob("*/manifest.json")):
            time.sleep(0.05)
        pids = client.run(os.getpid)
        os.kill(next(iter(pids.values())), signal.SIGKILL)  # a worker dies mid-sweep
        t.join(timeout=600)
        assert not t.is_alive()
    killed = box["table"]
    assert len(killed) == 16
    pd.testing.assert_frame_equal(_kpis(killed), _kpis(a))


def test_sweep_on_an_existing_scheduler_by_address(tmp_path):
    """``--scheduler ADDRESS``: the operator's own cluster (here a plain TCP one on the loopback) still runs it."""
    from dask.distributed import LocalCluster

    text = _sweep_file(tmp_path).read_text().replace("seeds = 4", "seeds = 1")
    sweep = tmp_path / "one_seed.toml"
    sweep.write_text(text)
    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address="127.0.0.1:0") as c:
        assert c.scheduler_address.startswith("tcp://127.0.0.1:")
        table = run_sweep(sweep, tmp_path / "s", scheduler=c.scheduler_address)
    assert len(table) == 4 and (table["vpp.periods_settled"] == 3).all()
