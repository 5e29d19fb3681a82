"""The shipped mosaik scenario: mosaik-csv 2.0.1 (a simulator gridledger did not write) feeds measured PV into
gridledger's meters for a day under mosaik 3.6, gridledger settles on chain, and mosaik's own OutputSimulator
collects the ledger's outputs. The same file run natively (the groups' ``pv_file``, sim/files/profiles.py) gives
the identical chain: the same decoded events (blocks, transactions, arguments), the same readings log, the same
settlement summary. Both simulators run in-process: no socket is opened (bind and connect fail in this test)."""

from __future__ import annotations

import json
import socket

import numpy as np
import pandas as pd
import pytest

from sim.cosim.world import run_csv_world
from sim.runner import run_scenario
from tests.conftest import ROOT

HERE = ROOT / "scenarios" / "mosaik"
SCENARIO, CSV = HERE / "pv_day.toml", HERE / "measured_pv.csv"
NATIVE = {"population.0.pv_file": str(CSV), "population.1.pv_file": str(CSV)}


def _no_sockets(*args, **kwargs):
    raise AssertionError("the in-process mosaik world opened a socket")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("cosim")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "bind", _no_sockets)
        mp.setattr(socket.socket, "connect", _no_sockets)
        co = run_csv_world(SCENARIO, CSV, out=root / "mosaik")
    run_scenario(SCENARIO, overrides=NATIVE, out=root / "native")
    return co, root / "mosaik", root / "native"


def _read(folder, name):
    return pd.read_parquet(folder / f"{name}.parquet")


@pytest.mark.slow
def test_the_mosaik_run_settles_the_day_on_chain_as_the_native_run(runs):
    co, mosaik, native = runs
    ledger = _read(mosaik, "ledger")
    assert (ledger.event == "PeriodSettled").sum() == 24  # every hour of the day settled on chain
    pd.testing.assert_frame_equal(ledger, _read(native, "ledger"))  # event for event: block, tx hash, args
    pd.testing.assert_frame_equal(_read(mosaik, "readings"), _read(native, "readings"))
    s_co, s_native = (json.loads((f / "summary.json").read_text()) for f in (mosaik, native))
    for part in ("vpp", "vee", "chain"):
        assert s_co[part] == s_native[part], part
    assert s_co["vpp"]["periods_settled"] == 24 and s_co["vpp"]["money_conserved_every_period"]


@pytest.mark.slow
def test_the_meters_got_the_files_power_step_by_step(runs):
    """mosaik hands each row's value as it is; the native path averages the file onto the run's steps
    (``interval_means``: a cumulative sum and its differences), equal to it within float round-off."""
    _, mosaik, native = runs
    file = pd.read_csv(CSV)
    for folder, atol in ((mosaik, 0.0), (native, 1e-9)):
        ts = _read(folder, "timeseries")
        pv = ts[ts.quantity == "pv_kw"].pivot(index="time", columns="entity", values="value")
        for pid in pv.columns:
            np.testing.assert_allclose(pv[pid].to_numpy(), file[f"{pid}_p_kw"].to_numpy(), rtol=0, atol=atol)
    a, b = _read(mosaik, "timeseries"), _read(native, "timeseries")
    assert a[["time", "entity", "quantity", "unit"]].equals(b[["time", "entity", "quantity", "unit"]])
    np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-9)


@pytest.mark.slow
def test_the_ledger_and_meter_outputs_mosaik_collected_are_the_chains(runs):
    co, mosaik, _ = runs
    summary = co["summary"]
    vpp = summary["vpp"]
    assert co["ledger"]["settled_periods"] == 24
    assert co["ledger"]["block_number"] == summary["chain"]["blocks"]
    for pid, detail in vpp["member_detail"].items():
        assert co["meters"][pid]["balance_eur"] == pytest.approx(detail["token_balance_eur"], abs=1e-6)
        assert co["ledger"]["balances_eur"][f"prosumer/{pid}"] == co["meters"][pid]["balance_eur"]
        assert co["meters"][pid]["reading_period"] == 23
    readings = _read(mosaik, "readings")
    last = readings[readings.period == 23].set_index("meter").energy_wh
    assert {pid: co["meters"][pid]["reading_wh"] for pid in vpp["member_detail"]} == \
        {pid: int(last[f"meter/{pid}"]) for pid in vpp["member_detail"]}


@pytest.mark.slow
def test_the_results_folder_says_mosaik_fed_it(runs):
    co, mosaik, _ = runs
    manifest = json.loads((mosaik / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["run_id"].endswith("-mosaik")
    fed = manifest["mosaik"]["fed_by"]
    assert fed["simulator"].startswith("mosaik-csv 2.0.1") and fed["datafile"] == str(CSV)
    assert set(fed["pv_p_kw"]) == set(co["summary"]["vpp"]["member_detail"])
    assert manifest["mosaik"]["packages"]["mosaik"] == "3.6.0"
