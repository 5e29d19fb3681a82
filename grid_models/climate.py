"""The annual cycle of daily-mean air temperature: a harmonic around the annual mean, or a curve through twelve
monthly means. Pure functions of the (local) time of year; the synthetic weather adds a diurnal swing and noise
(``grid_models.weather``), the heat demand's reference climate uses the cycle alone (``grid_models.heat_demand``).

The default cycle is Germany's: the area mean over the reference period 1991-2020 of Deutscher Wetterdienst
(DWD) is 9.3 degC for the year, 0.9 degC for January and 18.3 degC for July. A harmonic is symmetric, real
seasons are not (August is warmer than June by ~1.5 K): give ``monthly_mean_temp_c`` for a site's own normals.

References
----------
Deutscher Wetterdienst, Klimareferenzperiode 1991-2020 (Gebietsmittel Deutschland).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

# The default annual cycle: Germany's area mean 1991-2020 (DWD): 9.3 degC, January 0.9, July 18.3 degC; the
# harmonic's amplitude is set so that its January and July means lie 8.7 K either side of the year's
# (a month's mean of the cosine is 0.989 of its peak)
DEFAULT_MEAN_TEMP_C = 9.3
DEFAULT_ANNUAL_TEMP_AMPLITUDE_C = 8.8
COLDEST_DAY_NORTH, COLDEST_DAY_SOUTH = 15, 196  # 15 January, 15 July
DAYS_PER_YEAR = 365.0
MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)


def coldest_day(lat: float) -> int:
    """Default coldest day of the year [day of year]: 15 January north of the equator, 15 July south of it."""
    return COLDEST_DAY_NORTH if lat >= 0 else COLDEST_DAY_SOUTH


def day_of_year_frac(times: pd.DatetimeIndex) -> np.ndarray:
    """Days since 1 January 00:00 in the times' own (local) clock [d], fractional: noon of 15 January is 14.5."""
    seconds = times.hour * 3600 + times.minute * 60 + times.second
    return np.asarray(times.dayofyear - 1, dtype=float) + np.asarray(seconds, dtype=float) / 86400.0


def monthly_curve_knots_c(monthly_mean_temp_c: Sequence[float]) -> np.ndarray:
    """Values [degC] at the middles of the months (of a 365-day year) of the periodic piecewise-linear curve
    whose mean over each month, sampled hourly at the hours' middles, is ``monthly_mean_temp_c`` (12 values,
    January first). Linear in the targets: one 12 x 12 solve (a curve simply through the monthly means would
    flatten the extremes by ~0.3 K)."""
    targets = np.asarray(monthly_mean_temp_c, dtype=float)
    if targets.shape != (12,):
        raise ValueError(f"monthly_mean_temp_c needs 12 values, got {targets.size}")
    starts = np.concatenate(([0.0], np.cumsum(MONTH_DAYS)))
    knots = starts[:-1] + MONTH_DAYS / 2
    t = (np.arange(int(DAYS_PER_YEAR) * 24) + 0.5) / 24.0
    month = np.searchsorted(starts, t, side="right") - 1
    hats = np.stack([np.interp(t, knots, np.eye(12)[j], period=DAYS_PER_YEAR) for j in range(12)], axis=1)
    a = np.stack([hats[month == m].mean(axis=0) for m in range(12)])
    return np.linalg.solve(a, targets)


def annual_cycle_temp_c(times: pd.DatetimeIndex, *, mean_temp_c: float, annual_temp_amplitude_c: float,
                        coldest_day_of_year: int, monthly_mean_temp_c: Sequence[float] | None = None
                        ) -> np.ndarray:
    """Daily-mean air temperature of the annual cycle at ``times`` [degC].

    Harmonic: ``mean_temp_c - annual_temp_amplitude_c cos(2 pi (t - t_c) / 365)``, ``t`` the days since 1 January
    (``day_of_year_frac``), ``t_c`` noon of ``coldest_day_of_year``. With ``monthly_mean_temp_c`` (12 values
    [degC], January first) instead: the periodic piecewise-linear curve through the months' middles whose
    monthly means are those values (``monthly_curve_knots_c``); the harmonic's arguments are then unused.
    A leap year's 31 December repeats 1 January's start."""
    t = day_of_year_frac(times)
    if monthly_mean_temp_c is not None:
        knots = np.concatenate(([0.0], np.cumsum(MONTH_DAYS)))[:-1] + MONTH_DAYS / 2
        return np.interp(t, knots, monthly_curve_knots_c(monthly_mean_temp_c), period=DAYS_PER_YEAR)
    return mean_temp_c - annual_temp_amplitude_c * np.cos(2 * np.pi * (t - (coldest_day_of_year - 0.5)) / DAYS_PER_YEAR)
