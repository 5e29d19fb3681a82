"""A PV site's cap under a clear sky is pvlib's own ``ModelChain`` (PVWatts, our parameters) under pvlib's
Ineichen clear sky, at any latitude, season and orientation, sunrise and sunset hours included.

The reference is pvlib's, not ours: ``Location.get_clearsky(model="ineichen")`` for the sky and ``ModelChain``
for the plant (Hay-Davies, Faiman, PVWatts DC and inverter, 14 % losses, no AOI or spectral loss). Figures per
case: ``benchmarks/clear_sky_vs_modelchain.py`` and docs/validation.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from grid_models.pv import DC_AC_RATIO, GAMMA_PDC_PER_K, SYSTEM_LOSSES
from grid_models.weather import at_site, synthetic_weather
from sim.sites.generation import site_series
from sim.sites.spec import GeneratorSite

STEP_S = 900
NAMEPLATE_KW = 1000.0
# (place, lat, lon, altitude [m], time zone, local day): winter at every latitude, the low sun of 60 N and 69 N
# (60 N on 21 Dec: the sun never climbs above 6.5 deg), the midnight sun, the southern hemisphere's winter.
PLACES = [
    ("munich-winter", 48.14, 11.58, 520.0, "Europe/Berlin", "2025-12-21"),
    ("munich-equinox", 48.14, 11.58, 520.0, "Europe/Berlin", "2025-03-20"),
    ("munich-summer", 48.14, 11.58, 520.0, "Europe/Berlin", "2025-06-21"),
    ("helsinki-winter", 60.17, 24.94, 10.0, "Europe/Helsinki", "2025-12-21"),
    ("helsinki-equinox", 60.17, 24.94, 10.0, "Europe/Helsinki", "2025-03-20"),
    ("tromso-winter", 69.65, 18.96, 10.0, "Europe/Oslo", "2025-02-15"),
    ("tromso-summer", 69.65, 18.96, 10.0, "Europe/Oslo", "2025-06-21"),
    ("capetown-winter", -33.92, 18.42, 10.0, "Africa/Johannesburg", "2025-06-21"),
    ("capetown-summer", -33.92, 18.42, 10.0, "Africa/Johannesburg", "2025-12-21"),
]
# (name, tilt [deg], azimuth [deg from north]); "north" faces the equator in the southern hemisphere
ORIENTATIONS = [("south-30", 30.0, 180.0), ("east-30", 30.0, 90.0), ("west-90", 90.0, 270.0),
                ("north-30", 30.0, 0.0), ("north-90", 90.0, 0.0), ("south-90", 90.0, 180.0)]
CASES = [(p, o) for p in PLACES for o in ORIENTATIONS]


def day_times(tz: str, day: str) -> pd.DatetimeIndex:
    return pd.date_range(day, periods=24 * 3600 // STEP_S, freq=f"{STEP_S}s", tz=tz)


def site_of(place, orientation) -> GeneratorSite:
    _, lat, lon, alt, _, _ = place
    return GeneratorSite(name="pv", technology="pv", lat=lat, lon=lon, altitude_m=alt, nameplate_kw=NAMEPLATE_KW,
                         tilt_deg=orientation[1], azimuth_deg=orientation[2])


def caps_hourly_wh(place, orientation):
    """The site's hourly caps [Wh] under a clear sky (``clear_sky_index = 1``), and the site weather."""
    site, times = site_of(place, orientation), day_times(place[4], place[5])
    regional = synthetic_weather(times, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m,
                                 rng=np.random.default_rng(0))
    clear = at_site(regional, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m, clear_sky_index=1.0)
    caps = site_series(site, clear, step_s=STEP_S, settlement_s=3600, rng=np.random.default_rng(1)).caps_wh
    return caps.astype(float), clear


def modelchain_hourly_wh(place, orientation, temp_air, wind_speed) -> np.ndarray:
    """Hourly AC energy [Wh] of the site under pvlib's Ineichen clear sky at the step middles, by pvlib's
    ``ModelChain`` (PVWatts DC and inverter, Faiman, Hay-Davies, no AOI/spectral loss, 14 % system losses)."""
    site, times = site_of(place, orientation), day_times(place[4], place[5])
    loc = Location(site.lat, site.lon, place[4], site.altitude_m)
    mid = times + pd.Timedelta(seconds=STEP_S / 2)
    cs = loc.get_clearsky(mid, model="ineichen")
    none = dict.fromkeys(("soiling", "shading", "snow", "mismatch", "wiring", "connections", "lid",
                          "nameplate_rating", "age", "availability"), 0.0)
    pdc0_w = site.nameplate_kw * 1000
    system = PVSystem(surface_tilt=site.tilt_deg, surface_azimuth=site.azimuth_deg,
                      module_parameters={"pdc0": pdc0_w, "gamma_pdc": GAMMA_PDC_PER_K},
                      inverter_parameters={"pdc0": pdc0_w / DC_AC_RATIO},
                      temperature_model_parameters={"u0": 25.0, "u1": 6.84},
                      losses_parameters={**none, "soiling": SYSTEM_LOSSES * 100})
    mc = ModelChain(system, loc, dc_model="pvwatts", ac_model="pvwatts", aoi_model="no_loss",
                    spectral_model="no_loss", temperature_model="faiman", losses_model="pvwatts",
                    transposition_model="haydavies")
    mc.run_model(pd.DataFrame({"ghi": cs.ghi, "dni": cs.dni, "dhi": cs.dhi, "temp_air": temp_air,
                               "wind_speed": wind_speed}, index=mid))
    ac_kw = mc.results.ac.clip(lower=0).fillna(0.0).to_numpy() / 1000
    return ac_kw.reshape(24, 3600 // STEP_S).sum(axis=1) * STEP_S / 3.6


def compare(place, orientation) -> tuple[np.ndarray, np.ndarray]:
    caps, clear = caps_hourly_wh(place, orientation)
    return caps, modelchain_hourly_wh(place, orientation, clear.temp_air, clear.wind_speed)


@pytest.mark.parametrize("place,orientation", CASES, ids=[f"{p[0]}-{o[0]}" for p, o in CASES])
def test_clear_sky_cap_is_pvlibs_modelchain(place, orientation):
    caps, ref = compare(place, orientation)
    if ref.sum() < 1.0:  # the sun does not reach this face today (60 N in December, north-facing)
        assert caps.sum() <= 24  # at most the 1 Wh floor per hour
        return
    assert caps.sum() == pytest.approx(ref.sum(), rel=0.01)  # the day
    big = ref > 0.05 * ref.max()
    np.testing.assert_allclose(caps[big], ref[big], rtol=0.02)  # every hour above 5 % of the day's peak
    # every hour, sunrise and sunset included: within 1 % but for the cap's floor to whole Wh
    assert (np.abs(caps - ref) <= 0.01 * ref + 1.0).all(), np.c_[caps, ref][np.abs(caps - ref) > 0.01 * ref + 1]


def test_low_sun_hours_carry_energy():
    """Helsinki at the winter solstice (sun below 7 deg all day): a south-facing wall gets most of its day from
    the beam, which a split that drops the beam below 3 deg of elevation would lose."""
    caps, ref = compare(PLACES[3], ORIENTATIONS[5])
    assert ref.sum() > 0.5 * NAMEPLATE_KW * 1000  # > 0.5 kWh/kWp on a clear day
    assert caps.sum() == pytest.approx(ref.sum(), rel=0.01)
