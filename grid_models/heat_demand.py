"""Building heat demand from demandlib's BDEW standard heat load profiles, driven by the run's outdoor temperature.

The BDEW method (``demandlib.bdew.HeatBuilding``) turns the daily mean temperature (a geometric series over
four days) into a daily demand through a sigmoid per building type, shapes it by weekday and hour, and
normalises the result so that a *year* of it sums to the annual demand. A run covers weeks, not a year, so
the profile is computed over the 365 days that end with the run: the run's own (hourly mean) temperatures
inside the run, and a reference climate (the annual cycle of ``grid_models.climate``: by default the run's
weather's own, see ``sim/capabilities/heat``) before it. The run's slice then carries the share of the annual
demand its weather implies.

A building is spikier than the standard profile: each building's demand is multiplied by a seeded log-normal
AR(1) factor (``sigma``, time constant ``tau_h``) with unit mean, as for household electricity in
``grid_models.loads``.

References
----------
BDEW/VKU/GEODE (2018). Leitfaden Abwicklung von Standardlastprofilen Gas; demandlib (oemof),
``demandlib.bdew.HeatBuilding``.
Frederiksen, S., Werner, S. (2013). District Heating and Cooling (full-load hours of residential heat demand).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from grid_models.climate import COLDEST_DAY_NORTH, annual_cycle_temp_c
from grid_models.weather import ar1

# Full-load hours of residential space heating + hot water in Northern/Central Europe: design heat [W] is the
# annual demand divided by this (about 2000 h for single- and multi-family houses).
FULL_LOAD_HOURS = 2000.0
DEMAND_SIGMA = 0.15
DEMAND_TAU_H = 2.0
HOURS_PER_YEAR = 8760


def reference_temp_c(times: pd.DatetimeIndex, annual_mean_temp_c: float, annual_amplitude_c: float,
                     coldest_day_of_year: int = COLDEST_DAY_NORTH,
                     monthly_mean_temp_c: Sequence[float] | None = None) -> np.ndarray:
    """Reference-climate air temperature [degC]: the annual cycle of ``grid_models.climate`` (a cosine around
    ``annual_mean_temp_c``, coldest on ``coldest_day_of_year``, or the curve through ``monthly_mean_temp_c``)."""
    return annual_cycle_temp_c(times, mean_temp_c=annual_mean_temp_c, annual_temp_amplitude_c=annual_amplitude_c,
                               coldest_day_of_year=coldest_day_of_year, monthly_mean_temp_c=monthly_mean_temp_c)


def bdew_heat_kw(
    times: pd.DatetimeIndex,
    temp_air: np.ndarray,
    *,
    profile: str,
    building_class: int,
    annual_kwh: float = 1.0,
    annual_mean_temp_c: float = 8.5,
    annual_amplitude_c: float = 8.0,
    coldest_day_of_year: int = COLDEST_DAY_NORTH,
    monthly_mean_temp_c: Sequence[float] | None = None,
    wind_class: int = 0,
) -> np.ndarray:
    """Expected heat demand [kW] of one building at ``times`` (regular, tz-aware, at most a year) for the air
    temperature ``temp_air`` [degC] at those times; looked up by local wall-clock hour. The reference climate
    before the run: ``reference_temp_c`` of the four climate arguments."""
    import demandlib.bdew as bdew

    local = times.tz_localize(None) if times.tz is None else times.tz_convert(times.tz).tz_localize(None)
    run_hours = local.floor("h")
    end = run_hours[-1] + pd.Timedelta(hours=1)
    year = pd.date_range(end=end - pd.Timedelta(hours=1), periods=HOURS_PER_YEAR, freq="h")
    if run_hours[0] < year[0]:
        raise ValueError("heat demand: a run longer than a year is not supported by the BDEW normalisation")
    temps = pd.Series(reference_temp_c(year, annual_mean_temp_c, annual_amplitude_c, coldest_day_of_year,
                                       monthly_mean_temp_c), index=year)
    hourly_run = pd.Series(np.asarray(temp_air, dtype=float), index=run_hours).groupby(level=0).mean()
    temps.loc[hourly_run.index] = hourly_run.to_numpy()
    with warnings.catch_warnings():  # every demandlib call isolated: 0.2.2's ElecSlp sets filters process-wide
        building = bdew.HeatBuilding(year, temperature=temps, shlp_type=profile, building_class=building_class,
                                     wind_class=wind_class, annual_heat_demand=annual_kwh, ww_incl=True)
        hourly_kwh = building.get_bdew_profile()  # kWh per hour = mean kW over the hour
    return hourly_kwh.reindex(run_hours).to_numpy(dtype=float)


def building_heat_w(
    base_kw: np.ndarray, annual_kwh: np.ndarray, rng: np.random.Generator, step_s: float,
    sigma: float = DEMAND_SIGMA, tau_h: float = DEMAND_TAU_H,
) -> np.ndarray:
    """Heat demand of each building [W], shape (steps, buildings): its type's profile per kWh/a (``base_kw``,
    shape (steps, buildings)) times its annual demand times a unit-mean log-normal AR(1) factor."""
    phi = float(np.exp(-step_s / 3600.0 / tau_h))
    annual_kwh = np.asarray(annual_kwh, dtype=float)
    if annual_kwh.size == 0:
        return np.empty_like(base_kw, dtype=float)
    factor = np.exp(sigma * ar1(rng, base_kw.shape[0], phi, n_series=base_kw.shape[1]).T - sigma**2 / 2)
    return np.ascontiguousarray(np.asarray(base_kw, dtype=float) * annual_kwh[None, :] * factor * 1000.0)


def design_heat_w(annual_kwh) -> np.ndarray:
    """Design (peak) heat load [W] from the annual demand [kWh/a] and ``FULL_LOAD_HOURS``."""
    return np.asarray(annual_kwh, dtype=float) / FULL_LOAD_HOURS * 1000.0
