"""Deferrable appliances answering a tariff (``[tariff] response = "deferrables"``): the customer's own shift of
a job to its cheapest allowed start (``agents.dsr.price_shift``), within the outlet's limits, no DR delay."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from agents.dsr.outlet import Limits
from agents.dsr.price_shift import best_delay_min, shift_jobs
from grid_models.appliances import DeferrableFleet, Job
from tests.conftest import ROOT

TOU = {"kind": "time_of_use", "price_eur_per_kwh": 0.22, "bands": [
    {"price_eur_per_kwh": 0.34, "start_h": 17.0, "end_h": 21.0, "days": "weekdays"},
    {"price_eur_per_kwh": 0.14, "start_h": 0.0, "end_h": 6.0},
    {"price_eur_per_kwh": 0.14, "start_h": 22.0, "end_h": 24.0}]}


def _tou_minutes(n_min: int) -> np.ndarray:
    """The TOU design's price per minute of a weekday from local midnight [EUR/kWh], written out by hand."""
    hour = np.arange(n_min) // 60 % 24
    return np.where((hour >= 17) & (hour < 21), 0.34, np.where((hour < 6) | (hour >= 22), 0.14, 0.22))


def _hour(m: int) -> int:
    return m // 60 % 24


def test_a_job_starts_at_the_cheap_band_when_its_limits_reach_it():
    """A 60-minute job released at 20:30 with 3 h of slack: the cheapest start is 22:00 (90 min later: all of
    its hour at 14 ct instead of 30 min at 34 ct + 30 min at 22 ct)."""
    price = _tou_minutes(2 * 1440)
    known = np.full(len(price), -np.inf)
    prof = np.full(60, 2.0)
    release = 20 * 60 + 30
    roomy = Limits(90, 240)
    assert best_delay_min(prof, release, release + 60 + 180, roomy, _hour, price, known) == 90
    # the customer's daily limit caps the wait: 60 min, 21:30-22:30 (half at 22 ct, half at 14 ct)
    assert best_delay_min(prof, release, release + 60 + 180, Limits(60, 60), _hour, price, known) == 60
    # the deadline caps it the same way: 45 min of slack, 21:15-22:15
    assert best_delay_min(prof, release, release + 60 + 45, roomy, _hour, price, known) == 45
    # a no-delay hour in the wait stops it at its edge: from 21 h no wait, so only 20:30 -> 21:00
    assert best_delay_min(prof, release, release + 240, Limits(90, 240, ((21, 22),)), _hour, price, known) == 30
    # prices not yet known at the release (a day-ahead price published later) are not used
    later = np.where(np.arange(len(price)) >= 21 * 60, 1e9, -np.inf)
    assert best_delay_min(prof, release, release + 240, roomy, _hour, price, later) == 0
    # flat prices: no saving, no wait
    assert best_delay_min(prof, release, release + 240, roomy, _hour, np.full(len(price), 0.3), known) == 0


class _Outlet:
    def __init__(self, name, limits):
        self.name, self.limits = name, limits

    def local_hour(self, m):
        return _hour(m)


def test_shift_moves_whole_jobs_conserves_energy_and_keeps_deadlines():
    rng = np.random.default_rng(3)
    jobs, n = [], 4
    for i in range(n):
        for day in range(2):  # released in the evening, 1-5 h of slack
            release = day * 1440 + int(rng.integers(19 * 60, 21 * 60 + 30))
            length = int(rng.integers(30, 120))
            jobs.append(Job(i, release, release + length + int(rng.integers(60, 300)),
                            rng.uniform(0.5, 2.0, length), preemptible=i == 3))
    fleet = DeferrableFleet(n, 1440 * 2, jobs, standby_kw=np.full(n, 0.002))
    before = fleet.power_kw.sum(axis=0).copy()
    outlets = {i: _Outlet(f"o{i}", Limits(60, 120, ((6, 8),))) for i in range(n)}
    rows = shift_jobs(fleet, outlets, _tou_minutes(len(fleet.power_kw)), np.full(len(fleet.power_kw), -np.inf))
    assert rows and all(0 < r["delay_min"] <= 120 for r in rows)
    np.testing.assert_allclose(fleet.power_kw.sum(axis=0), before)
    assert fleet.late_jobs() == []
    for job in fleet.jobs:
        assert (np.diff(job.minutes) == 1).all()  # whole, not split
        wait = range(job.release, int(job.minutes[0]))
        assert not any(6 <= _hour(m) < 8 for m in wait)


def _run(tmp_path, response: str | None, count: int = 20):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    over = {"run.start": dt.datetime(2025, 1, 14), "run.duration_s": 86_400, "population.0.count": count,
            "dsr.threshold_trafo_percent": 200.0}
    if response is not None:
        over["tariff"] = {"name": "tou", "billing_period": "day", "import_price": TOU, "response": response}
    scenario = load_scenario(ROOT / "scenarios" / "micro_dsr.toml").with_overrides(over)
    folder = run_scenario(scenario, out=tmp_path / (response or "no-tariff")).folder
    ts = pd.read_parquet(folder / "timeseries.parquet")
    outlet = ts[(ts.quantity == "outlet_kw") & (ts.entity == "dsr")].set_index("time").value
    return json.loads((folder / "summary.json").read_text()), outlet, folder


@pytest.mark.slow
def test_deferrables_move_into_the_cheap_band(tmp_path):
    """scenarios/micro_dsr.toml shrunk to 20 households and one Tuesday, no DR event (threshold 200 %), the TOU
    design: with response = "deferrables" the outlets' energy in the 14 ct band rises and in the 34 ct peak falls,
    the day's outlet energy is the same (jobs moved whole, none cut by the horizon), no job is late, no wait is
    longer than its outlet's daily limit, nothing is logged on chain as a delay; response = "none" is today's run
    (the same outlet power minute by minute as without a tariff)."""
    s_none, none, _ = _run(tmp_path, "none")
    s_def, shifted, folder = _run(tmp_path, "deferrables")
    _, untouched, _ = _run(tmp_path, None)
    pd.testing.assert_series_equal(none, untouched)
    hour = pd.DatetimeIndex(none.index).tz_convert("Europe/Berlin").hour
    cheap, peak = (hour < 6) | (hour >= 22), (hour >= 17) & (hour < 21)
    kwh = {name: (s[cheap].sum() / 60, s[peak].sum() / 60, s.sum() / 60)
           for name, s in (("none", none), ("deferrables", shifted))}
    assert kwh["deferrables"][0] > kwh["none"][0] + 5  # kWh into the cheap band
    assert kwh["deferrables"][1] < kwh["none"][1] - 5  # out of the evening peak
    assert kwh["deferrables"][2] == pytest.approx(kwh["none"][2], rel=1e-9)
    d = s_def["dsr"]
    assert d["price_shifted_jobs"] > 0 and d["late_jobs"] == 0 and s_none["dsr"]["price_shifted_jobs"] == 0
    limit = {"washing_machine": 180, "dishwasher": 180, "ev_charger": 240}  # micro_dsr.toml's daily limits
    assert all(r["delay_min"] <= limit[r["outlet"].split("/")[1]] for r in d["price_shifts"])
    assert d["tokens_total"] == 0 == s_none["dsr"]["tokens_total"]  # a shift is no DR delay: no token
    ledger = pd.read_parquet(folder / "ledger.parquet")
    assert not (ledger.event == "DelayLogged").any()
    assert s_def["tariffs"]["bills_reconciled_on_chain"] is True


def test_deferrables_need_smart_outlets():
    from sim.scenario import load_scenario
    from sim.schema import ScenarioError

    scenario = load_scenario(ROOT / "scenarios" / "tariffs" / "study" / "time_of_use.toml")
    with pytest.raises((ScenarioError, ValueError), match=r"tariff\.response.*\[dsr\]"):
        scenario.with_overrides({"tariff.response": "deferrables"})
