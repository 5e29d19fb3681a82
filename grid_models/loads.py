"""Household electricity demand from demandlib's BDEW standard load profile H0 (dynamised), per household
scaled to its annual consumption and varied by a seeded log-normal AR(1) factor.

The SLP is the expected profile of many households; a single household is spikier. The factor
``exp(sigma * x - sigma^2 / 2)`` with ``x`` a unit AR(1) series (time constant ``tau_h``) keeps each household's
expected energy equal to the SLP's while giving it individual timing.

References
----------
BDEW (1999, 2017). Standardlastprofile Strom; demandlib (oemof), ``demandlib.bdew.ElecSlp``.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from grid_models.weather import ar1

HOUSEHOLD_SIGMA = 0.4
HOUSEHOLD_TAU_H = 1.0


@cache
def _h0_kw_per_mwh(year: int) -> pd.Series:
    """H0 profile of year ``year`` at 15 min, local standard time, scaled to 1 MWh/a [kW]."""
    import demandlib.bdew as bdew

    profile = bdew.ElecSlp(year).get_scaled_power_profiles({"h0": 1000.0})["h0"]
    return profile.astype(float)


def h0_profile_kw(times: pd.DatetimeIndex, annual_kwh: float = 1000.0) -> np.ndarray:
    """Expected household demand [kW] at ``times`` (tz-aware; looked up by local wall time) for ``annual_kwh``."""
    local = times.tz_localize(None) if times.tz is None else times.tz_convert(times.tz).tz_localize(None)
    years = sorted(set(local.year))
    slp = pd.concat([_h0_kw_per_mwh(y) for y in years])
    slp = slp[~slp.index.duplicated()]
    values = slp.reindex(local.floor("15min"), method="ffill").to_numpy()
    return values * annual_kwh / 1000.0


def household_loads_kw(
    times: pd.DatetimeIndex, annual_kwh: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Demand of each household [kW], shape (len(times), len(annual_kwh))."""
    base = h0_profile_kw(times, annual_kwh=1.0)
    step_s = (times[1] - times[0]).total_seconds() if len(times) > 1 else 900.0
    phi = float(np.exp(-step_s / 3600.0 / HOUSEHOLD_TAU_H))
    out = np.empty((len(times), len(annual_kwh)))
    for j, kwh in enumerate(annual_kwh):
        factor = np.exp(HOUSEHOLD_SIGMA * ar1(rng, len(times), phi) - HOUSEHOLD_SIGMA**2 / 2)
        out[:, j] = base * kwh * factor
    return out
