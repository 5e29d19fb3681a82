"""The weather cap is physical: on a clear-sky hour a PV site's cap is pvlib's clear-sky production of that
site (an independent pvlib ModelChain), 0 at night; a wind site below cut-in gets cap 0; the weather record
hash is the documented sha256 of the record and changes with it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from pvlib.location import Location
from pvlib.modelchain import ModelChain
from pvlib.pvsystem import PVSystem

from grid_models.pv import DC_AC_RATIO, GAMMA_PDC_PER_K, SYSTEM_LOSSES
from grid_models.weather import RECORD_FIELDS, at_site, record_hash, synthetic_weather
from grid_models.wind import turbine_curve, wind_farm_kw
from sim.sites.generation import site_series
from sim.sites.spec import GeneratorSite

TZ = "Europe/Berlin"
TIMES = pd.date_range("2025-04-08", periods=96, freq="15min", tz=TZ)
REGIONAL = synthetic_weather(TIMES, lat=53.55, lon=9.10, altitude_m=5.0, rng=np.random.default_rng(0))
PV = GeneratorSite(name="pv-stade", technology="pv", lat=53.60, lon=9.48, altitude_m=5.0, nameplate_kw=1200.0,
                   tilt_deg=25.0, azimuth_deg=170.0)
WIND = GeneratorSite(name="wind-geest", technology="wind", lat=53.40, lon=9.05, nameplate_kw=1600.0,
                     turbine_type="E-53/800", hub_height_m=73.0, roughness_length_m=0.2)


def _series(site, regional):
    return site_series(site, regional, step_s=900, settlement_s=3600, rng=np.random.default_rng(1))


def _pvlib_clear_sky_wh(site: GeneratorSite, temp_air, wind_speed) -> np.ndarray:
    """Hourly AC energy of the site under pvlib's Ineichen clear sky, by pvlib's own ModelChain (PVWatts DC and
    inverter, Faiman, Hay-Davies, no AOI/spectral loss, 14 % system losses) [Wh]."""
    loc = Location(site.lat, site.lon, TZ, site.altitude_m)
    mid = TIMES + pd.Timedelta(minutes=7.5)
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
    ac_kw = mc.results.ac.clip(lower=0).to_numpy() / 1000
    return ac_kw.reshape(24, 4).sum(axis=1) * 900 / 3.6


def test_pv_cap_on_a_clear_sky_hour_is_pvlibs_clear_sky_production():
    clear = at_site(REGIONAL, lat=53.55, lon=9.10, altitude_m=5.0, clear_sky_index=1.0)
    caps = _series(PV, clear).caps_wh
    ref = _pvlib_clear_sky_wh(PV, clear.temp_air, clear.wind_speed)
    day = ref > 0.05 * ref.max()
    assert day.sum() >= 9  # April: 07:00-18:00 local
    np.testing.assert_allclose(caps[day], ref[day], rtol=0.01)
    noon = int(np.argmax(ref))
    assert 12 <= noon <= 14 and 600_000 < caps[noon] < 900_000  # 1.2 MWp, mid-April, 53.6 N


def test_pv_cap_is_zero_at_night_and_below_clear_sky_under_clouds():
    s = _series(PV, REGIONAL)
    hours = (TIMES[::4] + pd.Timedelta(minutes=30)).hour
    night = (hours < 5) | (hours >= 21)
    assert (s.caps_wh[night] == 0).all() and (s.caps_wh[~night] > 0).any()
    clear = _series(PV, at_site(REGIONAL, lat=53.55, lon=9.10, altitude_m=5.0, clear_sky_index=1.0)).caps_wh
    assert (s.caps_wh <= clear + 1).all()  # clouds only take away (1 Wh for the temperature)
    assert s.caps_wh.sum() < clear.sum()


def test_wind_site_below_cut_in_gets_cap_zero():
    calm = dataclasses.replace(REGIONAL, wind_speed=np.full(len(TIMES), 0.6))
    hub = wind_farm_kw(calm.wind_speed, turbine_type="E-53/800", hub_height_m=73.0, roughness_length_m=0.2)
    assert hub.hub_wind_speed.max() < turbine_curve("E-53/800").cut_in_m_per_s  # 0.86 m/s at hub height, < 1 m/s
    assert (_series(WIND, calm).caps_wh == 0).all()
    breeze = dataclasses.replace(REGIONAL, wind_speed=np.full(len(TIMES), 6.0))
    caps = _series(WIND, breeze).caps_wh
    assert (caps > 0).all() and (caps <= 1600 * 1000).all()


def test_cap_is_the_potential_energy_and_generation_never_exceeds_it():
    s = _series(WIND, REGIONAL)
    np.testing.assert_array_equal(s.caps_wh, np.floor(s.potential_kw.reshape(24, 4).sum(axis=1) * 900 / 3.6))
    assert (s.generation_kw <= s.potential_kw).all()


def test_weather_record_hash_is_recomputable_and_changes_with_the_record():
    s = _series(PV, REGIONAL)
    start = TIMES[48].tz_convert("UTC").isoformat()  # 12:00 local
    record = s.record(slice(48, 52))
    assert set(record) == set(RECORD_FIELDS)
    assert s.record_hashes[12] == record_hash("pv-stade", start, record)
    altered = {**record, "ghi": record["ghi"] + np.array([0.0, 0.0, 1e-9, 0.0])}
    assert record_hash("pv-stade", start, altered) != s.record_hashes[12]
    assert len(set(s.record_hashes)) == 24


@pytest.mark.parametrize("technology", ["pv", "wind"])
def test_same_seed_same_series(technology):
    site = PV if technology == "pv" else WIND
    a, b = _series(site, REGIONAL), _series(site, REGIONAL)
    assert a.record_hashes == b.record_hashes and np.array_equal(a.available, b.available)
