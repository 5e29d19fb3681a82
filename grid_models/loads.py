"""Electricity demand from demandlib's BDEW standard load profiles (H0 for households, G* commerce, L*
agriculture), per consumer scaled to its annual consumption and varied by a seeded log-normal AR(1) factor.

The SLP is the expected profile of many households; a single household is spikier. The factor
``exp(sigma * x - sigma^2 / 2)`` with ``x`` a unit AR(1) series (time constant ``tau_h``) keeps each household's
expected energy equal to the SLP's while giving it individual timing.

demandlib 0.2.2 calls ``warnings.simplefilter("error")`` for the whole process inside ``ElecSlp``; every call
here runs inside ``warnings.catch_warnings()``, which restores the process's filters afterwards.

References
----------
BDEW (1999, 2017). Standardlastprofile Strom; demandlib (oemof), ``demandlib.bdew.ElecSlp``.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import pandas as pd

from grid_models.weather import ar1

HOUSEHOLD_SIGMA = 0.4
HOUSEHOLD_TAU_H = 1.0


# BDEW standard load profiles shipped with demandlib: households, commerce (g0 general, g1 weekdays 8-18,
# g2 evenings, g3 continuous, g4 shops, g5 bakeries, g6 weekends) and agriculture (l0-l2).
SLP_PROFILES = ("h0", "g0", "g1", "g2", "g3", "g4", "g5", "g6", "l0", "l1", "l2")


@cache
def _slp_kw_per_mwh(year: int, profile: str) -> pd.Series:
    """BDEW profile ``profile`` of year ``year`` at 15 min, local standard time, scaled to 1 MWh/a [kW]."""
    import demandlib.bdew as bdew

    with warnings.catch_warnings():  # demandlib 0.2.2 sets simplefilter("error") process-wide in ElecSlp
        return bdew.ElecSlp(year).get_scaled_power_profiles({profile: 1000.0})[profile].astype(float)


def slp_profile_kw(times: pd.DatetimeIndex, profile: str, annual_kwh: float = 1000.0) -> np.ndarray:
    """Expected demand [kW] of BDEW profile ``profile`` at ``times`` (tz-aware; looked up by local wall time)
    for ``annual_kwh``."""
    if profile not in SLP_PROFILES:
        raise ValueError(f"a BDEW profile, one of {SLP_PROFILES}, got {profile!r}")
    local = times.tz_localize(None) if times.tz is None else times.tz_convert(times.tz).tz_localize(None)
    years = sorted(set(local.year))
    slp = pd.concat([_slp_kw_per_mwh(y, profile) for y in years])
    slp = slp[~slp.index.duplicated()]
    values = slp.reindex(local.floor("15min"), method="ffill").to_numpy()
    return values * annual_kwh / 1000.0


def h0_profile_kw(times: pd.DatetimeIndex, annual_kwh: float = 1000.0) -> np.ndarray:
    """Expected household demand [kW] at ``times`` (tz-aware; looked up by local wall time) for ``annual_kwh``."""
    return slp_profile_kw(times, "h0", annual_kwh)


def household_loads_kw(
    times: pd.DatetimeIndex, annual_kwh: np.ndarray, rng: np.random.Generator, profile: str = "h0"
) -> np.ndarray:
    """Demand of each consumer of BDEW profile ``profile`` (households by default) [kW], shape
    (len(times), len(annual_kwh)): the profile times each one's individual factor."""
    base = slp_profile_kw(times, profile, annual_kwh=1.0)
    step_s = (times[1] - times[0]).total_seconds() if len(times) > 1 else 900.0
    phi = float(np.exp(-step_s / 3600.0 / HOUSEHOLD_TAU_H))
    annual_kwh = np.asarray(annual_kwh, dtype=float)
    if annual_kwh.size == 0:
        return np.empty((len(times), 0))
    factor = np.exp(HOUSEHOLD_SIGMA * ar1(rng, len(times), phi, n_series=annual_kwh.size).T - HOUSEHOLD_SIGMA**2 / 2)
    return np.ascontiguousarray(base[:, None] * annual_kwh[None, :] * factor)
