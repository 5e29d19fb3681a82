"""Site weather over a horizon, offline and seeded.

Irradiance: pvlib's Ineichen clear sky (Linke turbidity from pvlib's bundled climatology) times a clear-sky
index ``kc`` from a seeded AR(1) process (hourly, interpolated): the global is ``kc`` times the clear sky's and
clouds turn beam into diffuse by Erbs' diffuse fraction (``split_under_clouds``), so that ``kc = 1`` is exactly
the Ineichen clear sky, beam and diffuse, at every sun elevation. Air temperature: the annual cycle of daily
means (``grid_models.climate``: a harmonic, or a curve through twelve monthly means) plus a diurnal cosine (peak
at 15:00 local) whose swing shrinks under clouds, plus AR(1) noise (2 K, 24 h). Wind speed at 10 m: Weibull
(k = 2) marginal from an AR(1) Gaussian copula.

This is a documented synthetic model, not measured data: it reproduces the diurnal and seasonal shape of
the sun exactly (pvlib) and the persistence of cloudy spells, which is what settlement against declarations
needs. ``weather_hash`` identifies the record for provenance.

References
----------
Ineichen, P., Perez, R. (2002). A new airmass independent formulation for the Linke turbidity coefficient.
Erbs, D. G., Klein, S. A., Duffie, J. A. (1982). Estimation of the diffuse radiation fraction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pvlib
from scipy import signal, stats

from grid_models.climate import (
    DEFAULT_ANNUAL_TEMP_AMPLITUDE_C,
    DEFAULT_MEAN_TEMP_C,
    annual_cycle_temp_c,
    coldest_day,
)


@dataclass(frozen=True)
class Weather:
    """Weather on the run's time index (interval start, tz-aware). Irradiance [W/m2], temp [degC], wind [m/s]."""

    times: pd.DatetimeIndex
    ghi: np.ndarray
    dni: np.ndarray
    dhi: np.ndarray
    ghi_clear: np.ndarray
    dni_clear: np.ndarray
    dhi_clear: np.ndarray
    clear_sky_index: np.ndarray
    temp_air: np.ndarray
    wind_speed: np.ndarray
    solar_zenith: np.ndarray
    solar_azimuth: np.ndarray
    # where the weather is exactly as given (a weather file's location), and the file's sha256; None: synthetic
    lat: float | None = None
    lon: float | None = None
    altitude_m: float | None = None
    file_sha256: str | None = None

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {k: getattr(self, k) for k in ("ghi", "dni", "dhi", "temp_air", "wind_speed", "clear_sky_index")},
            index=self.times,
        )

    def weather_hash(self) -> str:
        """sha256 of the record (float64 bytes of every series), for provenance."""
        h = hashlib.sha256()
        for arr in (self.ghi, self.dni, self.dhi, self.temp_air, self.wind_speed):
            h.update(np.ascontiguousarray(arr, dtype=np.float64).tobytes())
        return h.hexdigest()


def ar1(rng: np.random.Generator, n: int, phi: float, n_series: int | None = None) -> np.ndarray:
    """Stationary AR(1) series with unit variance and lag-1 autocorrelation ``phi``: ``x[0] = e[0]``,
    ``x[i] = phi x[i-1] + sqrt(1 - phi^2) e[i]`` with standard normal ``e``. Shape (n,), or (n_series, n) for
    ``n_series`` independent series (drawn one after the other: the same numbers as ``n_series`` calls).

    The recursion runs in scipy's ``lfilter`` (compiled), which performs exactly these additions and products."""
    eps = rng.standard_normal(n if n_series is None else (n_series, n))
    drive = np.sqrt(1.0 - phi * phi) * eps
    drive[..., :1] = eps[..., :1]
    return signal.lfilter([1.0], [1.0, -phi], drive, axis=-1)


def _hourly_to_steps(hourly: np.ndarray, n_steps: int, step_s: int) -> np.ndarray:
    t_h = np.arange(n_steps) * step_s / 3600.0
    return np.interp(t_h, np.arange(hourly.size), hourly)


def synthetic_weather(
    times: pd.DatetimeIndex,
    *,
    lat: float,
    lon: float,
    altitude_m: float,
    rng: np.random.Generator,
    mean_clear_sky_index: float = 0.7,
    cloud_persistence_h: float = 6.0,
    mean_temp_c: float = DEFAULT_MEAN_TEMP_C,
    annual_temp_amplitude_c: float = DEFAULT_ANNUAL_TEMP_AMPLITUDE_C,
    coldest_day_of_year: int | None = None,
    monthly_mean_temp_c: Sequence[float] | None = None,
    daily_temp_swing_c: float = 8.0,
    mean_wind_speed_m_per_s: float = 4.0,
) -> Weather:
    """Weather for ``times`` (regular, tz-aware, interval start) at the site; see the module docstring. The
    temperature's annual cycle: ``annual_cycle_temp_c`` (``coldest_day_of_year`` None: by the hemisphere of
    ``lat``)."""
    n = len(times)
    step_s = _step_s(times)
    n_hours = int(np.ceil(n * step_s / 3600)) + 1
    phi = float(np.exp(-1.0 / cloud_persistence_h))
    z = _hourly_to_steps(ar1(rng, n_hours, phi), n, step_s)
    # kc in (0.05, 1.0]: a logistic map of the AR(1) latent, centred so that its mean is ~mean_clear_sky_index
    centre = np.log(mean_clear_sky_index / (1.0 - mean_clear_sky_index + 1e-9))
    kc = 0.05 + 0.95 / (1.0 + np.exp(-(centre + 1.6 * z)))
    sky = _sky(times, step_s, lat, lon, altitude_m, kc)
    mid = times + pd.Timedelta(seconds=step_s / 2)

    local_h = (mid.hour + mid.minute / 60.0).to_numpy()
    swing = daily_temp_swing_c * (0.4 + 0.6 * kc)
    temp_noise = _hourly_to_steps(ar1(rng, n_hours, float(np.exp(-1.0 / 24.0))), n, step_s)
    daily_mean = annual_cycle_temp_c(
        mid, mean_temp_c=mean_temp_c, annual_temp_amplitude_c=annual_temp_amplitude_c,
        monthly_mean_temp_c=monthly_mean_temp_c,
        coldest_day_of_year=coldest_day(lat) if coldest_day_of_year is None else coldest_day_of_year)
    temp_air = daily_mean + 0.5 * swing * np.cos(2 * np.pi * (local_h - 15.0) / 24.0) + 2.0 * temp_noise

    u = stats.norm.cdf(_hourly_to_steps(ar1(rng, n_hours, float(np.exp(-1.0 / 8.0))), n, step_s))
    weibull_scale = mean_wind_speed_m_per_s / 0.886226925  # Gamma(1 + 1/2)
    wind = stats.weibull_min.ppf(np.clip(u, 1e-9, 1 - 1e-9), 2.0, scale=weibull_scale)

    return Weather(times=times, clear_sky_index=kc, temp_air=temp_air, wind_speed=wind, **sky)


def _step_s(times: pd.DatetimeIndex) -> int:
    return int((times[1] - times[0]).total_seconds()) if len(times) > 1 else 3600


def sun_position(times: pd.DatetimeIndex, step_s: int, lat: float, lon: float, altitude_m: float,
                 temp_air_c: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Apparent solar zenith and azimuth [deg] at the middles of the intervals starting at ``times``. The
    refraction is for the air temperature ``temp_air_c`` [degC] at those times (pvlib's ``ModelChain`` does the
    same with its weather's), or pvlib's standard 12 degC; the pressure is the site's altitude's."""
    kwargs = {} if temp_air_c is None else {"temperature": np.asarray(temp_air_c, dtype=float)}
    solpos = pvlib.location.Location(lat, lon, altitude=altitude_m).get_solarposition(
        times + pd.Timedelta(seconds=step_s / 2), **kwargs)
    return solpos["apparent_zenith"].to_numpy(), solpos["azimuth"].to_numpy()


def clear_sky(times: pd.DatetimeIndex, *, lat: float, lon: float, altitude_m: float) -> dict[str, np.ndarray]:
    """Sun position [deg] and clear-sky irradiance [W/m2] (Ineichen) at the middles of the intervals starting at
    ``times``: ``solar_zenith``, ``solar_azimuth``, ``ghi_clear``, ``dni_clear``, ``dhi_clear``; astronomy only,
    the same values ``synthetic_weather`` gives for those intervals, whatever the horizon."""
    sky = _sky(times, _step_s(times), lat, lon, altitude_m, np.ones(len(times)))
    return {k: sky[k] for k in ("solar_zenith", "solar_azimuth", "ghi_clear", "dni_clear", "dhi_clear")}


def erbs_beam_ratio(clear_sky_index: np.ndarray, ghi_clear: np.ndarray, zenith_deg: np.ndarray,
                    day_of_year: np.ndarray) -> np.ndarray:
    """Share of the clear sky's beam (DNI) left under a clear-sky index ``kc`` [1], by Erbs' diffuse fraction:
    ``DNI_Erbs(kc GHI_clear) / DNI_Erbs(GHI_clear)``, in [0, 1]; 1 where ``kc = 1`` and where there is no
    clear-sky GHI.

    Erbs' diffuse fraction ``DF(kt)`` grows as the clearness index ``kt`` falls, so clouds take the beam faster
    than the global (ratio <= kc; at high sun kc = 0.2 leaves 0.3 % of the beam). The ratio uses Erbs at every
    elevation: pvlib's ``erbs`` sets DNI to 0 above ``max_zenith`` (87 deg), a guard for measured GHI; here the
    zenith cancels out of the ratio (both DNIs divide by the same cos(zenith)), so the guard is lifted (90 deg)."""
    def erbs_dni(ghi: np.ndarray) -> np.ndarray:
        out = pvlib.irradiance.erbs(ghi, zenith_deg, day_of_year, max_zenith=90.0)["dni"]
        return np.nan_to_num(np.asarray(out, dtype=float))

    kc = np.asarray(clear_sky_index, dtype=float)
    clear = erbs_dni(ghi_clear)
    ratio = np.divide(erbs_dni(kc * ghi_clear), clear, out=np.ones_like(clear), where=clear > 0)
    return np.where(kc == 1.0, 1.0, np.clip(ratio, 0.0, 1.0))


def split_under_clouds(clear_sky_index: np.ndarray, ghi_clear: np.ndarray, dni_clear: np.ndarray,
                       dhi_clear: np.ndarray, zenith_deg: np.ndarray, day_of_year: np.ndarray) -> dict:
    """GHI, DNI, DHI [W/m2] under a clear-sky index ``kc`` [1] from a clear sky (``*_clear`` [W/m2]).

    What "the clear sky times kc" means for beam and diffuse: clouds scale the global by ``kc`` (GHI = kc
    GHI_clear, the index's definition) and turn part of the beam into diffuse: DNI = DNI_clear x Erbs' beam
    ratio (``erbs_beam_ratio``), DHI = kc DHI_clear + (kc DNI_clear - DNI) cos(zenith), the beam that clouds
    scatter. So ``kc = 1`` gives the clear sky itself, beam and diffuse, at every sun elevation, and closure
    holds as in the clear sky (GHI = DNI cos(zenith) + DHI)."""
    kc = np.asarray(clear_sky_index, dtype=float)
    dni = dni_clear * erbs_beam_ratio(kc, ghi_clear, zenith_deg, day_of_year)
    cos_z = np.clip(np.cos(np.radians(zenith_deg)), 0.0, None)
    dhi = np.clip(kc * dhi_clear + (kc * dni_clear - dni) * cos_z, 0.0, None)
    return dict(ghi=kc * ghi_clear, dni=dni, dhi=dhi)


def _sky(times: pd.DatetimeIndex, step_s: int, lat: float, lon: float, altitude_m: float, kc: np.ndarray) -> dict:
    """Sun position and irradiance at the interval middles: pvlib's Ineichen clear sky under the clear-sky index
    ``kc`` (``split_under_clouds``)."""
    loc = pvlib.location.Location(lat, lon, altitude=altitude_m)
    mid = times + pd.Timedelta(seconds=step_s / 2)  # irradiance at the interval's middle
    solpos = loc.get_solarposition(mid)
    cs = loc.get_clearsky(mid, model="ineichen", solar_position=solpos)
    zenith = solpos["apparent_zenith"].to_numpy()
    clear = {k: cs[k].to_numpy() for k in ("ghi", "dni", "dhi")}
    return dict(
        **split_under_clouds(kc, clear["ghi"], clear["dni"], clear["dhi"], zenith, mid.dayofyear.to_numpy()),
        ghi_clear=clear["ghi"], dni_clear=clear["dni"], dhi_clear=clear["dhi"],
        solar_zenith=zenith, solar_azimuth=solpos["azimuth"].to_numpy(),
    )


def at_site(regional: Weather, *, lat: float, lon: float, altitude_m: float,
            clear_sky_index: np.ndarray | None = None) -> Weather:
    """The regional weather at a site: the site's own sun (position, Ineichen clear sky) under the region's
    clear-sky index, temperature and 10 m wind, split as the region's (``split_under_clouds``: a clear sky is
    exactly pvlib's Ineichen clear sky, beam and diffuse, at every sun elevation). ``clear_sky_index`` replaces
    the region's (1.0: a clear sky). A weather given at a place (a file's, ``regional.lat`` set) is returned as
    it is at that very place: the file's irradiance, not re-split."""
    here = regional.lat is not None and (regional.lat, regional.lon, regional.altitude_m) == (lat, lon, altitude_m)
    if here and clear_sky_index is None:
        return regional
    kc = regional.clear_sky_index if clear_sky_index is None else np.broadcast_to(
        np.asarray(clear_sky_index, dtype=float), regional.clear_sky_index.shape)
    sky = _sky(regional.times, _step_s(regional.times), lat, lon, altitude_m, kc)
    return Weather(times=regional.times, clear_sky_index=kc, temp_air=regional.temp_air,
                   wind_speed=regional.wind_speed, file_sha256=regional.file_sha256, **sky)


MAX_FILE_CLEAR_SKY_INDEX = 1.5  # a file's GHI over the clear sky's, bounded (cloud enhancement, dawn intervals)


def given_weather(times: pd.DatetimeIndex, *, ghi: np.ndarray, dni: np.ndarray, dhi: np.ndarray,
                  temp_air: np.ndarray, wind_speed: np.ndarray, lat: float, lon: float, altitude_m: float,
                  file_sha256: str | None = None) -> Weather:
    """Weather given as series (a weather file's, on ``times``) at the place ``lat``, ``lon``, ``altitude_m``:
    irradiance, temperature and wind exactly as given; the sun and the Ineichen clear sky at the interval
    middles (``clear_sky``); the clear-sky index ``GHI / GHI_clear`` in [0, ``MAX_FILE_CLEAR_SKY_INDEX``], 0
    where the clear sky has no sun, so that ``at_site`` carries the clouds to other places."""
    sky = clear_sky(times, lat=lat, lon=lon, altitude_m=altitude_m)
    ghi = np.asarray(ghi, dtype=float)
    kc = np.divide(ghi, sky["ghi_clear"], out=np.zeros_like(ghi), where=sky["ghi_clear"] > 0)
    return Weather(times=times, ghi=ghi, dni=np.asarray(dni, dtype=float), dhi=np.asarray(dhi, dtype=float),
                   clear_sky_index=np.clip(kc, 0.0, MAX_FILE_CLEAR_SKY_INDEX),
                   temp_air=np.asarray(temp_air, dtype=float), wind_speed=np.asarray(wind_speed, dtype=float),
                   lat=lat, lon=lon, altitude_m=altitude_m, file_sha256=file_sha256, **sky)


RECORD_FIELDS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")


def record_hash(site: str, interval_start_utc: str, record: dict[str, list[float]],
                weather_file_sha256: str | None = None) -> str:
    """sha256 (hex) of one site's weather record for one interval: the canonical JSON (sorted keys, no spaces,
    floats as Python's shortest round-trip repr) of ``{"site", "interval_start_utc", *RECORD_FIELDS}``, each
    field the list of the interval's step values, and ``"weather_file_sha256"`` when the weather came from a file
    (the key is absent for synthetic weather). Anyone holding the record can recompute it."""
    doc = {"site": site, "interval_start_utc": interval_start_utc,
           **{k: [float(x) for x in record[k]] for k in RECORD_FIELDS},
           **({"weather_file_sha256": weather_file_sha256} if weather_file_sha256 is not None else {})}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
