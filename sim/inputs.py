"""Everything no decision changes, computed once per run over the whole horizon before the clock starts:
weather, PV potential (actual and clear-sky), household demand and the operator's forecasts."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from grid_models.loads import h0_profile_kw, household_loads_kw
from grid_models.pv import pv_ac_kw_per_kwp
from grid_models.weather import Weather, sun_position, synthetic_weather
from sim.sections import RunSpec, SiteSpec

if TYPE_CHECKING:
    from sim.scenario import Scenario


@dataclass(frozen=True)
class Inputs:
    times: pd.DatetimeIndex  # interval starts, tz-aware
    t0_s: int  # epoch seconds of run.start
    weather: Weather
    pv_kw: np.ndarray  # (steps, prosumers)
    pv_clear_kw: np.ndarray  # (steps, prosumers)
    household_load_kw: np.ndarray  # (steps, households on the feeder)
    expected_load_kw: np.ndarray  # (steps, prosumers): standard profile, what a forecaster knows


def run_times(run: RunSpec, site: SiteSpec) -> pd.DatetimeIndex:
    """The start of every step, in the site's time zone."""
    start = pd.Timestamp(run.start)
    tz = zoneinfo.ZoneInfo(site.tz)
    start = start.tz_localize(tz) if start.tzinfo is None else start.tz_convert(tz)
    return pd.date_range(start, periods=run.duration_s // run.step_s, freq=pd.Timedelta(seconds=run.step_s))


def prosumer_params(scenario: Scenario) -> list[tuple[str, object]]:
    """(prosumer id, its population group), in the scenario's fixed order."""
    return [(f"{g.name}-{i:02d}", g) for g in scenario.population for i in range(1, g.count + 1)]


def compute_inputs(
    scenario: Scenario,
    *,
    n_households: int = 0,
    prosumer_pos: np.ndarray | None = None,
    rng_weather: np.random.Generator,
    rng_loads: np.random.Generator,
    background_annual_kwh: float = 3500.0,
) -> Inputs:
    times = run_times(scenario.run, scenario.site)
    site, w = scenario.site, scenario.weather
    weather = synthetic_weather(
        times, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m, rng=rng_weather,
        mean_clear_sky_index=w.mean_clear_sky_index, cloud_persistence_h=w.cloud_persistence_h,
        daily_temp_swing_c=w.daily_temp_swing_c, mean_wind_speed_m_per_s=w.mean_wind_speed_m_per_s,
        **w.annual_cycle(site.lat),
    )
    mid_doy = (times + pd.Timedelta(seconds=scenario.run.step_s / 2)).dayofyear
    # the sun as pvlib's ModelChain places it for PV: refraction at the air temperature
    zenith, azimuth = sun_position(times, scenario.run.step_s, site.lat, site.lon, site.altitude_m,
                                   temp_air_c=weather.temp_air)
    groups = prosumer_params(scenario)
    per_kwp: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
    for _, g in groups:
        key = (g.pv_tilt_deg, g.pv_azimuth_deg)
        if key not in per_kwp:
            common = dict(tilt_deg=key[0], azimuth_deg=key[1], solar_zenith=zenith,
                          solar_azimuth=azimuth, temp_air=weather.temp_air,
                          wind_speed=weather.wind_speed, day_of_year=mid_doy)
            per_kwp[key] = (
                pv_ac_kw_per_kwp(dni=weather.dni, ghi=weather.ghi, dhi=weather.dhi, **common),
                pv_ac_kw_per_kwp(dni=weather.dni_clear, ghi=weather.ghi_clear, dhi=weather.dhi_clear, **common),
            )
    kwp = np.array([g.pv_kwp for _, g in groups])
    n = len(times)
    pv_kw = np.column_stack([per_kwp[(g.pv_tilt_deg, g.pv_azimuth_deg)][0] for _, g in groups] or
                            [np.empty((n, 0))]) * kwp
    pv_clear_kw = np.column_stack([per_kwp[(g.pv_tilt_deg, g.pv_azimuth_deg)][1] for _, g in groups] or
                                  [np.empty((n, 0))]) * kwp

    prosumer_pos = np.arange(0) if prosumer_pos is None else prosumer_pos
    annual = np.full(n_households, background_annual_kwh)
    annual[prosumer_pos] = [g.annual_load_kwh for _, g in groups]
    household = household_loads_kw(times, annual, rng_loads)
    expected = np.outer(h0_profile_kw(times, 1.0), annual[prosumer_pos])
    return Inputs(times, int(times[0].timestamp()), weather, pv_kw, pv_clear_kw, household, expected)
