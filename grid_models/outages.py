"""Forced outages of a generation site: a two-state (up/down) Markov process with exponential times to failure
and to repair, sampled per step and seeded. Availability 1 means the site produces what the weather allows.

References
----------
Billinton, R., Allan, R. N. (1996). Reliability Evaluation of Power Systems, ch. 2 (two-state model).
"""

from __future__ import annotations

import numpy as np


def availability(n_steps: int, step_s: int, rng: np.random.Generator, *, mtbf_h: float, mttr_h: float
                 ) -> np.ndarray:
    """0/1 availability per step; mean time between failures ``mtbf_h`` and to repair ``mttr_h`` [h]."""
    p_fail = 1.0 - np.exp(-step_s / 3600.0 / mtbf_h)
    p_repair = 1.0 - np.exp(-step_s / 3600.0 / mttr_h)
    u = rng.random(n_steps)
    out = np.ones(n_steps)
    up = True
    for k in range(n_steps):
        up = (u[k] >= p_fail) if up else (u[k] < p_repair)
        out[k] = 1.0 if up else 0.0
    return out


def units_availability(n_units: int, n_steps: int, step_s: int, rng: np.random.Generator, *, mtbf_h: float,
                       mttr_h: float) -> np.ndarray:
    """Share of ``n_units`` identical, independently failing units (inverters, turbines) up, per step [0..1]:
    a partial outage when some but not all are down."""
    return np.mean([availability(n_steps, step_s, rng, mtbf_h=mtbf_h, mttr_h=mttr_h) for _ in range(n_units)], axis=0)


def forced_unavailability(mtbf_h: float, mttr_h: float) -> float:
    """Steady-state share of time a two-state unit is down: MTTR / (MTBF + MTTR)."""
    return mttr_h / (mtbf_h + mttr_h)


def units_down_paths(n_units: int, n_periods: int, period_s: int, rng: np.random.Generator, *, draws: int,
                     mtbf_h: float, mttr_h: float) -> np.ndarray:
    """``draws`` independent paths of the number of ``n_units`` units down per period [count], shape
    (draws, n_periods): the two-state process of ``availability`` at period resolution, all units up at the
    start, vectorised over draws and units."""
    p_fail = 1.0 - np.exp(-period_s / 3600.0 / mtbf_h)
    p_repair = 1.0 - np.exp(-period_s / 3600.0 / mttr_h)
    up = np.ones((draws, n_units), dtype=bool)
    out = np.empty((draws, n_periods), dtype=np.int64)
    for t in range(n_periods):
        u = rng.random((draws, n_units))
        up = np.where(up, u >= p_fail, u < p_repair)
        out[:, t] = n_units - up.sum(axis=1)
    return out
