"""The VPP's price per settlement period [µEUR/kWh] under the scenario's tariff (``[prices] tariff``), and the
DSO's day-ahead forecast of the feeder's net load that the dynamic tariff follows.

The dynamic tariff is causal (``agents.vpp.tariffs``): the prices of local day D are fixed at noon of day D-1
from the forecast of day D alone. The forecast uses only what is known a day ahead, never the run's weather:
the prosumers' standard load profile (BDEW H0 times their annual demand) minus their clear-sky PV (Ineichen,
astronomy only) times the climatological clear-sky index, with cell temperatures from the climatological daily
cycle of ``[weather]`` (its annual cycle of daily means, ``grid_models.climate``, ± ``daily_temp_swing_c`` / 2,
warmest at 15:00) and its mean wind. Whole local days are forecast, on the run's period grid extended over the
days the horizon starts and ends in, so a period's price is the same in every run whose grid contains it: it
depends neither on the run's length nor on where inside a day the run starts or stops. On chain the buyer
publishes each price two periods ahead (``agents.vpp.operator.EnergyBuyer``); the price itself was known from
noon of the day before.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from agents.vpp import tariffs
from contracts.token import eur_to_ueur
from grid_models.climate import annual_cycle_temp_c
from grid_models.loads import h0_profile_kw
from grid_models.pv import pv_ac_kw_per_kwp
from grid_models.weather import clear_sky
from sim.capabilities.vpp import price_file
from sim.capabilities.vpp.spec import MAX_PRICE_EUR_PER_KWH

WARMEST_HOUR = 15.0  # local hour of the climatological daily temperature maximum (as in grid_models.weather)


def delivery_grid(times: pd.DatetimeIndex, settlement_s: int, n_periods: int) -> tuple[pd.DatetimeIndex, int]:
    """Starts of the run's settlement periods (``times[0]`` + k x ``settlement_s``) extended over the whole local
    days the horizon's periods start in, and the index of the run's first period among them."""
    t0 = times[0]
    first_day = t0.normalize()
    last_start = t0 + pd.Timedelta(seconds=settlement_s * (n_periods - 1))
    end_day = pd.Timestamp(last_start.date() + dt.timedelta(days=1)).tz_localize(t0.tz)
    k_lo = int(np.floor((first_day - t0).total_seconds() / settlement_s))
    k_hi = int(np.ceil((end_day - t0).total_seconds() / settlement_s))
    starts = t0 + pd.to_timedelta(np.arange(k_lo, k_hi) * settlement_s, unit="s")
    starts = starts[(starts >= first_day) & (starts < end_day)]
    return starts, int(np.searchsorted(starts, t0))


def publication_time(period_starts: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """When each period's dynamic price is fixed: ``PUBLICATION_HOUR`` (local) of the day before its delivery
    day."""
    days = period_starts.normalize()
    return pd.DatetimeIndex([pd.Timestamp(d.date() - dt.timedelta(days=1)).tz_localize(d.tz)
                             + pd.Timedelta(hours=tariffs.PUBLICATION_HOUR) for d in days])


def dso_day_ahead_forecast_kw(scenario, step_times: pd.DatetimeIndex) -> np.ndarray:
    """The DSO's forecast of the prosumers' net load [kW] (import positive) over the steps starting at
    ``step_times``, from the scenario alone (see the module docstring)."""
    site, step_s = scenario.site, scenario.run.step_s
    w = scenario.weather.normals(site)
    annual_kwh = sum(g.count * g.annual_load_kwh for g in scenario.population)
    load_kw = h0_profile_kw(step_times, 1.0) * annual_kwh
    sky = clear_sky(step_times, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m)
    mid = step_times + pd.Timedelta(seconds=step_s / 2)
    local_h = (mid.hour + mid.minute / 60.0).to_numpy()
    temp_c = (annual_cycle_temp_c(mid, **w["annual_cycle"])
              + 0.5 * w["daily_temp_swing_c"] * np.cos(2 * np.pi * (local_h - WARMEST_HOUR) / 24.0))
    wind = np.full(len(step_times), w["mean_wind_speed_m_per_s"])
    kwp: dict[tuple[float, float], float] = {}
    for g in scenario.population:
        face = (g.pv_tilt_deg, g.pv_azimuth_at(site.lat))
        kwp[face] = kwp.get(face, 0.0) + g.count * g.pv_kwp
    pv_clear_kw = sum(
        total * pv_ac_kw_per_kwp(tilt_deg=tilt, azimuth_deg=azimuth, solar_zenith=sky["solar_zenith"],
                                 solar_azimuth=sky["solar_azimuth"], dni=sky["dni_clear"], ghi=sky["ghi_clear"],
                                 dhi=sky["dhi_clear"], temp_air=temp_c, wind_speed=wind, day_of_year=mid.dayofyear)
        for (tilt, azimuth), total in kwp.items() if total > 0)
    return load_kw - w["mean_clear_sky_index"] * pv_clear_kw


def dynamic_multipliers(scenario, times: pd.DatetimeIndex, n_periods: int, forecast=dso_day_ahead_forecast_kw
                        ) -> np.ndarray:
    """Dynamic-tariff multiplier of each of the run's ``n_periods`` periods: each delivery day scaled by its own
    day-ahead forecast (``forecast(scenario, step_times)`` [kW], per step)."""
    settlement_s, step_s = scenario.run.settlement_s, scenario.run.step_s
    spp = settlement_s // step_s
    starts, first = delivery_grid(times, settlement_s, n_periods)
    step_times = (starts.repeat(spp)
                  + pd.to_timedelta(np.tile(np.arange(spp) * step_s, len(starts)), unit="s"))
    per_period_kw = np.asarray(forecast(scenario, step_times), dtype=float).reshape(len(starts), spp).mean(axis=1)
    days = np.array([t.date() for t in starts])
    prices = scenario.prices
    mult = tariffs.dynamic(per_period_kw, days, prices.dynamic_low_multiplier, prices.dynamic_high_multiplier)
    return mult[first:first + n_periods]


def price_schedule_ueur(scenario, times: pd.DatetimeIndex, n_periods: int) -> np.ndarray | None:
    """Price per period under the scenario's tariff [µEUR/kWh] (at least 1), or None for the flat tariff (the
    contract's default price applies). ``times``: the run's step starts (tz-aware). With ``tariff = "file"``
    the file's time-weighted means (``price_file.file_prices_ueur``)."""
    prices = scenario.prices
    if prices.tariff == "flat":
        return None
    if prices.tariff == "file":
        return price_file.file_prices_ueur(scenario, MAX_PRICE_EUR_PER_KWH)[0]
    if prices.tariff == "time_of_use":
        starts = times[::scenario.run.settlement_s // scenario.run.step_s]
        mult = tariffs.time_of_use((starts.hour + starts.minute / 60).to_numpy(),
                                   [(w.start_h, w.end_h, w.multiplier) for w in prices.tou_windows])
    else:
        mult = dynamic_multipliers(scenario, times, n_periods)
    return np.maximum(1, np.round(mult * eur_to_ueur(prices.energy_eur_per_kwh))).astype(np.int64)
