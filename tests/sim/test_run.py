"""End-to-end runs of the VPP scenario (small feeder, one day): money, physics, results folder, reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.capabilities.vpp.spec import member_ids
from sim.results.folder import ResultsExistError
from sim.results.summary import event_args
from sim.runner import run_scenario

pytestmark = pytest.mark.slow


def test_results_folder_is_complete_and_whole(small_run):
    folder = small_run.folder
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    for name in ("timeseries.parquet", "ledger.parquet", "summary.json", "report.html", "readings.parquet",
                 "plots/feeder_power.png", "plots/vpp_declared_vs_delivered.png", "plots/vpp_payouts_per_member.png"):
        assert name in manifest["files"]
    assert manifest["scenario_sha256"] == small_run.scenario.digest()
    assert set(manifest["contracts"]) == {"EuroToken", "VppSettlement"}
    ts = pd.read_parquet(folder / "timeseries.parquet")
    assert list(ts.columns) == ["time", "entity", "quantity", "value", "unit"]
    ledger = pd.read_parquet(folder / "ledger.parquet")
    assert list(ledger.columns) == ["block", "log_index", "tx_hash", "contract", "address", "event", "args"]
    assert json.loads((folder / "summary.json").read_text())["vpp"]["periods_settled"] == 24


def test_money_is_conserved_per_period_and_read_from_chain(small_run):
    ledger = small_run.ledger
    settled = event_args(ledger, "VppSettlement", "PeriodSettled")
    payouts = event_args(ledger, "VppSettlement", "Payout")
    assert len(settled) == small_run.scenario.n_periods
    paid = payouts.groupby("period").amount_ueur.sum()
    for row in settled.itertuples():
        assert paid[row.period] == row.revenue_ueur + row.penalties_ueur == row.paid_ueur
    assert settled.revenue_ueur.sum() > 0
    # every member's balance, read from the token contract, is what the ledger paid it (collateral is on deposit)
    twin = small_run.twin
    vpp, token = twin.capability("vpp").vpp, twin.bank.token
    penalties = event_args(ledger, "VppSettlement", "Penalty")
    for member in member_ids(small_run.scenario):
        address = twin.accounts[member]
        on_chain = token.balance_of(address)
        from_ledger = int(payouts[payouts.member == address].amount_ueur.sum())
        assert on_chain == from_ledger
        assert small_run.summary["vpp"]["member_detail"][member]["token_balance_eur"] == on_chain / 1e6
        pen = int(penalties[penalties.member == address].amount_ueur.sum()) if len(penalties) else 0
        assert vpp.collateral_ueur(address) == 50_000_000 - pen


def test_feeder_energy_balance_every_step(small_run):
    f = small_run.twin.recorder.feeder
    balance = f["load_p_kw"] - f["sgen_p_kw"] + f["storage_p_kw"] + f["losses_kw"] - f["slack_p_kw"]
    assert np.abs(balance).max() < 1e-3  # kW; solver tolerance 1e-8 MVA on a 0.4 kV feeder
    assert (f["losses_kw"] > 0).all()


def test_delivered_energy_is_the_integral_of_metered_power(small_run):
    twin = small_run.twin
    export_kw = twin.recorder.prosumer["export_kw"]
    dt_h = twin.step_s / 3600
    spp = twin.steps_per_period
    accepted = event_args(small_run.ledger, "VppSettlement", "ReadingAccepted")
    for j, member in enumerate(member_ids(small_run.scenario)):
        address = twin.accounts[member]
        on_chain = accepted[accepted.member == address].sort_values("period").energy_wh.to_numpy()
        integral_wh = np.cumsum(np.clip(export_kw[:, j], 0, None) * dt_h * 1000)
        at_close = integral_wh[spp - 1 :: spp]  # register read in whole Wh, nothing lost; a period that closes
        # on a whole Wh (constant export of 0.243 kW: 243 Wh) may read either side of it by float rounding
        assert (np.floor(at_close - 1e-9) <= np.cumsum(on_chain)).all()
        assert (np.cumsum(on_chain) <= np.floor(at_close + 1e-9)).all()
        assert abs(on_chain.sum() - integral_wh[-1]) < 1.0


def test_battery_state_stays_within_limits(small_run):
    soc = small_run.twin.recorder.prosumer["soc_kwh"]
    caps = np.array([float(p.limits.capacity_kwh) for p in small_run.twin.prosumers])
    assert (soc >= -1e-9).all() and (soc <= caps + 1e-9).all()


def test_same_seed_same_results_other_seed_differs(small_scenario, small_run, tmp_path):
    again = run_scenario(small_scenario, out=tmp_path / "again")
    pd.testing.assert_frame_equal(small_run.timeseries, again.timeseries)
    pd.testing.assert_frame_equal(small_run.ledger, again.ledger)
    assert small_run.summary == again.summary
    for name in ("timeseries.parquet", "ledger.parquet", "summary.json"):
        assert (small_run.folder / name).read_bytes() == (tmp_path / "again" / name).read_bytes()
    other = run_scenario(small_scenario, seed=small_scenario.run.seed + 1)
    assert not small_run.timeseries["value"].equals(other.timeseries["value"])
    assert small_run.summary["vpp"]["delivered_kwh"] != other.summary["vpp"]["delivered_kwh"]


def test_out_onto_complete_refuses_without_force(small_scenario, small_run):
    with pytest.raises(ResultsExistError, match="--force"):
        run_scenario(small_scenario, out=small_run.folder)


def test_failed_run_leaves_an_incomplete_folder_and_rerun_replaces_it(small_scenario, tmp_path, monkeypatch):
    from sim import twin as twin_module

    def boom(self):
        raise RuntimeError("power cut in the lab")

    monkeypatch.setattr(twin_module.Twin, "run", boom)
    out = tmp_path / "broken"
    with pytest.raises(RuntimeError, match="power cut"):
        run_scenario(small_scenario.with_overrides({"run.duration_s": 7200}), out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and "power cut" in manifest["error"]
    monkeypatch.undo()
    done = run_scenario(small_scenario.with_overrides({"run.duration_s": 7200}), out=out)
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert done.summary["vpp"]["periods_settled"] == 2
    forced = run_scenario(small_scenario.with_overrides({"run.duration_s": 7200}), out=out, force=True)
    assert forced.folder == out
