"""The dynamic tariff is causal: the prices of a local day are fixed at noon of the day before from the DSO's
day-ahead forecast of that day alone. The same hour has the same price on chain in 1-, 2- and 4-day runs of
scenarios/tariffs/dynamic.toml (they differed: the scaling ran over the whole horizon); no price moves when the
forecast of a period after the day it was published for changes; a run starting or stopping inside a day prices
its periods as the whole day does."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.capabilities.vpp import prices
from sim.inputs import run_times
from sim.results.summary import event_args
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import ROOT

DYNAMIC = ROOT / "scenarios" / "tariffs" / "dynamic.toml"
DAY_S = 86_400


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(DYNAMIC)


def _schedule(scenario, **overrides):
    s = scenario.with_overrides(overrides) if overrides else scenario
    return prices.price_schedule_ueur(s, run_times(s.run, s.site), s.n_periods)


@pytest.mark.slow
def test_the_same_hour_has_the_same_price_on_chain_in_1_2_and_4_day_runs(scenario):
    published = {}
    for days in (1, 2, 4):
        run = run_scenario(scenario.with_overrides({"run.duration_s": days * DAY_S}))
        ev = event_args(run.ledger, "VppSettlement", "PricePublished")
        published[days] = ev.set_index("period").price_ueur_per_kwh.sort_index()
        assert published[days].index.tolist() == list(range(days * 24))
        assert published[days].tolist() == _schedule(scenario, **{"run.duration_s": days * DAY_S}).tolist()
    assert published[1].tolist() == published[2][:24].tolist() == published[4][:24].tolist()
    assert published[2].tolist() == published[4][:48].tolist()
    base = round(scenario.prices.energy_eur_per_kwh * 1e6)
    for days in (1, 2, 4):  # each day spans the tariff's range by its own forecast
        by_day = published[days].to_numpy().reshape(days, 24)
        assert (by_day.min(axis=1) == round(base * scenario.prices.dynamic_low_multiplier)).all()
        assert (by_day.max(axis=1) == round(base * scenario.prices.dynamic_high_multiplier)).all()


def test_no_price_depends_on_a_forecast_after_the_day_it_was_published_for(scenario):
    s = scenario.with_overrides({"run.duration_s": 4 * DAY_S})
    times = run_times(s.run, s.site)
    base = prices.dynamic_multipliers(s, times, s.n_periods)
    starts, first = prices.delivery_grid(times, s.run.settlement_s, s.n_periods)
    starts = starts[first:first + s.n_periods]
    published = prices.publication_time(starts)
    assert (published + pd.Timedelta(hours=12) == starts.normalize()).all() and (published < starts).all()
    rng = np.random.default_rng(5)
    for day in range(4):
        horizon_end = starts[0].normalize() + pd.Timedelta(days=day + 1)  # end of the day published that noon

        def later_changed(sc, step_times, _end=horizon_end):
            kw = prices.dso_day_ahead_forecast_kw(sc, step_times)
            after = step_times >= _end
            return np.where(after, kw + rng.normal(0.0, 50.0, size=kw.size), kw)

        moved = prices.dynamic_multipliers(s, times, s.n_periods, forecast=later_changed)
        known = starts < horizon_end
        assert np.array_equal(moved[known], base[known])
        assert not np.array_equal(moved[~known], base[~known]) or day == 3  # (the perturbation does reach them)


@pytest.mark.parametrize("start, duration_s", [(dt.datetime(2025, 6, 2, 15), 3 * 3600),
                                               (dt.datetime(2025, 6, 2, 22), 5 * 3600)])
def test_a_run_inside_a_day_prices_its_periods_as_the_whole_days_do(scenario, start, duration_s):
    whole = _schedule(scenario)  # 2025-06-02 and -03 from midnight
    part = _schedule(scenario, **{"run.start": start, "run.duration_s": duration_s})
    first = (start - dt.datetime(2025, 6, 2)).seconds // 3600
    assert part.tolist() == whole[first:first + duration_s // 3600].tolist()


def test_a_daylight_saving_day_has_23_prices_spanning_the_range(scenario):
    s = scenario.with_overrides({"run.start": dt.datetime(2025, 3, 29), "run.duration_s": 3 * DAY_S - 3600})
    times = run_times(s.run, s.site)
    mult = prices.dynamic_multipliers(s, times, s.n_periods)
    days = np.array([t.date() for t in times[::4]])
    assert (days == dt.date(2025, 3, 30)).sum() == 23
    for d in np.unique(days):
        assert mult[days == d].min() == 0.5 and mult[days == d].max() == 1.5
