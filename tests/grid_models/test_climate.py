"""The synthetic weather's annual temperature cycle: monthly means of a year against the configured curve.

References not ours: the harmonic's monthly means are the closed-form mean of a cosine over each month,
(sin(w b) - sin(w a)) / (w (b - a)); the monthly curve's are the twelve values the scenario gives (here DWD's
monthly means for Germany, 1991-2020)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from grid_models.climate import annual_cycle_temp_c
from grid_models.weather import synthetic_weather

MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
DWD_GERMANY_1991_2020 = [0.9, 1.5, 4.7, 9.0, 13.1, 16.4, 18.3, 17.9, 13.8, 9.4, 4.8, 1.8]


def _year(freq: str, tz: str = "UTC") -> pd.DatetimeIndex:
    """A year of steps; in UTC unless ``tz`` (a local clock with summer time has one hour fewer in March)."""
    return pd.date_range("2025-01-01", "2026-01-01", freq=freq, tz=tz, inclusive="left")


def _monthly_means(times: pd.DatetimeIndex, values: np.ndarray) -> np.ndarray:
    return pd.Series(values, index=times).groupby(times.month).mean().to_numpy()


def _cosine_monthly_means(mean_c: float, amplitude_c: float, coldest_day: int) -> np.ndarray:
    """Closed-form monthly means of mean - amplitude cos(w (t - t_c)), t in days since 1 January 00:00."""
    w, t_c = 2 * np.pi / 365.0, coldest_day - 0.5
    edges = np.concatenate(([0.0], np.cumsum(MONTH_DAYS)))
    a, b = edges[:-1] - t_c, edges[1:] - t_c
    return mean_c - amplitude_c * (np.sin(w * b) - np.sin(w * a)) / (w * (b - a))


@pytest.mark.parametrize(("mean_c", "amplitude_c", "coldest_day"), [(9.3, 8.8, 15), (17.0, 5.0, 196), (-3.0, 20.0, 30)])
def test_harmonic_monthly_means_are_the_cosines(mean_c, amplitude_c, coldest_day):
    times = _year("1h")
    mid = times + pd.Timedelta(minutes=30)
    curve = annual_cycle_temp_c(mid, mean_temp_c=mean_c, annual_temp_amplitude_c=amplitude_c,
                                coldest_day_of_year=coldest_day)
    assert_allclose(_monthly_means(times, curve), _cosine_monthly_means(mean_c, amplitude_c, coldest_day), atol=1e-3)
    assert_allclose(curve.mean(), mean_c, atol=1e-3)


@pytest.mark.parametrize("freq", ["1h", "15min"])
def test_monthly_curve_has_the_given_monthly_means(freq):
    times = _year(freq)
    mid = times + pd.Timedelta(seconds=pd.Timedelta(freq).total_seconds() / 2)
    curve = annual_cycle_temp_c(mid, mean_temp_c=0.0, annual_temp_amplitude_c=0.0, coldest_day_of_year=15,
                                monthly_mean_temp_c=DWD_GERMANY_1991_2020)
    assert_allclose(_monthly_means(times, curve), DWD_GERMANY_1991_2020, atol=1e-3)
    assert np.abs(np.diff(curve)).max() < 0.2 * pd.Timedelta(freq).total_seconds() / 3600  # smooth, no jumps
    assert curve.max() > max(DWD_GERMANY_1991_2020) and curve.min() < min(DWD_GERMANY_1991_2020)  # extremes kept


@pytest.mark.parametrize(("lat", "tz", "cycle"), [
    (48.14, "Europe/Berlin", dict(mean_temp_c=9.3, annual_temp_amplitude_c=8.8)),
    (-33.92, "Africa/Johannesburg", dict(mean_temp_c=16.5, annual_temp_amplitude_c=4.5)),
    (48.14, "Europe/Berlin", dict(monthly_mean_temp_c=DWD_GERMANY_1991_2020)),
], ids=["harmonic-north", "harmonic-south", "monthly"])
def test_a_year_of_weather_has_the_configured_monthly_means(lat, tz, cycle):
    """A year of synthetic weather: each month's mean air temperature is the curve's, to within the AR(1)
    noise (2 K, 24 h: a month's mean varies by ~0.5 K), and the coldest month is in the hemisphere's winter."""
    times = _year("1h", tz)
    w = synthetic_weather(times, lat=lat, lon=11.58 if lat > 0 else 18.42, altitude_m=100.0,
                          rng=np.random.default_rng(5), **cycle)
    if "monthly_mean_temp_c" in cycle:
        expected = np.array(DWD_GERMANY_1991_2020)
    else:
        expected = _cosine_monthly_means(cycle["mean_temp_c"], cycle["annual_temp_amplitude_c"], 15 if lat > 0 else 196)
    got = _monthly_means(times, w.temp_air)
    assert np.abs(got - expected).max() < 1.5, np.c_[got, expected]
    assert np.abs(got - expected).mean() < 0.7
    assert np.argmin(got) + 1 in ((12, 1, 2) if lat > 0 else (6, 7, 8))
    assert got.max() - got.min() > 1.5 * (expected.max() - expected.min()) / 2  # a seasonal cycle, not one mean
