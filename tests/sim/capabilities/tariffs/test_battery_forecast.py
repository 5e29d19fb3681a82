"""The forecast-aware battery response (``[tariff] response = "battery"``, ``sim.capabilities.tariffs.response``):
it buys from the grid only what the next day's persistence forecast says is worth it, and it neither raises the
battery households' bills nor the feeder's peak the way the naive rule did (docs/tariffs.md)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sim.capabilities.tariffs.response import ForecastBattery, cheap_left
from tests.conftest import ROOT

STUDY = ROOT / "scenarios" / "tariffs" / "study"
SEED0 = 2261167173  # the run seed of study_response.toml's first seed (root_seed 2025): the one with cloudy days


def _battery(net_kw_yesterday: list[float], cheap: list[bool], cap_kwh=10.0) -> ForecastBattery:
    """One household, hourly steps = periods, two days: day 0 is the forecast (persistence) of day 1."""
    net = np.array(net_kw_yesterday * 2, dtype=float)
    load = np.maximum(net, 0.0)[:, None] + 0.0
    pv = np.maximum(-net, 0.0)[:, None]
    price = np.where(np.array(cheap * 2), 0.14, 0.30)
    return ForecastBattery(price, np.repeat([0, 1], 24), ["a"], pv, load, np.array([cap_kwh]), np.array([4.0]),
                           3600, 3600)


def test_worth_is_the_dear_deficit_and_never_spills_pv():
    """Hand-computed cases. Night 0-6 h cheap (1 kW deficit), 6-9 h dear (1 kW), then PV."""
    cheap = [h < 6 for h in range(24)]
    # a dull day: 9-24 h a further 0.5 kW deficit, no surplus: from an empty battery at 0 h the dear imports are
    # 3 + 7.5 = 10.5 kWh, the room 10 kWh (less the 6 kWh it covers in the cheap night: at most 16): 10 kWh
    dull = _battery([1.0] * 9 + [0.5] * 15, cheap)
    assert dull.worth_kwh(24, 0, 0.0) == pytest.approx(10.0)
    # a sunny day: 3 dear kWh before 9 h, then 12 kWh of surplus (9-12 h, 4 kW) that fills the battery: buying
    # X spills max(0, X - I(t) - room) at the fill: I = 9 kWh imported by 9 h, so up to 3 kWh (all of the dear ones)
    sunny = _battery([1.0] * 9 + [-4.0] * 3 + [0.2] * 12, cheap)
    assert sunny.worth_kwh(24, 0, 0.0) == pytest.approx(3.0)
    # with 9 kWh stored the night and the morning are covered: nothing is worth buying
    assert sunny.worth_kwh(24, 0, 9.0) == pytest.approx(0.0)
    # the import aimed at: the period's expected load + the worth spread over the 6 cheap hours left
    assert sunny.import_kw(24, "a", 0.0) == pytest.approx(1.0 + 3.0 / 6)
    assert sunny.import_kw(24 + 7, "a", 0.0) == 0.0  # dear: plain self-consumption
    assert sunny.import_kw(3, "a", 0.0) == 0.0  # the first day has no history: never from the grid
    np.testing.assert_array_equal(cheap_left(np.array([1, 1, 0, 1, 0, 1, 1, 1], dtype=bool)), [2, 1, 0, 1, 0, 3, 2, 1])


def test_the_design_caps_the_charging_import():
    cheap = [h < 6 for h in range(24)]
    dull = _battery([1.0] * 9 + [0.5] * 15, cheap)
    dull.import_cap_kw = 2.5  # peak_min_kw of a capacity design
    assert dull.import_kw(24, "a", 0.0) == pytest.approx(2.5)


@pytest.mark.slow
def test_time_of_use_batteries_do_not_lose_and_do_not_raise_the_peak(tmp_path):
    """The study's time-of-use design, its first week, the sweep's first seed (cloudy days: the rule does buy):
    with response = "battery" the battery households' median bill change vs the flat design (also "battery": no
    cheap hours, plain self-consumption) is <= 0, the feeder's peak import is at most 1 kW above the run without
    response (the naive rule: +70 kW over the 14 days), they do import more in the night band, and the
    households without a battery (VPP members) do not change."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    week = {"run.duration_s": 7 * 86_400, "run.seed": SEED0}
    out = {}
    for name, design, response in (("flat", "flat", "battery"), ("tou_none", "time_of_use", "none"),
                                   ("tou", "time_of_use", "battery")):
        scenario = load_scenario(STUDY / f"{design}.toml").with_overrides({**week, "tariff.response": response})
        folder = run_scenario(scenario, out=tmp_path / name).folder
        r = pd.read_parquet(folder / "readings.parquet")
        out[name] = (json.loads((folder / "summary.json").read_text())["tariffs"],
                     pd.read_parquet(folder / "bills.parquet").groupby(["household", "group"]).total_eur.sum(),
                     r[r.meter.str.endswith("/import")].pivot(index="period", columns="meter", values="energy_wh"))
    change = (out["tou"][1] - out["flat"][1]).reset_index()
    bat = change[change.group == "pv-battery"].total_eur
    assert len(bat) == 16 and bat.median() <= 0
    assert out["tou"][0]["feeder_peak_import_kw"] <= out["tou_none"][0]["feeder_peak_import_kw"] + 1.0
    imp_none, imp = out["tou_none"][2], out["tou"][2]
    hour = np.arange(len(imp)) % 24
    night = (hour < 6) | (hour >= 22)
    cols = [c for c in imp.columns if "pv-battery" in c]
    assert imp.loc[night, cols].to_numpy().sum() > imp_none.loc[night, cols].to_numpy().sum() + 1000  # Wh bought
    pv_only = [c for c in imp.columns if "pv-only" in c]
    pd.testing.assert_frame_equal(imp[pv_only], imp_none[pv_only])
