"""Tariff designs: the price of energy delivered in each settlement period, as multipliers of a base price.

- ``flat``: 1 every period.
- ``time_of_use``: fixed daily windows (local time) with their multipliers, 1 elsewhere.
- ``dynamic``: follows the DSO's day-ahead forecast of the feeder's net load (standard-profile demand minus
  clear-sky PV under the climatological clear-sky index), scaled linearly between a minimum and a maximum
  multiplier over the horizon: energy is worth more when the feeder is expected to import.
"""

from __future__ import annotations

import numpy as np


def flat(n_periods: int) -> np.ndarray:
    return np.ones(n_periods)


def time_of_use(period_start_hour: np.ndarray, windows: list[tuple[float, float, float]]) -> np.ndarray:
    """Multiplier per period from ``(start_h, end_h, multiplier)`` windows on the local hour of the period start."""
    out = np.ones(len(period_start_hour))
    for start_h, end_h, mult in windows:
        out[(period_start_hour >= start_h) & (period_start_hour < end_h)] = mult
    return out


def dynamic(net_load_forecast_kw: np.ndarray, low: float, high: float) -> np.ndarray:
    """Multiplier per period rising linearly from ``low`` at the lowest forecast net load to ``high`` at the highest."""
    x = np.asarray(net_load_forecast_kw, dtype=float)
    span = x.max() - x.min()
    s = (x - x.min()) / span if span > 0 else np.full(x.shape, 0.5)
    return low + (high - low) * s
