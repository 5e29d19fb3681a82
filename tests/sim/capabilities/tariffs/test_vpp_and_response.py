"""Bills with a VPP (its payouts and penalties are lines of the bill, read from the chain; a member's export is
sold by the VPP, not credited by the tariff) and the customers' response to a time-of-use design."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
STUDY = ROOT / "scenarios" / "tariffs" / "study"
SMALL = {"run.duration_s": 86_400, "feeder.network": "kerber_landnetz_kabel_2", "population.0.count": 4,
         "population.1.count": 2, "vpp.members": ["pv-only-01", "pv-only-02"], "tariff.billing_period": "day"}


def test_vpp_lines_on_the_bill(tmp_path):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    folder = run_scenario(load_scenario(STUDY / "community.toml").with_overrides(SMALL), out=tmp_path / "r").folder
    bills = pd.read_parquet(folder / "bills.parquet").set_index("household")
    summary = json.loads((folder / "summary.json").read_text())
    members = summary["vpp"]["member_detail"]  # the VPP capability's own reading of its events
    assert set(members) == {"pv-only-01", "pv-only-02"}
    for h, m in members.items():
        assert m["payouts_eur"] > 0
        assert bills.loc[h, "vpp_payouts_eur"] == pytest.approx(-m["payouts_eur"], abs=1e-6)
        assert bills.loc[h, "vpp_penalties_eur"] == pytest.approx(m["penalties_eur"], abs=1e-6)
        assert bills.loc[h, "energy_out_eur"] == 0 and bills.loc[h, "shared_export_kwh"] == 0
        assert bills.loc[h, "export_kwh"] > 0  # metered, sold by the VPP
    others = bills[~bills.index.isin(members)]
    assert (others.energy_out_eur < 0).any() and others.shared_export_kwh.sum() > 0
    total = (bills.payable_eur * 100).round() + (bills.vpp_payouts_eur * 100).round() \
        + (bills.vpp_penalties_eur * 100).round()
    assert ((bills.total_eur * 100).round() == total).all()
    assert summary["tariffs"]["bills_reconciled_on_chain"] is True


def test_batteries_answer_time_of_use(tmp_path):
    """Under response = "battery_naive" (charging at full power in every cheap period) the battery households (outside the VPP) import more in the cheap night bands
    (charging) and not more in the weekday evening peak than under response = "none", the same seed; the PV-only
    households (VPP members, no battery) do not change."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    base = load_scenario(STUDY / "time_of_use.toml").with_overrides({**SMALL, "run.start": dt.datetime(2025, 6, 10)})
    imports = {}
    for response in ("none", "battery_naive"):
        folder = run_scenario(base.with_overrides({"tariff.response": response}), out=tmp_path / response).folder
        r = pd.read_parquet(folder / "readings.parquet")
        r = r[r.meter.str.endswith("/import")]
        imports[response] = r.pivot(index="period", columns="meter", values="energy_wh")
    hour = np.arange(24)  # Tuesday 2025-06-10, hourly periods from local midnight
    cheap, peak = (hour < 6) | (hour >= 22), (hour >= 17) & (hour < 21)
    bat = [c for c in imports["none"].columns if "pv-battery" in c]
    pv_only = [c for c in imports["none"].columns if "pv-only" in c]
    none, battery = imports["none"], imports["battery_naive"]
    assert battery.loc[cheap, bat].to_numpy().sum() > none.loc[cheap, bat].to_numpy().sum() + 1000
    assert battery.loc[peak, bat].to_numpy().sum() <= none.loc[peak, bat].to_numpy().sum()
    pd.testing.assert_frame_equal(battery[pv_only], none[pv_only])


def test_flex_tokens_valued_on_the_bill(tmp_path):
    """Households with smart outlets ([dsr], scenarios/micro_dsr.toml shrunk to two evening hours, a threshold low
    enough for DR events): each bill's flex tokens are those FlexDelays minted to it (their sum is the DSR's own
    on-chain total supply), valued at ``flex_eur_per_token`` as a credit to the cent, and in the total."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "micro_dsr.toml").with_overrides({
        "run.start": dt.datetime(2025, 1, 13, 16), "run.duration_s": 2 * 3600, "dsr.threshold_trafo_percent": 60.0,
        "tariff": {"name": "flat", "billing_period": "day", "import_price": {"price_eur_per_kwh": 0.30},
                   "flex_eur_per_token": 0.05}})
    folder = run_scenario(scenario, out=tmp_path / "r").folder
    bills = pd.read_parquet(folder / "bills.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["dsr"]["tokens_total"] > 10
    assert bills.flex_tokens.sum() == pytest.approx(summary["dsr"]["tokens_total"], abs=1e-9)
    want_ct = -np.floor(bills.flex_tokens * 0.05 * 100 + 0.5)
    assert ((bills.flex_tokens_eur * 100).round() == want_ct).all() and (want_ct < 0).any()
    assert ((bills.total_eur * 100).round() == (bills.payable_eur * 100).round() + want_ct).all()
    assert summary["tariffs"]["bills_reconciled_on_chain"] is True
