"""Appliance activity at minute resolution, computed once before the clock: when each household starts its
washing machine and dishwasher and draws hot water (richardsonpy's stochastic appliance model, driven by its
occupancy model), and when its electric car comes home needing how much energy.

richardsonpy draws from Python's global ``random`` module; every call here seeds it from the caller's numpy
generator and restores its state, so that activity is reproducible and nothing else is disturbed.

richardsonpy calibrates start probabilities to a household's total appliance energy, not per appliance: with
only the appliances we model switched on it starts laundry about three times a day. We keep its start *times*
and thin the starts (seeded, independently) to the cycles per year of its own ``Appliances.csv``.

EV (not in richardsonpy): the car is away while the household, after being up in the morning, has had no
active occupant for at least ``EV_AWAY_MIN_H`` hours, leaving before 20:00; it comes home with the first
active occupant after that (else it stayed home that day). Daily distance log-normal (median 30 km, sigma 0.6;
MiD 2017 reports ~39 km per car in use and day), consumption 0.18 kWh/km; it must be charged by
``departure_h`` the next morning.

References
----------
Richardson, I., Thomson, M., Infield, D. (2008). A high-resolution domestic building occupancy model for energy
demand simulations. Energy and Buildings 40, 1560-1566.
Richardson, I., Thomson, M., Infield, D., Clifford, C. (2010). Domestic electricity use: a high-resolution
energy demand model. Energy and Buildings 42, 1878-1887. richardsonpy (RWTH-EBC), ``run_application_simulation``.
infas, DLR et al. (2018). Mobilität in Deutschland 2017 (MiD), Ergebnisbericht.
"""

from __future__ import annotations

import random
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

MINUTES_PER_DAY = 1440
# richardsonpy's Appliances.csv rows (0-based) for the appliances we take from it
RICHARDSON_ROW = {"washing_machine": 26, "dishwasher": 24, "water_heater": 28}
APPLIANCE_SHARE = 0.91  # richardsonpy: appliances are 91 % of a household's electricity (the rest is lighting)
EV_AWAY_MIN_H = 3.0
EV_KM_MEDIAN, EV_KM_SIGMA, EV_KWH_PER_KM = 30.0, 0.6, 0.18
EV_MAX_KWH = 40.0


@contextmanager
def _seeded_random(rng: np.random.Generator):
    state = random.getstate()
    random.seed(int(rng.integers(2**63)))
    try:
        yield
    finally:
        random.setstate(state)


@cache
def _richardson_inputs():
    import richardsonpy

    root = Path(richardsonpy.__file__).resolve().parent / "inputs"
    stats = {w: np.loadtxt(root / "constants" / f"ActiveAppliances_{w}.csv", delimiter=";").tolist()
             for w in ("wd", "we")}
    return root / "Appliances.csv", stats


def _appliances(annual_kwh: float, kinds: tuple[str, ...]):
    """richardsonpy's appliance table calibrated to ``annual_kwh`` with only ``kinds`` owned."""
    from richardsonpy.classes.appliance import Appliances

    path, _ = _richardson_inputs()
    app = Appliances(str(path), annual_consumption=APPLIANCE_SHARE * annual_kwh)
    rows = {RICHARDSON_ROW[k] for k in kinds}
    for i, row in enumerate(app.data):
        row[0] = 1 if i in rows else 0
    return app


def occupancy_10min(n_days: int, first_weekday: int, n_occupants: int, rng: np.random.Generator) -> np.ndarray:
    """Active occupants per 10 minutes over ``n_days`` (richardsonpy's Markov occupancy model).
    ``first_weekday``: 1 = Monday ... 7 = Sunday."""
    from richardsonpy.classes.occupancy import Occupancy

    with _seeded_random(rng):
        occ = Occupancy(n_occupants, initial_day=first_weekday, nb_days=n_days)
    return np.asarray(occ.occupancy, dtype=int)


def richardson_power_w(occupancy: np.ndarray, first_weekday: int, month: int, annual_kwh: float,
                       kinds: tuple[str, ...], rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Minute power [W] of each of ``kinds`` over the days of ``occupancy`` (richardsonpy, one day at a time)."""
    from richardsonpy.classes.appliance import run_application_simulation

    if not kinds:
        return {}
    _, stats = _richardson_inputs()
    app = _appliances(annual_kwh, tuple(sorted(kinds)))
    n_days = len(occupancy) // 144
    days = []
    with _seeded_random(rng):
        for d in range(n_days):
            weekend = (d + first_weekday) % 7 in (0, 6)  # richardsonpy's own rule
            day = run_application_simulation(occupancy[144 * d: 144 * (d + 1)], app,
                                             stats["we" if weekend else "wd"], month)
            days.append([day[RICHARDSON_ROW[k]] for k in kinds])
    arr = np.asarray(days, dtype=float)  # days x kinds x 1440
    return {k: arr[:, n, :].reshape(-1) for n, k in enumerate(kinds)}


def standby_w(kind: str) -> float:
    path, _ = _richardson_inputs()
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return float(lines[RICHARDSON_ROW[kind]].split(";")[7])


def cycles_per_day(kind: str) -> float:
    path, _ = _richardson_inputs()
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return float(lines[RICHARDSON_ROW[kind]].split(";")[4]) / 365.0


def runs(power_w: np.ndarray, standby: float) -> list[tuple[int, np.ndarray]]:
    """Maximal runs of minutes above standby: (first minute, power of each minute [W])."""
    on = power_w > standby + 0.5
    edges = np.flatnonzero(np.diff(np.concatenate(([0], on.astype(np.int8), [0]))))
    return [(int(a), power_w[a:b].copy()) for a, b in zip(edges[::2], edges[1::2])]


def thin(items: list, keep_per_day: float, n_days: int, rng: np.random.Generator) -> list:
    """Keep each item with probability min(1, expected / observed count) (seeded)."""
    if not items:
        return items
    p = min(1.0, keep_per_day * n_days / len(items))
    keep = rng.random(len(items)) < p
    return [it for it, k in zip(items, keep) if k]


def ev_trips(occupancy: np.ndarray, rng: np.random.Generator) -> list[tuple[int, float]]:
    """(arrival minute, energy to charge [kWh]) for each day the car was away (see the module docstring).

    Active occupancy is zero both while everyone is out and while everyone sleeps: only a zero run that begins
    after the household was up (an active occupant from 05:00 on) counts as being away.
    """
    n_days = len(occupancy) // 144
    out = []
    for d in range(n_days):
        day = occupancy[144 * d: 144 * (d + 1)]
        up = np.flatnonzero(day[30:] > 0)
        arrival = None
        if up.size:
            run = 0
            for slot in range(30 + int(up[0]), 144):
                if day[slot] == 0:
                    run += 1
                elif run * 10 >= EV_AWAY_MIN_H * 60 and slot - run < 120:  # left before 20:00
                    arrival = slot
                    break
                else:
                    run = 0
        km = float(EV_KM_MEDIAN * np.exp(EV_KM_SIGMA * rng.standard_normal()))
        if arrival is not None:
            out.append((d * MINUTES_PER_DAY + arrival * 10 + int(rng.integers(10)),
                        min(km * EV_KWH_PER_KM, EV_MAX_KWH)))
    return out


def charge_profile_kw(energy_kwh: float, charger_kw: float) -> np.ndarray:
    """Constant-power charging of ``energy_kwh`` at ``charger_kw``, minute samples [kW]; the last one partial."""
    full, rest = divmod(energy_kwh * 60.0, charger_kw)
    prof = np.full(int(full) + (rest > 1e-9), charger_kw)
    if rest > 1e-9:
        prof[-1] = rest
    return prof
