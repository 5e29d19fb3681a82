"""Appliance physics: the thermal model against its exact solution, thermostatic loads stay in their band even
when held as long as allowed, deferrable jobs finish by their deadline with their energy unchanged, and the
activity model (richardsonpy) is reproducible and leaves Python's global random state alone."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from grid_models import activity as act
from grid_models.appliances import (
    APPLIANCE_CODES,
    THERMAL_TYPES,
    DeferrableFleet,
    Job,
    ThermostaticFleet,
    cold_type,
    thermal_step,
)
from sim.capabilities.dsr.spec import APPLIANCES


def test_thermal_step_is_the_exact_first_order_solution_for_scalar_array_and_series():
    kw = dict(t_amb_c=20.0, tau_min=100.0, gain_c=-40.0, draw_c_per_wh=0.0)
    # off for 100 min from 5 degC: 20 + (5 - 20) e^-1
    assert_allclose(thermal_step(5.0, False, 0.0, dt_min=100.0, **kw), 20 - 15 * np.exp(-1), rtol=1e-12)
    arr = thermal_step(np.array([5.0, 5.0]), np.array([False, True]), np.zeros(2), **kw)
    assert_allclose(arr, [20 - 15 * np.exp(-0.01), -20 + 25 * np.exp(-0.01)], rtol=1e-12)
    ser = thermal_step(pd.Series([5.0, 5.0]), np.array([False, True]), np.zeros(2), **kw)
    assert_allclose(np.asarray(ser), arr)
    # ten one-minute steps equal one ten-minute step
    t = 5.0
    for _ in range(10):
        t = thermal_step(t, True, 0.0, **kw)
    assert_allclose(t, thermal_step(5.0, True, 0.0, dt_min=10.0, **kw), rtol=1e-12)


def test_a_water_draw_removes_its_energy_from_the_tank():
    wh = THERMAL_TYPES["water_heater"]
    kw = dict(t_amb_c=55.0, tau_min=wh.tau_min, gain_c=0.0, draw_c_per_wh=wh.draw_c_per_wh)
    after = thermal_step(55.0, False, 500.0, **kw)  # no standing loss at T = T_amb: only the draw
    assert_allclose(55.0 - after, 500.0 * wh.draw_c_per_wh, rtol=1e-3)


def test_free_running_fridge_cycles_like_richardsonpy_and_stays_in_its_dead_band():
    t = cold_type(110.0, 18.0, 36.0, (4.0, 6.0), t_max_c=8.0)
    fleet = ThermostaticFleet([t], np.zeros((3000, 1)), np.array([5.0]), np.array([False]))
    on = np.zeros(3000, dtype=bool)
    for k in range(3000):
        fleet.demand(k)
        on[k] = fleet.step(k, np.zeros(1, bool))[0] > 0
    edges = np.flatnonzero(np.diff(on.astype(int)))
    lengths = np.diff(edges)[2:]
    assert set(lengths[::2]) | set(lengths[1::2]) <= {18, 19, 36, 37, 38}  # minute steps overshoot by one
    assert_allclose(on.mean(), 18 / 54, atol=0.02)
    assert fleet.temp_min_c[0] > 3.5 and fleet.temp_max_c[0] < 6.5


@pytest.mark.parametrize("kind", ["refrigerator", "freezer", "water_heater"])
def test_thermostatic_loads_held_whenever_allowed_stay_within_their_band(kind):
    t = THERMAL_TYPES[kind]
    n, steps = 20, 2000
    rng = np.random.default_rng(3)
    draws = np.zeros((steps, n))
    if kind == "water_heater":  # richardsonpy-like draws: 20-minute 3 kW runs, a few a day
        for i in range(n):
            for s in rng.integers(0, steps - 20, 6):
                draws[s:s + 20, i] = 50.0
    lo, hi = t.dead_band_c
    fleet = ThermostaticFleet([t] * n, draws, lo + (hi - lo) * rng.random(n), rng.random(n) < 0.5)
    held_minutes = 0
    for k in range(steps):
        fleet.demand(k)
        held = fleet.holdable(k, np.arange(n))  # the greediest outlet: hold every minute it may
        held_minutes += held.sum()
        fleet.step(k, held)
    assert held_minutes > 100  # the test did hold
    assert (fleet.temp_max_c <= t.t_max_c).all() and (fleet.temp_min_c >= t.t_min_c).all()


def _fleet(preemptible: bool, deadline_slack: int = 30):
    prof = np.array([0.5, 2.0, 2.0, 0.3])
    jobs = [Job(0, 10, 10 + len(prof) + deadline_slack, prof, preemptible),
            Job(0, 100, 100 + len(prof) + deadline_slack, prof * 2, preemptible)]
    return DeferrableFleet(1, 200, jobs), prof


@pytest.mark.parametrize("preemptible", [False, True])
def test_deferrable_job_held_as_long_as_possible_finishes_exactly_by_its_deadline(preemptible):
    fleet, prof = _fleet(preemptible)
    energy_before = fleet.power_kw.sum()
    held = 0
    for k in range(200):
        if fleet.holdable(k, 0):
            fleet.hold(k, 0)
            held += 1
    assert held == 2 * 30  # 30 minutes of slack per job, used to the last minute
    assert [j.end for j in fleet.jobs] == [j.deadline for j in fleet.jobs]
    assert fleet.late_jobs() == []
    assert_allclose(fleet.power_kw.sum(), energy_before, rtol=1e-12)  # shifted, not shed
    assert_allclose(fleet.power_kw[40:44, 0], prof)  # the first job now runs at 40-43


def test_a_started_washing_machine_cannot_be_paused_but_a_charging_car_can():
    for preemptible in (False, True):
        fleet, _ = _fleet(preemptible)
        assert fleet.requested_kw(11, 0) == 2.0  # the job is running
        assert fleet.holdable(11, 0) == preemptible
    with pytest.raises(ValueError, match="cannot finish by its deadline"):
        Job(0, 10, 12, np.ones(5), False)


def test_activity_is_reproducible_and_leaves_global_random_alone():
    random.seed(123)
    before = random.random()
    random.seed(123)
    occ = act.occupancy_10min(2, 1, 3, np.random.default_rng(5))
    p1 = act.richardson_power_w(occ, 1, 1, 3500.0, ("washing_machine", "water_heater"), np.random.default_rng(6))
    assert random.random() == before
    p2 = act.richardson_power_w(occ, 1, 1, 3500.0, ("washing_machine", "water_heater"), np.random.default_rng(6))
    assert all(np.array_equal(p1[k], p2[k]) for k in p1)
    p3 = act.richardson_power_w(occ, 1, 1, 3500.0, ("washing_machine", "water_heater"), np.random.default_rng(7))
    assert not np.array_equal(p1["water_heater"], p3["water_heater"])
    assert len(p1["washing_machine"]) == 2 * 1440 and occ.shape == (288,)


def test_runs_and_charge_profiles():
    p = np.array([1.0, 1.0, 73.0, 2056.0, 1.0, 250.0, 1.0])
    assert [(s, w.tolist()) for s, w in act.runs(p, 1.0)] == [(2, [73.0, 2056.0]), (5, [250.0])]
    prof = act.charge_profile_kw(7.0, 11.0)
    assert_allclose(prof.sum() / 60, 7.0) and len(prof) == 39 and prof[:-1].max() == 11.0


def test_ev_arrives_after_the_household_was_out_not_after_it_slept():
    day = np.zeros(144, dtype=int)
    day[42:48] = 2      # up 07:00-08:00
    day[48:100] = 0     # out 08:00-16:40
    day[100:130] = 2    # home at 16:40
    trips = act.ev_trips(np.concatenate([day, np.r_[np.zeros(42), np.ones(102)].astype(int)]),
                         np.random.default_rng(0))
    assert len(trips) == 1 and 1000 <= trips[0][0] < 1010  # the second day: asleep, then home all day


def test_the_scenario_knows_every_appliance_kind():
    assert set(APPLIANCES) == set(APPLIANCE_CODES)
    assert set(act.RICHARDSON_ROW) <= set(APPLIANCES)
