"""Household load profile against demandlib's dynamised BDEW H0 (``h0_dyn``) and the published BDEW
dynamisation polynomial; demandlib calls leave the process-wide warning filters as they found them."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from grid_models import loads
from grid_models.heat_demand import bdew_heat_kw
from grid_models.loads import h0_profile_kw, household_loads_kw, slp_profile_kw


def _year(year: int) -> pd.DatetimeIndex:
    return pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="15min", tz="Europe/Berlin", inclusive="left")


def _monthly_kwh(times: pd.DatetimeIndex, kw: np.ndarray) -> np.ndarray:
    return pd.Series(kw * 0.25, index=times.tz_localize(None)).resample("MS").sum().to_numpy()


@pytest.mark.parametrize("year", [2025, 2024])
def test_h0_monthly_energy_matches_demandlib_h0_dyn(year):
    """Each month's energy for 4200 kWh/a within 0.5 % of demandlib's own ``h0_dyn`` column."""
    import demandlib.bdew as bdew

    with warnings.catch_warnings():
        ref = bdew.ElecSlp(year).get_scaled_power_profiles({"h0_dyn": 4200.0})["h0_dyn"]
    ref_monthly = (ref * 0.25).resample("MS").sum().to_numpy()
    times = _year(year)
    assert_allclose(_monthly_kwh(times, h0_profile_kw(times, 4200.0)), ref_monthly, rtol=0.005)


def test_h0_monthly_shape_matches_the_published_dynamisation_polynomial():
    """demandlib's static H0 times the BDEW dynamisation factor F(t) = -3.92e-10 t^4 + 3.2e-7 t^3
    - 7.02e-5 t^2 + 2.1e-3 t + 1.24 (t: day of year, 1..365): each month's share of the year within 0.5 %
    (demandlib itself uses a fractional t from 0 and -3.9166e-10 so that the year sums to one)."""
    import demandlib.bdew as bdew

    with warnings.catch_warnings():
        static = bdew.ElecSlp(2025).get_profiles("h0")["h0"]
    t = np.asarray(static.index.dayofyear, dtype=float)
    dyn = static * (-3.92e-10 * t**4 + 3.2e-7 * t**3 - 7.02e-5 * t**2 + 2.1e-3 * t + 1.24)
    ref_share = dyn.resample("MS").sum().to_numpy() / dyn.sum()
    times = _year(2025)
    monthly = _monthly_kwh(times, h0_profile_kw(times, 1.0))
    assert_allclose(monthly / monthly.sum(), ref_share, rtol=0.005)


def test_h0_january_and_june_daily_energy():
    """4200 kWh/a: about 13.8 kWh/day in January and 9.9 in June (dynamised; the static H0 gives 11.0 and 12.0)."""
    times = _year(2025)
    daily = pd.Series(h0_profile_kw(times, 4200.0) * 0.25, index=times.tz_localize(None)).resample("D").sum()
    jan, jun = daily.loc["2025-01"].mean(), daily.loc["2025-06"].mean()
    assert_allclose([jan, jun], [13.8, 9.9], atol=0.1)
    assert_allclose(h0_profile_kw(times, 4200.0).sum() * 0.25, 4200.0, rtol=1e-3)


def test_demandlib_calls_leave_the_warning_filters_unchanged():
    """demandlib 0.2.2 calls ``warnings.simplefilter("error")`` inside ``ElecSlp``; loads and heat demand must
    not leak it into the process."""
    loads._slp_kw_per_mwh.cache_clear()
    times = pd.date_range("2025-01-06", periods=96 * 2, freq="15min", tz="Europe/Berlin")
    before = list(warnings.filters)
    household_loads_kw(times, np.array([3500.0, 4200.0]), np.random.default_rng(0))
    slp_profile_kw(times, "g0", 1000.0)
    assert warnings.filters == before
    bdew_heat_kw(times, np.full(len(times), 2.0), profile="EFH", building_class=3, annual_kwh=20_000.0)
    assert warnings.filters == before
