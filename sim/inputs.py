"""Everything no decision changes, computed once per run over the whole horizon before the clock starts:
weather, PV potential (actual and clear-sky), household demand and the operator's forecasts.

Household demand is either BDEW's (``[feeder] loads = "bdew"``: H0 with a seeded individual variation) or the
network's own load profiles (``loads = "network"``: SimBench's year of 15-minute values, the run's dates mapped onto
the profile year on the same weekday and averaged over the run's steps, ``grid_models.loads``). PV is pvlib's, from
the run's weather, either way."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from grid_models.loads import (
    h0_profile_kw,
    household_loads_kw,
    profile_offset_s,
    resample_profile_kw,
    slp_of_profile,
    slp_profile_kw,
)
from grid_models.pv import pv_ac_kw_per_kwp
from grid_models.weather import Weather, sun_position, synthetic_weather
from sim.files.profiles import h0_scaled_to, profiles_kw
from sim.files.weather import file_weather
from sim.sections import RunSpec, SiteSpec

if TYPE_CHECKING:
    from grid_models.networks import LoadProfiles
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
    annual_load_kwh: np.ndarray  # (prosumers,): each prosumer household's energy in a year


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
    load_profiles: LoadProfiles | None = None,
) -> Inputs:
    """The run's inputs. With ``load_profiles`` (the feeder network's, for ``loads = "network"``) every household's
    demand is its own profile and a forecaster expects, for each prosumer, the BDEW profile of its profile's family
    (``slp_of_profile``) scaled to its energy over the profile year; otherwise BDEW households."""
    times = run_times(scenario.run, scenario.site)
    site, w = scenario.site, scenario.weather
    weather = file_weather(w, site, times, scenario.run.step_s) if w.file is not None else synthetic_weather(
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
    faces = [(g.pv_tilt_deg, g.pv_azimuth_at(site.lat)) for _, g in groups]
    per_kwp: dict[tuple[float, float], tuple[np.ndarray, np.ndarray]] = {}
    for key in faces:
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
    pv_kw = np.column_stack([per_kwp[key][0] for key in faces] or
                            [np.empty((n, 0))]) * kwp
    pv_clear_kw = np.column_stack([per_kwp[key][1] for key in faces] or
                                  [np.empty((n, 0))]) * kwp

    prosumer_pos = np.arange(0) if prosumer_pos is None else prosumer_pos
    if load_profiles is not None:
        p = load_profiles
        offset = profile_offset_s(times[0], p.start, p.kw.shape[0] * p.step_s)
        household = resample_profile_kw(p.kw, p.step_s, offset, n, scenario.run.step_s)
        annual = p.annual_kwh
        families = [slp_of_profile(p.names[j]) for j in prosumer_pos]
        unit = {f: slp_profile_kw(times, f, 1.0) for f in sorted(set(families))}
        expected = np.column_stack([unit[f] for f in families] or [np.empty((n, 0))]) * annual[prosumer_pos]
    else:
        annual = np.full(n_households, background_annual_kwh)
        annual[prosumer_pos] = [g.annual_load_kwh or background_annual_kwh for _, g in groups]  # None: a load file's
        household = household_loads_kw(times, annual, rng_loads)
        expected = np.outer(h0_profile_kw(times, 1.0), annual[prosumer_pos])
    annual = annual.astype(float)  # a copy: the network's profiles are cached
    measured_profiles(scenario, times, prosumer_pos, household, expected, annual, pv_kw)
    return Inputs(times, int(times[0].timestamp()), weather, pv_kw, pv_clear_kw, household, expected,
                  annual[prosumer_pos])


def measured_profiles(scenario: Scenario, times: pd.DatetimeIndex, prosumer_pos: np.ndarray, household: np.ndarray,
                      expected: np.ndarray, annual: np.ndarray, pv_kw: np.ndarray) -> None:
    """In place: the groups' measured load and PV (``load_file``, ``pv_file``; ``sim.files.profiles``) replace
    the modelled ones of their prosumers. A forecaster expects a measured load as the BDEW H0 profile at the
    file's energy over the run (its annual energy the one that scale means), an ``annual``-scaled one as H0 at
    ``annual_load_kwh``; the clear-sky PV it forecasts from stays pvlib's."""
    step_s, tz, first = scenario.run.step_s, scenario.site.tz, 0
    unit = None
    for g in scenario.population:
        cols = np.arange(first, first + g.count)
        first += g.count
        ids = [f"{g.name}-{i:02d}" for i in range(1, g.count + 1)]
        if g.pv_file is not None:
            pv_kw[:, cols] = profiles_kw(g.pv_file, ids, what="PV output", times=times, step_s=step_s, tz=tz,
                                         scale=g.pv_scale, per=g.pv_kwp)
        if g.load_file is None:
            continue
        kw = profiles_kw(g.load_file, ids, what="household load", times=times, step_s=step_s, tz=tz,
                         scale=g.load_scale, per=g.annual_load_kwh)
        household[:, prosumer_pos[cols]] = kw
        unit = h0_profile_kw(times, 1.0) if unit is None else unit
        if g.load_scale == "annual":
            expected[:, cols] = np.outer(unit, np.full(g.count, g.annual_load_kwh))
            annual[prosumer_pos[cols]] = g.annual_load_kwh
        else:
            expected[:, cols], annual[prosumer_pos[cols]] = h0_scaled_to(kw, unit)
