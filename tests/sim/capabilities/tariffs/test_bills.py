"""Bills of the five shipped tariff designs for two households over two days, computed here by hand from the
meter data (readings.parquet) with the published tariff arithmetic (docs/tariffs.md: the design files' figures,
exact rational arithmetic, each line rounded to the cent half up), must equal bills.parquet to the cent; every
bill is paid on chain (the households' and the supplier's EuroToken balances read back from the chain); and with
``response = "none"`` the energy flows are the same under every design (only money differs).

The days: Whit Monday 2025-06-09 (a public holiday: no weekday peak band) and Tuesday 2025-06-10. Household
``pv-only-01`` has PV and no battery (it imports at night and exports at noon), ``consumer-01`` has neither (it
imports only): the community shares energy between them."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from fractions import Fraction as F

import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
DESIGNS = ("flat", "time_of_use", "dynamic", "capacity", "community")
STUDY = ROOT / "scenarios" / "tariffs" / "study"
TWO = {
    "run.start": dt.datetime(2025, 6, 9), "run.duration_s": 2 * 86_400, "run.seed": 11,
    "feeder.network": "kerber_landnetz_kabel_2", "vpp": None, "prices": None,
    "meters": {"drop_probability": 0.0, "spike_probability": 0.0},
    "population": [{"name": "pv-only", "count": 1, "pv_kwp": 6.0, "annual_load_kwh": 3500.0},
                   {"name": "consumer", "count": 1, "pv_kwp": 0.0, "annual_load_kwh": 4000.0}],
    "tariff.billing_period": "day", "tariff.household_funds_eur": 100.0,
}
HOUSEHOLDS = ("pv-only-01", "consumer-01")
FUNDS_EUR, SUPPLIER_FLOAT_EUR = 100, 1_000_000


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    out = {}
    for d in DESIGNS:
        scenario = load_scenario(STUDY / f"{d}.toml").with_overrides(TWO)
        out[d] = run_scenario(scenario, out=tmp_path_factory.mktemp(d)).folder
    return out


def q(x: str) -> F:
    return F(x)


def day_ahead_eur_per_kwh() -> dict[tuple[int, int], F]:
    """(day of June, local hour) -> the file's price [EUR/kWh], read with the csv module."""
    with open(STUDY / "day_ahead_2025-06.csv", newline="") as fh:
        return {(int(r["time"][8:10]), int(r["time"][11:13])): F(r["eur_per_mwh"]) / 1000 for r in csv.DictReader(fh)}


def import_price(design: str, day: int, hour: int) -> F:
    """The design's energy price of the hour starting at ``hour`` (local) of day 0 (Whit Monday) or 1 (Tuesday)."""
    if design == "time_of_use":
        if day == 1 and 17 <= hour < 21:  # weekday evening peak; day 0 is a holiday
            return q("0.34")
        return q("0.14") if hour < 6 or hour >= 22 else q("0.22")
    if design == "dynamic":
        return day_ahead_eur_per_kwh()[(9 + day, hour)] + q("0.12")
    return q("0.22")


def cents(x: F) -> int:
    """Rounded half away from zero to whole cents."""
    c = math.floor(abs(x) * 100 + F(1, 2))
    return c if x >= 0 else -c


def expected_bills(design: str, readings: pd.DataFrame) -> dict[tuple[str, int], dict[str, int]]:
    """(household, day) -> each line [ct], by hand."""
    def wh(meter):
        r = readings[readings.meter == meter].set_index("period").energy_wh
        return [int(r[p]) for p in range(48)]

    imp = {h: [F(x, 1000) for x in wh(f"meter/{h}/import")] for h in HOUSEHOLDS}
    exp = {h: [F(x, 1000) for x in wh(f"meter/{h}")] for h in HOUSEHOLDS}
    net_kwh = q("0.04") if design == "capacity" else q("0.11")
    out = {}
    for h in HOUSEHOLDS:
        for day in (0, 1):
            hours = range(24 * day, 24 * day + 24)
            s_in, s_out = [F(0)] * 48, [F(0)] * 48
            if design == "community":
                for p in hours:
                    tin, tout = sum(imp[k][p] for k in HOUSEHOLDS), sum(exp[k][p] for k in HOUSEHOLDS)
                    shared = min(tin, tout)
                    s_in[p] = shared * imp[h][p] / tin if tin else F(0)
                    s_out[p] = shared * exp[h][p] / tout if tout else F(0)
            lines = {
                "energy_in_eur": sum((imp[h][p] - s_in[p]) * import_price(design, day, p - 24 * day) for p in hours),
                "energy_out_eur": -sum((exp[h][p] - s_out[p]) * q("0.08") for p in hours),
                "community_eur": sum((s_in[p] - s_out[p]) * q("0.15") for p in hours),
                "network_energy_eur": sum((imp[h][p] - s_in[p] + s_in[p] * q("0.43")) * net_kwh for p in hours),
                "network_peak_eur": (max(q("2.5"), max(imp[h][p] for p in hours)) * 45 / 365
                                     if design == "capacity" else F(0)),
                "network_capacity_eur": F(0),
                "levies_eur": sum(imp[h][p] for p in hours) * q("0.05"),
                "fixed_eur": q("0.40"),
            }
            out[(h, day)] = {k: cents(F(v)) for k, v in lines.items()}
    return out


@pytest.mark.parametrize("design", DESIGNS)
def test_bills_match_hand_computation_and_chain(design, runs):
    folder = runs[design]
    bills = pd.read_parquet(folder / "bills.parquet")
    readings = pd.read_parquet(folder / "readings.parquet")
    expected = expected_bills(design, readings)
    assert len(bills) == 4
    for row in bills.itertuples(index=False):
        want = expected[(row.household, row.billing_period)]
        got = {k: round(getattr(row, k) * 100) for k in want}
        assert got == want, (row.household, row.billing_period)
        assert round(row.payable_eur * 100) == sum(want.values())
    # the two households trade with each other in the community design (the hard case is there)
    if design == "community":
        assert bills.shared_import_kwh.sum() > 1
    # paid on chain: balances read back from EuroToken
    summary = json.loads((folder / "summary.json").read_text())["tariffs"]
    assert summary["bills_reconciled_on_chain"] is True
    payable_ct = {h: sum(sum(expected[(h, d)].values()) for d in (0, 1)) for h in HOUSEHOLDS}
    for h in HOUSEHOLDS:
        assert round(summary["household_detail"][h]["balance_eur"] * 100) == FUNDS_EUR * 100 - payable_ct[h]
    assert round(summary["supplier_balance_eur"] * 100) == SUPPLIER_FLOAT_EUR * 100 + sum(payable_ct.values())
    # every bill is one EuroToken transfer in the ledger, in billing order: the household pays the supplier, or the
    # supplier pays a credit (accounts from the run seed's keys, as the bank derives them)
    from contracts.eip712 import key_for

    def address(label):
        return key_for(TWO["run.seed"], label).public_key.to_checksum_address()

    ledger = pd.read_parquet(folder / "ledger.parquet")
    moves = [json.loads(a) for a in ledger[(ledger.contract == "EuroToken") & (ledger.event == "Transfer")]
             .sort_values(["block", "log_index"]).args]
    supplier = address("supplier")
    for h in HOUSEHOLDS:
        me = address(f"prosumer/{h}")
        paid = [m["value"] if m["sender"] == me else -m["value"] for m in moves
                if {m["sender"], m["receiver"]} == {me, supplier}]
        billed = [sum(expected[(h, d)].values()) * 10_000 for d in (0, 1)]
        assert paid == [b for b in billed if b], h
    # CO2: grid import (shared energy left out) x the hour's intensity, read with the csv module
    assert summary["co2_kg"] == pytest.approx(float(expected_co2_kg(design, readings)), rel=1e-9)


def expected_co2_kg(design: str, readings: pd.DataFrame) -> F:
    with open(STUDY / "grid_co2_2025-06.csv", newline="") as fh:
        g = {(int(r["time"][8:10]), int(r["time"][11:13])): F(r["g_per_kwh"]) for r in csv.DictReader(fh)}
    imp = {h: readings[readings.meter == f"meter/{h}/import"].set_index("period").energy_wh for h in HOUSEHOLDS}
    exp = {h: readings[readings.meter == f"meter/{h}"].set_index("period").energy_wh for h in HOUSEHOLDS}
    total = F(0)
    for p in range(48):
        tin = sum(F(int(imp[h][p]), 1000) for h in HOUSEHOLDS)
        tout = sum(F(int(exp[h][p]), 1000) for h in HOUSEHOLDS)
        grid = tin - min(tin, tout) if design == "community" else tin
        total += grid * g[(9 + p // 24, p % 24)] / 1000
    return total


def test_response_none_same_flows_under_every_design(runs):
    """Only money differs: every step's power of every household and of the feeder, and every meter reading,
    are identical under the five designs; the bills are not."""
    def flows(folder):
        ts = pd.read_parquet(folder / "timeseries.parquet")
        return ts[ts.unit.isin(["kW", "kWh", "%", "pu"])].reset_index(drop=True)

    base_ts, base_rd = flows(runs["flat"]), pd.read_parquet(runs["flat"] / "readings.parquet")
    totals = set()
    for d in DESIGNS:
        pd.testing.assert_frame_equal(flows(runs[d]), base_ts)
        pd.testing.assert_series_equal(pd.read_parquet(runs[d] / "readings.parquet").energy_wh, base_rd.energy_wh)
        totals.add(round(pd.read_parquet(runs[d] / "bills.parquet").payable_eur.sum(), 2))
    assert len(totals) == len(DESIGNS)


@pytest.mark.skipif(__import__("shutil").which("chromium") is None, reason="Debian's chromium is not installed")
def test_run_report_in_chromium(runs):
    """The run report of a billed run passes the run-report checks of tests/sim/test_report_browser.py: the
    tariff's figures equal summary.json to the cent, the households table with its CSV, names not addresses."""
    from tests.sim.test_report_browser import _check_run

    _check_run(runs["community"], "tariff-community")
