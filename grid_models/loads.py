"""Electricity demand from demandlib's BDEW standard load profiles (H0 for households, G* commerce, L*
agriculture), per consumer scaled to its annual consumption and varied by a seeded log-normal AR(1) factor.

Households use the *dynamised* H0 (demandlib's ``h0_dyn`` column): the static H0 times the BDEW dynamisation
factor F(t) = -3.92e-10 t^4 + 3.2e-7 t^3 - 7.02e-5 t^2 + 2.1e-3 t + 1.24 (t: day of the year), which the BDEW
prescribes for H0 to smooth its three seasons into a continuous annual cycle (F = 1.24 on 1 January, 0.78 at
its low on 21 July, 1.26 on 31 December). For 4200 kWh/a: 13.8 kWh/day in January and 9.9 in June (the static
H0: 11.0 and 12.0). demandlib uses a fractional t from 0 and -3.9166e-10 so that its year sums to one; it still
sums to 1.00004 (2025) or 1.0007 (leap 2024), so the profile is renormalised to exactly ``annual_kwh`` per
year. The G* and L* profiles stay static: the BDEW dynamises H0 only.

demandlib 0.2.2 calls ``warnings.simplefilter("error")`` for the whole process inside ``ElecSlp``; every call
here runs inside ``warnings.catch_warnings()``, which restores the process's filters afterwards.

The SLP is the expected profile of many households; a single household is spikier. The factor
``exp(sigma * x - sigma^2 / 2)`` with ``x`` a unit AR(1) series (time constant ``tau_h``) keeps each household's
expected energy equal to the SLP's while giving it individual timing.

References
----------
BDEW (1999, 2017). Standardlastprofile Strom; demandlib (oemof), ``demandlib.bdew.ElecSlp``.
Fünfgeld, C., Tiedemann, R. (2000). Anwendung der Repräsentativen VDEW-Lastprofile step-by-step. VDEW / BTU
Cottbus (the dynamisation polynomial F(t)); demandlib 0.2.2, ``demandlib.bdew.elec_slp.dynamisation_function``.
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
    """BDEW profile ``profile`` of year ``year`` at 15 min, local wall time, scaled to 1 MWh/a [kW]; ``h0`` is
    demandlib's dynamised ``h0_dyn``, renormalised so that the year sums to 1 MWh."""
    import demandlib.bdew as bdew

    column = "h0_dyn" if profile == "h0" else profile
    with warnings.catch_warnings():  # demandlib 0.2.2 sets simplefilter("error") process-wide in ElecSlp
        kw = bdew.ElecSlp(year).get_scaled_power_profiles({column: 1000.0})[column].astype(float)
    return kw * (1000.0 / (kw.sum() * 0.25))


def slp_profile_kw(times: pd.DatetimeIndex, profile: str, annual_kwh: float = 1000.0) -> np.ndarray:
    """Expected demand [kW] of BDEW profile ``profile`` at ``times`` (tz-aware; looked up by local wall time)
    for ``annual_kwh`` [kWh/a]; ``h0`` is the dynamised H0, the others static."""
    if profile not in SLP_PROFILES:
        raise ValueError(f"a BDEW profile, one of {SLP_PROFILES}, got {profile!r}")
    local = times.tz_localize(None) if times.tz is None else times.tz_convert(times.tz).tz_localize(None)
    years = sorted(set(local.year))
    slp = pd.concat([_slp_kw_per_mwh(y, profile) for y in years])
    slp = slp[~slp.index.duplicated()]
    values = slp.reindex(local.floor("15min"), method="ffill").to_numpy()
    return values * annual_kwh / 1000.0


def h0_profile_kw(times: pd.DatetimeIndex, annual_kwh: float = 1000.0) -> np.ndarray:
    """Expected household demand [kW] at ``times`` (tz-aware; looked up by local wall time) for ``annual_kwh``
    [kWh/a]: the dynamised BDEW H0 (demandlib ``h0_dyn``)."""
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


# A network's own load profiles (SimBench's: a year of 15-minute mean powers, 2016, without daylight-saving shifts)
# are mapped onto the run's clock by ``profile_offset_s`` and averaged over the run's steps by ``resample_profile_kw``.


def slp_of_profile(name: str) -> str:
    """The BDEW standard load profile of a SimBench profile name's family (``"G1-B"`` -> ``"g1"``, ``"L2-A"`` ->
    ``"l2"``, ``"H0-C"`` -> ``"h0"``); ``"h0"`` for any other (heat pumps, cars, …)."""
    family = name[:2].lower()
    return family if family in SLP_PROFILES else "h0"


def profile_offset_s(start: pd.Timestamp, profile_start: pd.Timestamp, profile_length_s: int) -> int:
    """Where the run's ``start`` falls in a profile year beginning at ``profile_start`` [s from it].

    The start is read in local standard time (the wall clock less its daylight-saving shift) and moved to the
    profile's year on the same weekday: the date of that year nearest to the same month and day (at most three days
    away, or the week after or before at the profile's ends) with the start's weekday, at the start's time of day.
    From there the run goes on in step with the profile, which is taken as repeating (after its last interval
    comes its first)."""
    start = pd.Timestamp(start)
    std = start.tz_localize(None) - (start.dst() or pd.Timedelta(0)) if start.tzinfo else start
    try:
        same_day = std.replace(year=profile_start.year)
    except ValueError:  # 29 February in a profile year without it
        same_day = std.replace(year=profile_start.year, day=28)
    shift = (std.dayofweek - same_day.dayofweek) % 7
    target = same_day + pd.Timedelta(days=shift - 7 if shift > 3 else shift)
    offset = int((target - profile_start).total_seconds())
    week = 7 * 86_400
    if offset < 0:  # early January: the week after rather than before the profile's start
        offset += week
    elif offset >= profile_length_s:  # late December: the week before rather than after its end
        offset -= week
    return offset


def resample_profile_kw(kw: np.ndarray, profile_step_s: int, offset_s: int, n_steps: int, step_s: int) -> np.ndarray:
    """Mean power of each run step [kW], shape (n_steps, columns), from a profile of mean powers per
    ``profile_step_s`` interval (shape (intervals, columns)), the run starting ``offset_s`` into it.

    Each step's value is the profile's energy over the step divided by its length (the profile held constant within
    its intervals, repeating after its end): no energy is created or lost, at any step length or offset. Steps that
    are the profile's own intervals take its values as they are."""
    kw = np.asarray(kw, dtype=float)
    n = kw.shape[0]
    if step_s == profile_step_s and offset_s % profile_step_s == 0:
        return np.ascontiguousarray(kw[(offset_s // profile_step_s + np.arange(n_steps)) % n])
    cumulative = np.concatenate([np.zeros((1, kw.shape[1])), np.cumsum(kw * profile_step_s, axis=0)])  # [kW s]
    year_s = n * profile_step_s

    def energy(t: np.ndarray) -> np.ndarray:  # [kW s] from the profile's start to t (t may pass its end)
        laps, within = np.divmod(t, year_s)
        i = within // profile_step_s
        return laps[:, None] * cumulative[-1] + cumulative[i] + (within - i * profile_step_s)[:, None] * kw[i % n]

    edges = energy(offset_s + step_s * np.arange(n_steps + 1, dtype=np.int64))
    return np.ascontiguousarray(np.diff(edges, axis=0) / step_s)
