"""Generation sites and consumers of the certificates capability, computed once before the clock starts.

Each site sees the run's weather at its own location (``grid_models.weather.at_site``: its own sun under the
region's clouds, temperature and 10 m wind). Its *potential* is the output the weather allows at full
availability, by the site's model (``MODELS``: pvlib PV or windpowerlib wind); its *generation* is the
potential times its forced-outage availability. The weather oracle's cap of an interval is the potential's
energy over the interval in whole Wh (rounded down), and its weather record is the site's ``RECORD_FIELDS``
over the interval's steps (``grid_models.weather.record_hash``). ``potential_kw`` also recomputes a cap from a
stored record (``gridledger trace``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grid_models.outages import availability
from grid_models.pv import pv_ac_kw_per_kwp
from grid_models.weather import RECORD_FIELDS, Weather, at_site, record_hash, sun_position
from grid_models.wind import wind_farm_kw
from sim.sites.spec import GeneratorSite


def _pv_kw(site: GeneratorSite, times: pd.DatetimeIndex, w: dict[str, np.ndarray]) -> np.ndarray:
    step_s = int((times[1] - times[0]).total_seconds()) if len(times) > 1 else 3600
    zenith, azimuth = sun_position(times, step_s, site.lat, site.lon, site.altitude_m, temp_air_c=w["temp_air"])
    mid_doy = (times + pd.Timedelta(seconds=step_s / 2)).dayofyear
    return site.nameplate_kw * pv_ac_kw_per_kwp(
        tilt_deg=site.tilt_deg, azimuth_deg=site.pv_azimuth_deg, solar_zenith=zenith, solar_azimuth=azimuth,
        dni=w["dni"], ghi=w["ghi"], dhi=w["dhi"], temp_air=w["temp_air"], wind_speed=w["wind_speed"],
        day_of_year=mid_doy,
    )


def _wind_kw(site: GeneratorSite, times: pd.DatetimeIndex, w: dict[str, np.ndarray]) -> np.ndarray:
    return wind_farm_kw(w["wind_speed"], turbine_type=site.turbine_type, hub_height_m=site.hub_height_m,
                        n_turbines=site.n_turbines, roughness_length_m=site.roughness_length_m,
                        profile=site.wind_profile).p_kw


MODELS: dict[str, Callable[[GeneratorSite, pd.DatetimeIndex, dict[str, np.ndarray]], np.ndarray]] = {
    "pv": _pv_kw,
    "wind": _wind_kw,
}


def potential_kw(site: GeneratorSite, times: pd.DatetimeIndex, record: dict[str, np.ndarray]) -> np.ndarray:
    """Output the weather ``record`` (``RECORD_FIELDS`` at ``times``) allows at full availability [kW]."""
    return MODELS[site.technology](site, times, {k: np.asarray(record[k], dtype=float) for k in RECORD_FIELDS})


def energy_wh(p_kw: np.ndarray, step_s: int) -> float:
    """Energy of a power series over its steps [Wh]."""
    return float(np.sum(p_kw) * step_s / 3.6)


@dataclass(frozen=True)
class SiteSeries:
    """One site over the horizon: its weather, potential and generation [kW], and per interval the oracle's
    cap [Wh, floor] and weather record hash (hex)."""

    weather: Weather
    potential_kw: np.ndarray
    available: np.ndarray
    caps_wh: np.ndarray
    record_hashes: list[str]

    @property
    def generation_kw(self) -> np.ndarray:
        return self.potential_kw * self.available

    def record(self, steps: slice) -> dict[str, np.ndarray]:
        return {k: getattr(self.weather, k)[steps] for k in RECORD_FIELDS}


def site_series(site: GeneratorSite, regional: Weather, *, step_s: int, settlement_s: int,
                rng: np.random.Generator) -> SiteSeries:
    w = at_site(regional, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m)
    record = {k: getattr(w, k) for k in RECORD_FIELDS}
    p_kw = potential_kw(site, w.times, record)
    spp = settlement_s // step_s
    n_periods = len(w.times) // spp
    caps = np.array([int(np.floor(energy_wh(p_kw[p * spp : (p + 1) * spp], step_s))) for p in range(n_periods)])
    starts = w.times[::spp].tz_convert("UTC")
    hashes = [record_hash(site.name, starts[p].isoformat(), {k: v[p * spp : (p + 1) * spp] for k, v in record.items()},
                          w.file_sha256) for p in range(n_periods)]
    avail = availability(len(w.times), step_s, rng, mtbf_h=site.mtbf_h, mttr_h=site.mttr_h)
    return SiteSeries(w, p_kw, avail, caps, hashes)
