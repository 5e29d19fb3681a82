"""A customer's own shift of a deferrable appliance to cheaper minutes (tariff response, not demand response).

When a job is released (the customer loads the washing machine, plugs in the car) the appliance picks its start:
the delay ``d`` (whole minutes) that minimises the job's cost ``sum_i profile_kw[i] * price[release + d + i]``
over the delays its customer allows, using only prices known at the release (``PriceSignal.known_from_s``). The
delays allowed are the outlet's own limits: the job still finishes by its deadline (``Job.deadline``: the
customer's ``deadline_h``, an EV by its departure), the wait is at most ``max_delay_per_day_min`` and no minute of
the wait falls in one of the customer's ``no_delay_hours``. A delay is taken only if it is strictly cheaper than
starting at once (ties: the earliest). The job's samples move whole (energy conserved); nothing is reported on
chain: it is the customer's choice, paid back by the bill, not a DR delay (no ``DelayLogged``, no flex token).
"""

from __future__ import annotations

import numpy as np

from agents.dsr.outlet import Limits

COST_EPS_EUR = 1e-9  # a delay must save more than this


def best_delay_min(profile_kw: np.ndarray, release: int, deadline: int, limits: Limits, local_hour, price_min,
                   known_from_s, step_s: int = 60) -> int:
    """The delay [min] at which a job released at minute ``release`` (``profile_kw`` per minute, finishing by
    ``deadline``) costs least under the per-minute ``price_min`` [EUR/kWh] known at its release; 0 if none is
    strictly cheaper. ``local_hour(minute)``: the local hour of a minute (``limits.no_delay_hours``)."""
    n = len(profile_kw)
    slack = min(deadline - (release + n), limits.max_delay_per_day_min)
    if slack <= 0:
        return 0
    now_s = release * step_s
    best_d, best_cost = 0, None
    for d in range(slack + 1):
        if d > 0 and not limits.hour_allowed(local_hour(release + d - 1)):
            break  # the wait would cover a no-delay minute: no later start either
        window = slice(release + d, release + d + n)
        if (known_from_s[window] > now_s).any():
            break  # later prices are not yet known at the release
        cost = float(profile_kw @ price_min[window]) / 60.0 * (step_s / 60.0)
        if best_cost is None or cost < best_cost - COST_EPS_EUR:
            best_d, best_cost = d, cost
    return best_d


def shift_jobs(fleet, outlets, price_min: np.ndarray, known_from_s: np.ndarray, step_s: int = 60) -> list[dict]:
    """Shift every deferrable job of ``fleet`` (a ``DeferrableFleet``; ``outlets``: column -> its ``Outlet``) to
    its cheapest allowed start (``best_delay_min``); returns one row per job shifted: outlet, release, delay_min,
    energy_kwh."""
    shifted = []
    for job in fleet.jobs:
        outlet = outlets[job.outlet]
        release = int(job.minutes[0])
        if release >= len(price_min) - len(job.profile_kw):
            continue  # its run would leave the priced horizon
        d = best_delay_min(job.profile_kw, release, job.deadline, outlet.limits, outlet.local_hour, price_min,
                           known_from_s, step_s)
        if d > 0:
            fleet.start_later(job, d)
            shifted.append({"outlet": outlet.name, "release_min": release, "delay_min": d,
                            "energy_kwh": job.energy_kwh})
    return shifted
