"""PV faces the equator by default: south (180 deg) north of it, north (0 deg) south of it — for prosumers'
groups and for certificate/insurance sites; a given azimuth is kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grid_models.weather import at_site, synthetic_weather
from sim.sections import PopulationGroup
from sim.sites.generation import site_series
from sim.sites.spec import GeneratorSite

CAPE_TOWN = dict(lat=-33.92, lon=18.42, altitude_m=10.0)


@pytest.mark.parametrize("lat, expected", [(48.1, 180.0), (0.0, 180.0), (-33.9, 0.0)])
def test_default_azimuth_faces_the_equator(lat, expected):
    group = PopulationGroup(name="a", count=1, pv_kwp=5.0, annual_load_kwh=3500.0)
    assert group.pv_azimuth_at(lat) == expected
    assert PopulationGroup(name="a", count=1, pv_kwp=5.0, annual_load_kwh=3500.0,
                           pv_azimuth_deg=90.0).pv_azimuth_at(lat) == 90.0
    site = GeneratorSite(name="s", technology="pv", lat=lat, lon=0.0, nameplate_kw=100.0)
    assert site.pv_azimuth_deg == expected


def _day_energy(site: GeneratorSite) -> float:
    times = pd.date_range("2025-06-21", periods=96, freq="15min", tz="Africa/Johannesburg")
    regional = synthetic_weather(times, rng=np.random.default_rng(0), **CAPE_TOWN)
    clear = at_site(regional, clear_sky_index=1.0, **CAPE_TOWN)
    return float(site_series(site, clear, step_s=900, settlement_s=3600, rng=np.random.default_rng(1)).caps_wh.sum())


def test_a_southern_site_by_default_yields_as_facing_north_and_more_than_facing_south():
    """Cape Town in June (winter): north-facing 30 deg modules yield several times a south-facing array's."""
    common = dict(name="s", technology="pv", nameplate_kw=1000.0, **CAPE_TOWN)
    default = _day_energy(GeneratorSite(**common))
    assert default == _day_energy(GeneratorSite(azimuth_deg=0.0, **common))
    assert default > 2 * _day_energy(GeneratorSite(azimuth_deg=180.0, **common))
