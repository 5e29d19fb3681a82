"""Micro-DSR end to end on the scenario's feeder, shortened to one afternoon peak (15:00-18:00, 1-minute steps):
DSR against the same run with DSR off, limits and physics, tokens on chain, reproducibility, and the audit."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.capabilities.dsr.audit import audit_folder, rebuild
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
EVENING = {"run.start": dt.datetime(2025, 1, 13, 15, 0), "run.duration_s": 10_800}


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "micro_dsr.toml").with_overrides(EVENING)


@pytest.fixture(scope="module")
def on(scenario, tmp_path_factory):
    return run_scenario(scenario, out=tmp_path_factory.mktemp("dsr") / "on")


@pytest.fixture(scope="module")
def off(scenario):
    return run_scenario(scenario.with_overrides({"dsr.respond": False}))


def test_dsr_lowers_the_peak_and_the_minutes_above_threshold_and_shifts_not_sheds(on, off):
    d_on, d_off = on.summary["dsr"], off.summary["dsr"]
    assert d_off["minutes_above_threshold"] > 0 and d_off["trafo_loading_max_percent"] > 80.0  # congested
    assert d_on["trafo_loading_max_percent"] < d_off["trafo_loading_max_percent"]
    assert d_on["minutes_above_threshold"] < d_off["minutes_above_threshold"]
    assert d_on["delays"] > 0 and d_off["delays"] == 0
    # shifts, not sheds: the on-run serves less only by the heat its thermostatic appliances still owe when the
    # window ends (recovered after it): C * dT per appliance, C = p * tau / |gain| of the first-order model
    served_on, served_off = on.summary["physics"]["feeder_load_kwh"], off.summary["physics"]["feeder_load_kwh"]
    t_on, t_off = on.twin.capability("dsr").fleets.thermo, off.twin.capability("dsr").fleets.thermo
    c_kwh_per_k = t_on.p_w * t_on.tau_min / 60.0 / np.abs(t_on.gain_c) / 1000.0
    owed_kwh = float((np.where(t_on.cooling, 1.0, -1.0) * (t_on.temp_c - t_off.temp_c) * c_kwh_per_k).sum())
    assert abs(served_on + owed_kwh - served_off) / served_off < 0.001
    # the in-run baseline (appliances never held) is exact when nothing is held
    base = off.twin.capability("dsr").series["trafo_loading_no_dsr_percent"]
    assert np.allclose(base, off.twin.recorder.feeder["trafo_loading_percent"])


def test_no_limit_is_broken_jobs_finish_by_their_deadline_temperatures_stay_in_band(on):
    d, cap = on.summary["dsr"], on.twin.capability("dsr")
    assert d["reports_refused"] == 0 and d["limit_violations_in_ledger"] == 0
    assert d["late_jobs"] == 0 and cap.fleets.deferrable.late_jobs() == []
    t = cap.fleets.thermo
    assert (t.temp_max_c <= t.t_max_c).all() and (t.temp_min_c >= t.t_min_c).all()
    delays = rebuild(on.ledger).delays
    by_outlet = {o.address: o for o in cap.outlets}
    for r in delays.itertuples():
        limits = by_outlet[r.outlet].limits
        assert r.delay_min <= limits.max_delay_per_event_min


def test_tokens_on_chain_equal_rate_times_shifted_energy_and_the_balances(on):
    cap = on.twin.capability("dsr")
    flex = cap.flex
    supply = flex.total_supply()
    assert supply > 0
    assert supply == sum(flex.balance_of(c) for c in cap.customers)
    assert supply == on.scenario.dsr.tokens_per_kwh * flex.call("total_shifted_wh")
    assert on.summary["dsr"]["on_chain"]["totals"]["total_supply_units"] == supply
    assert on.summary["dsr"]["tokens_total"] == on.summary["dsr"]["on_chain"]["totals"]["tokens_total"] == supply / 1000


def test_same_seed_same_results(scenario, on):
    again = run_scenario(scenario)
    pd.testing.assert_frame_equal(on.ledger, again.ledger)
    assert on.summary == again.summary
    pd.testing.assert_frame_equal(on.timeseries, again.timeseries)


def test_audit_passes_and_names_a_tampered_event(on, tmp_path):
    folder = on.folder
    passed, table, problems = audit_folder(folder)
    assert passed, problems
    assert len(table) == on.summary["dsr"]["households"] and table.delay_min.sum() == on.summary["dsr"]["delay_min"]
    cli = [sys.executable, "-m", "sim.cli", "audit"]
    ok = subprocess.run([*cli, str(folder)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0 and "audit passed" in ok.stdout and "Jain" in ok.stdout

    tampered = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(folder), str(tampered)], check=True)
    ledger = pd.read_parquet(tampered / "ledger.parquet")
    i = ledger.index[ledger.event == "DelayLogged"][len(ledger.index[ledger.event == "DelayLogged"]) // 2]
    args = json.loads(ledger.at[i, "args"])
    args["delay_min"] += 1  # one more minute for one customer
    ledger.at[i, "args"] = json.dumps(args, sort_keys=True)
    ledger.to_parquet(tampered / "ledger.parquet", index=False)
    bad = subprocess.run([*cli, str(tampered)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    name = f"DelayLogged at block {ledger.at[i, 'block']} log {ledger.at[i, 'log_index']}"
    assert f"MISMATCH: {name}" in bad.stdout and "hash chain broken" in bad.stdout
    assert "delay_min from the ledger" in bad.stdout  # and the customer's total no longer matches the contract


def test_audit_fails_on_an_edited_readings_table(on, tmp_path):
    tampered = tmp_path / "tampered"
    subprocess.run(["cp", "-r", str(on.folder), str(tampered)], check=True)
    readings = pd.read_parquet(tampered / "readings.parquet")
    readings.drop(index=readings.index[0]).to_parquet(tampered / "readings.parquet", index=False)
    passed, _, problems = audit_folder(tampered)
    assert not passed and problems == ["readings.parquet: sha256 differs from the manifest's: edited after the run"]
