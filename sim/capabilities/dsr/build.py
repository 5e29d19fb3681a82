"""Micro-DSR, before the clock: which household has which smart outlet, and each appliance's activity over the
whole horizon (richardsonpy and the EV model in ``grid_models.activity``), turned into a thermostatic fleet and
a deferrable fleet (``grid_models.appliances``). Nothing here depends on a decision taken during the run.

Households are the scenario's prosumers (``[[population]]``), each on its feeder load. Ownership: a household
has an outlet of group ``g`` with probability ``g.share`` (seeded). Household size (richardsonpy occupancy,
1-5 persons) is drawn from German household sizes (Destatis, Mikrozensus 2019: 41/34/12/9/4 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from grid_models import activity as act
from grid_models.appliances import (
    PREEMPTIBLE,
    THERMAL_TYPES,
    DeferrableFleet,
    Job,
    ThermostaticFleet,
)

HOUSEHOLD_SIZE_P = (0.41, 0.34, 0.12, 0.09, 0.04)
# rated power registered for a deferrable outlet [kW] (at least its largest sample): richardsonpy's washing
# machine heats at 2056 W; its dishwasher draws 1131 W, varied by a normal factor (sd 10 %) per household
NOMINAL_KW = {"washing_machine": 2.056, "dishwasher": 1.131 * 1.4}
MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class OutletPlan:
    """One outlet to build: its household (prosumer index), appliance, group spec and fleet column."""

    name: str
    prosumer: int
    appliance: str
    group: object
    thermostatic: bool
    column: int


@dataclass
class Fleets:
    plans: list[OutletPlan]
    thermo: ThermostaticFleet
    deferrable: DeferrableFleet
    deferrable_standby_kw: np.ndarray
    occupants: np.ndarray
    rated_w: list[int]


def day_offset_min(times: pd.DatetimeIndex) -> int:
    """Local minute of the day at the run's first step (time zone of ``times``)."""
    t = times[0]
    return int(t.hour * 60 + t.minute)


def plan_outlets(prosumer_ids: list[str], groups, rng: np.random.Generator) -> list[OutletPlan]:
    plans: list[OutletPlan] = []
    n_thermo = n_def = 0
    owned = {g.appliance: rng.random(len(prosumer_ids)) < g.share for g in groups}
    for j, pid in enumerate(prosumer_ids):
        for g in groups:
            if not owned[g.appliance][j]:
                continue
            thermo = g.appliance in THERMAL_TYPES
            plans.append(OutletPlan(f"{pid}/{g.appliance}", j, g.appliance, g, thermo, n_thermo if thermo else n_def))
            n_thermo, n_def = n_thermo + thermo, n_def + (not thermo)
    return plans


def _deadline(release: int, length: int, wanted: int, next_release: int | None, n_steps: int) -> int:
    """Latest end of a job: ``wanted``, but never after the next job's release, and within the horizon for a job
    that would naturally finish inside it; never before its natural end."""
    natural_end = release + length
    d = min(wanted, n_steps) if natural_end <= n_steps else natural_end
    if next_release is not None:
        d = min(d, next_release)
    return max(d, natural_end)


def _jobs_for(plan: OutletPlan, runs: list[tuple[int, np.ndarray]], deadline_min: list[int], n_steps: int) -> list[Job]:
    jobs = []
    for r, ((start, prof_kw), wanted) in enumerate(zip(runs, deadline_min)):
        nxt = runs[r + 1][0] if r + 1 < len(runs) else None
        jobs.append(Job(plan.column, start, _deadline(start, len(prof_kw), wanted, nxt, n_steps), prof_kw,
                        PREEMPTIBLE[plan.appliance]))
    return jobs


def build_fleets(spec, prosumer_ids: list[str], annual_kwh: list[float], times: pd.DatetimeIndex,
                 rng: np.random.Generator) -> Fleets:
    """Plan the outlets and compute every appliance's activity over the horizon (minute steps)."""
    n_steps, offset = len(times), day_offset_min(times)
    n_days = -(-(offset + n_steps) // MINUTES_PER_DAY)
    first = times[0]
    weekday, month = first.isoweekday(), first.month
    plans = plan_outlets(prosumer_ids, spec.outlets, rng)
    occupants = rng.choice(np.arange(1, 6), size=len(prosumer_ids), p=HOUSEHOLD_SIZE_P)
    thermo_plans = [p for p in plans if p.thermostatic]
    def_plans = [p for p in plans if not p.thermostatic]
    draws = np.zeros((n_steps, len(thermo_plans)))
    jobs: list[Job] = []
    standby = np.zeros(len(def_plans))
    rated_w = [0] * len(plans)
    window = slice(offset, offset + n_steps)
    for j in range(len(prosumer_ids)):
        mine = [p for p in plans if p.prosumer == j]
        if not mine:
            continue
        hh_rng = np.random.default_rng(rng.integers(2**63))
        occ = act.occupancy_10min(n_days, weekday, int(occupants[j]), hh_rng)
        kinds = tuple(p.appliance for p in mine if p.appliance in act.RICHARDSON_ROW)
        power = act.richardson_power_w(occ, weekday, month, annual_kwh[j], kinds, hh_rng)
        for p in mine:
            if p.appliance == "water_heater":
                draws[:, p.column] = power["water_heater"][window] / 60.0  # W for one minute -> Wh
            elif p.appliance in ("washing_machine", "dishwasher"):
                sb = act.standby_w(p.appliance)
                standby[p.column] = sb / 1000.0
                runs = [(s - offset, (w - sb) / 1000.0) for s, w in act.runs(power[p.appliance], sb)
                        if offset <= s < offset + n_steps]
                runs = act.thin(runs, act.cycles_per_day(p.appliance), n_days, hh_rng)
                wanted = [s + len(w) + round(p.group.deadline_h * 60) for s, w in runs]
                jobs += _jobs_for(p, runs, wanted, n_steps)
            elif p.appliance == "ev_charger":
                runs, wanted = [], []
                for arrival, kwh in act.ev_trips(occ, hh_rng):
                    start = arrival - offset
                    busy_until = max(wanted[-1], runs[-1][0] + len(runs[-1][1])) if runs else start
                    if start < 0 or start >= n_steps or start < busy_until:
                        continue  # (a car comes home once a day: a trip overlapping the last charge is dropped)
                    prof = act.charge_profile_kw(kwh, spec.ev_charger_kw)
                    local_day = arrival // MINUTES_PER_DAY
                    runs.append((start, prof))
                    wanted.append((local_day + 1) * MINUTES_PER_DAY + spec.ev_departure_h * 60 - offset)
                jobs += _jobs_for(p, runs, wanted, n_steps)
    types = [THERMAL_TYPES[p.appliance] for p in thermo_plans]
    lo = np.array([t.dead_band_c[0] for t in types])
    hi = np.array([t.dead_band_c[1] for t in types])
    temp0 = lo + (hi - lo) * rng.random(len(types))
    thermo = ThermostaticFleet(types, draws, temp0, rng.random(len(types)) < 0.3)
    deferrable = DeferrableFleet(len(def_plans), n_steps, jobs, standby_kw=standby)
    for n, p in enumerate(plans):
        if p.thermostatic:
            rated_w[n] = int(np.ceil(THERMAL_TYPES[p.appliance].p_w))
        else:
            peak_kw = max((float(jb.profile_kw.max()) for jb in deferrable.by_outlet[p.column]), default=0.0)
            nominal_kw = spec.ev_charger_kw if p.appliance == "ev_charger" else NOMINAL_KW[p.appliance]
            rated_w[n] = int(np.ceil(max(peak_kw, nominal_kw) * 1000.0))
    return Fleets(plans, thermo, deferrable, standby, occupants, rated_w)
