"""The sky under a clear-sky index: ``kc = 1`` is pvlib's Ineichen clear sky (GHI, DNI, DHI) at every sun
elevation, low sun included; under clouds the global is ``kc`` times the clear sky's, the beam goes as pvlib's
Erbs model says, and the diffuse closes the balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from grid_models.weather import at_site, split_under_clouds, synthetic_weather

STEP_S = 900
# Tromso in February (the sun below 8 deg all day) and Cape Town at midsummer (up to 79 deg)
PLACES = [(69.65, 18.96, 10.0, "Europe/Oslo", "2025-02-15"), (-33.92, 18.42, 10.0, "Africa/Johannesburg", "2025-12-21")]


def _clear(place):
    lat, lon, alt, tz, day = place
    times = pd.date_range(day, periods=96, freq=f"{STEP_S}s", tz=tz)
    regional = synthetic_weather(times, lat=lat, lon=lon, altitude_m=alt, rng=np.random.default_rng(3))
    ref = pvlib.location.Location(lat, lon, tz, alt).get_clearsky(times + pd.Timedelta(seconds=STEP_S / 2),
                                                                  model="ineichen")
    return at_site(regional, lat=lat, lon=lon, altitude_m=alt, clear_sky_index=1.0), ref


@pytest.mark.parametrize("place", PLACES, ids=["tromso-february", "capetown-december"])
def test_a_clear_sky_is_ineichens_at_every_elevation(place):
    w, ref = _clear(place)
    for k in ("ghi", "dni", "dhi"):
        assert_array_equal(getattr(w, k), ref[k].to_numpy(), err_msg=k)
    low = (w.solar_zenith > 87.0) & (w.solar_zenith < 90.0)
    assert low.sum() >= 2 and (w.dni[low] > 0).all()  # the beam of a low sun is kept
    assert (w.dhi[low] < w.ghi[low]).all()


def _cloudy_grid():
    w, _ = _clear(PLACES[0])
    day = w.ghi_clear > 0
    kc = np.linspace(0.05, 1.0, 20)[:, None]
    args = [np.broadcast_to(getattr(w, k)[day], (20, day.sum())) for k in ("ghi_clear", "dni_clear", "dhi_clear",
                                                                           "solar_zenith")]
    doy = np.broadcast_to(np.full(day.sum(), 46), (20, day.sum()))
    return kc, args, split_under_clouds(np.broadcast_to(kc, args[0].shape), *args, doy)


def test_clouds_scale_the_global_take_the_beam_first_and_close_the_balance():
    kc, (ghi_c, dni_c, dhi_c, zen), sky = _cloudy_grid()
    assert_allclose(sky["ghi"], kc * ghi_c, rtol=1e-12)
    cos_z = np.cos(np.radians(zen))
    assert_allclose(sky["dni"] * cos_z + sky["dhi"], sky["ghi"], rtol=1e-9, atol=1e-9)  # closure
    assert (sky["dhi"] >= 0).all() and (sky["dni"] >= 0).all()
    assert (np.diff(sky["dni"], axis=0) >= -1e-12).all()  # more cloud, less beam
    beam_share = sky["dni"] / dni_c
    assert (beam_share <= kc + 1e-3).all()  # clouds take the beam faster than the global
    assert beam_share[0].max() < 0.01  # kc = 0.05: practically no beam


def test_the_beam_under_clouds_is_pvlibs_erbs_ratio_where_pvlib_gives_one():
    """Above 3 deg of elevation pvlib's ``erbs`` (default ``max_zenith`` 87 deg) gives a beam for both skies; the
    cloudy beam is the clear beam times the ratio of Erbs' beams."""
    kc, (ghi_c, dni_c, dhi_c, zen), sky = _cloudy_grid()
    high = zen[0] < 87.0
    assert high.sum() >= 10
    for i in (0, 7, 14):
        erbs = [pvlib.irradiance.erbs(g, zen[0][high], 46)["dni"] for g in (kc[i, 0] * ghi_c[0][high], ghi_c[0][high])]
        assert_allclose(sky["dni"][i][high], dni_c[0][high] * erbs[0] / erbs[1], rtol=1e-9)
