"""What a relay's read-back does to the modelled appliance, learned after the minute: a power cut pauses a job (its
energy conserved, sample for sample) and turns a thermostat's element off for the minute; a held minute that had
power after all is run again as a minute the appliance ran. (End to end: tests/sim/hil/test_relay_state_mqtt.py.)"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from agents.dsr.outlet import DeferrablePlug, ThermostaticPlug
from grid_models.appliances import THERMAL_TYPES, DeferrableFleet, Job, ThermostaticFleet

PROFILE_KW = np.array([2.0, 1.5, 1.0, 0.5])
STANDBY_KW = 0.004


def _fleet(preemptible: bool, deadline: int = 30, n_steps: int = 40) -> DeferrableFleet:
    return DeferrableFleet(1, n_steps, [Job(0, 10, deadline, PROFILE_KW.copy(), preemptible)],
                           standby_kw=np.array([STANDBY_KW]))


@pytest.mark.parametrize("preemptible", [True, False])
def test_a_cut_pauses_the_job_where_it_stopped_even_a_started_cycle(preemptible):
    f = _fleet(preemptible)
    assert f.holdable(11, 0) is preemptible  # a DR hold may not pause a started washing cycle; a power cut does
    before = f.power_kw[:, 0].copy()
    assert DeferrablePlug(f, 0).cut(11) == pytest.approx(PROFILE_KW[1] + STANDBY_KW)
    # by hand: the samples run at minutes 10, 12, 13, 14; minute 11 draws nothing, not even standby
    expected = np.full_like(before, STANDBY_KW)
    expected[[10, 12, 13, 14]] += PROFILE_KW
    expected[11] = 0.0
    assert np.allclose(f.power_kw[:, 0], expected)
    assert f.jobs[0].minutes.tolist() == [10, 12, 13, 14]
    # energy conserved: the job's kWh all drawn; only the one minute's standby is gone
    assert f.power_kw[:, 0].sum() == pytest.approx(before.sum() - STANDBY_KW)


def test_a_cut_past_the_deadline_makes_the_job_late_and_grows_the_horizon():
    f = _fleet(True, deadline=14, n_steps=14)
    rows = len(f.power_kw)
    for k in (10, 11, 12):
        f.cut(k, 0)
    assert f.jobs[0].minutes.tolist() == [13, 14, 15, 16] and f.late_jobs() == f.jobs
    assert len(f.power_kw) > rows and np.allclose(f.power_kw[13:17, 0], PROFILE_KW + STANDBY_KW)
    assert np.allclose(f.power_kw[17:, 0], STANDBY_KW) and f.power_kw[:, 0].sum() == pytest.approx(
        PROFILE_KW.sum() + STANDBY_KW * (len(f.power_kw) - 3))


def test_a_cut_with_no_job_due_only_takes_the_standby():
    f = _fleet(True)
    assert f.cut(3, 0) == pytest.approx(STANDBY_KW) and f.power_kw[3, 0] == 0.0
    assert f.jobs[0].minutes.tolist() == [10, 11, 12, 13]


def test_a_held_minute_that_ran_undoes_the_hold_exactly():
    f = _fleet(True)
    untouched = f.power_kw.copy()
    plug = DeferrablePlug(f, 0)
    plug.hold(10)
    plug.hold(11)
    assert plug.ran_while_held(11) == pytest.approx(PROFILE_KW[0] + STANDBY_KW)
    # as if held in minute 10 only
    reference = _fleet(True)
    reference.hold(10, 0)
    assert np.allclose(f.power_kw, reference.power_kw, rtol=0, atol=1e-12)  # (float sums: not bit for bit)
    assert f.jobs[0].minutes.tolist() == [11, 12, 13, 14]
    assert not np.array_equal(f.power_kw, untouched)
    with pytest.raises(ValueError, match="minute 12 was not held"):
        plug.ran_while_held(12)


def _thermo() -> ThermostaticFleet:
    types = [THERMAL_TYPES["refrigerator"], THERMAL_TYPES["water_heater"]]
    draws = np.zeros((5, 2))
    draws[:, 1] = 40.0  # hot water drawn [Wh per minute]
    return ThermostaticFleet(types, draws, temp0_c=np.array([6.2, 49.0]), on0=np.array([True, True]))


@pytest.mark.parametrize("i", [0, 1])
def test_a_cut_runs_the_thermostats_minute_again_with_the_element_off(i):
    f, ref = _thermo(), _thermo()
    held = np.zeros(2, dtype=bool)
    f.demand(0)
    assert f.wants[i]  # the element asks to run
    f.step(0, held)
    plug = ThermostaticPlug(f, i, held)
    assert plug.cut(0) == pytest.approx(f.p_w[i] / 1000.0) and f.power_w[i] == 0.0 and not f.on[i]
    # reference: the same minute with the appliance held off (the fleet's own step), and the first-order model
    ref.demand(0)
    ref_held = np.zeros(2, dtype=bool)
    ref_held[i] = True
    ref.step(0, ref_held)
    assert f.temp_c == pytest.approx(ref.temp_c) and f.temp_max_c == pytest.approx(ref.temp_max_c)
    t = THERMAL_TYPES["refrigerator" if i == 0 else "water_heater"]
    a = math.exp(-1.0 / t.tau_min)
    shift = 40.0 * t.draw_c_per_wh / (1.0 - a) if i == 1 else 0.0  # Mathieu et al. (2013), first-order TCL
    t0 = 6.2 if i == 0 else 49.0
    assert f.temp_c[i] == pytest.approx(t.t_amb_c - shift + (t0 - t.t_amb_c + shift) * a)
    with pytest.raises(ValueError, match="rerun of step 1"):
        f.rerun(1, i, False)


def test_a_held_thermostat_minute_that_ran_is_the_never_held_minute():
    f = _thermo()
    never = copy.deepcopy(f)
    held = np.zeros(2, dtype=bool)
    plug = ThermostaticPlug(f, 0, held)
    f.demand(0)
    plug.hold(0)
    f.step(0, held)
    assert f.power_w[0] == 0.0
    assert plug.ran_while_held(0) == pytest.approx(f.p_w[0] / 1000.0)
    never.demand(0)
    never.step(0, np.zeros(2, dtype=bool))
    assert np.array_equal(f.temp_c, never.temp_c) and np.array_equal(f.on, never.on)
    assert plug._shadow is None
