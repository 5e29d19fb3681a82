"""Tariff designs: the price of energy delivered in each settlement period, as multipliers of a base price.

- ``flat``: 1 every period.
- ``time_of_use``: fixed daily windows (local time) with their multipliers, 1 elsewhere.
- ``dynamic``: day-ahead, as day-ahead markets price (EPEX SPOT closes its auction for day D at noon of day D-1):
  the prices of each local day are published at noon of the day before (``PUBLICATION_HOUR``) and follow the
  DSO's day-ahead forecast of the feeder's net load for that day, scaled linearly between a minimum and a
  maximum multiplier by **that day's own** lowest and highest forecast: energy is worth more when the feeder is
  expected to import. A price therefore uses only what its publisher knew at publication: the forecast of the
  day it prices, never a later period's, and never the run's length (the forecast itself is built from what is
  known a day ahead: ``sim.capabilities.vpp.prices``). The scaling used to run over the whole horizon, so
  the same hour was priced differently in 1-, 2- and 4-day runs (55 000, 58 797 and 55 946 µEUR/kWh).
"""

from __future__ import annotations

import numpy as np

PUBLICATION_HOUR = 12  # local hour of day D-1 at which the dynamic prices of day D are fixed


def flat(n_periods: int) -> np.ndarray:
    return np.ones(n_periods)


def time_of_use(period_start_hour: np.ndarray, windows: list[tuple[float, float, float]]) -> np.ndarray:
    """Multiplier per period from ``(start_h, end_h, multiplier)`` windows on the local hour of the period start."""
    out = np.ones(len(period_start_hour))
    for start_h, end_h, mult in windows:
        out[(period_start_hour >= start_h) & (period_start_hour < end_h)] = mult
    return out


def dynamic(net_load_forecast_kw: np.ndarray, day: np.ndarray, low: float, high: float) -> np.ndarray:
    """Multiplier per period: within each delivery day (``day``: a label per period, e.g. the local date of its
    start), rising linearly from ``low`` at the day's lowest forecast net load [kW] to ``high`` at its highest
    (0.5 of the way for a day with a flat forecast). A day's multipliers depend on that day's forecasts alone."""
    x = np.asarray(net_load_forecast_kw, dtype=float)
    day = np.asarray(day)
    out = np.empty_like(x)
    for d in np.unique(day):
        mine = day == d
        lo, hi = x[mine].min(), x[mine].max()
        out[mine] = (x[mine] - lo) / (hi - lo) if hi > lo else 0.5
    return low + (high - low) * out
