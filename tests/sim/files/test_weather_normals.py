"""What is forecast from climate alone (the VPP's day-ahead forecast, the heat reference year) takes a weather
file's own climate: its monthly mean temperatures, daily swing, mean wind and clear-sky index — checked against
pvlib's own reader and clear sky on the file, not our reading of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from sim.scenario import load_scenario
from tests.conftest import ROOT

TMY3 = ROOT / "scenarios" / "year_tmy3.toml"


@pytest.fixture(scope="module")
def reference():
    from sim.files.weather import pvlib_data_dir

    data, meta = pvlib.iotools.read_tmy3(pvlib_data_dir() / "723170TYA.CSV", coerce_year=1990, map_variables=True)  # as the scenario
    return data, meta


def test_a_files_normals_are_its_own(reference):
    data, meta = reference
    scenario = load_scenario(TMY3)
    got = scenario.weather.normals(scenario.site)
    starts = data.index - pd.Timedelta(hours=1)  # TMY3 stamps end their hour
    local = starts.tz_convert("America/New_York")
    monthly = data["temp_air"].groupby(local.month).mean()
    np.testing.assert_allclose(got["annual_cycle"]["monthly_mean_temp_c"], monthly.to_numpy(), atol=1e-9)
    assert got["mean_wind_speed_m_per_s"] == pytest.approx(data["wind_speed"].mean(), rel=1e-12)
    daily = data["temp_air"].groupby(local.date)
    assert got["daily_temp_swing_c"] == pytest.approx((daily.max() - daily.min()).mean(), rel=1e-12)
    loc = pvlib.location.Location(meta["latitude"], meta["longitude"], altitude=meta["altitude"])
    clear = loc.get_clearsky(starts + pd.Timedelta(minutes=30), model="ineichen")["ghi"]
    assert got["mean_clear_sky_index"] == pytest.approx(data["ghi"].sum() / clear.sum(), rel=1e-9)
    assert 0.6 < got["mean_clear_sky_index"] < 0.9 and -3 < monthly.iloc[0] < monthly.iloc[6]  # winter colder than July


def test_synthetic_weather_keeps_its_own_section():
    scenario = load_scenario(ROOT / "scenarios" / "vpp.toml")
    got = scenario.weather.normals(scenario.site)
    w = scenario.weather
    assert got == dict(annual_cycle=w.annual_cycle(scenario.site.lat), daily_temp_swing_c=w.daily_temp_swing_c,
                       mean_wind_speed_m_per_s=w.mean_wind_speed_m_per_s, mean_clear_sky_index=w.mean_clear_sky_index)
