"""Physics against known values: PVWatts at STC, H0 annual energy, the feeder's energy balance, battery bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from grid_models.battery import BatteryLimits, feasible_power_kw, next_soc_kwh
from grid_models.feeder import Feeder, build_network
from grid_models.loads import h0_profile_kw, household_loads_kw
from grid_models.pv import DC_AC_RATIO, SYSTEM_LOSSES, pv_ac_kw_per_kwp
from grid_models.weather import ar1, synthetic_weather


def _pv(**over):
    args = dict(tilt_deg=0.0, azimuth_deg=180.0, solar_zenith=np.array([0.0]), solar_azimuth=np.array([180.0]),
                dni=np.array([1000.0]), ghi=np.array([1000.0]), dhi=np.array([0.0]), temp_air=np.array([25.0]),
                wind_speed=np.array([1.0]), day_of_year=np.array([172]))
    args.update(over)
    return pv_ac_kw_per_kwp(**args)


def test_pvwatts_at_1000_w_per_m2_matches_the_reference_chain():
    import pvlib

    temp_cell = pvlib.temperature.faiman(1000.0, 25.0, 1.0)
    pdc = 1000.0 * (1 + -0.004 * (temp_cell - 25.0)) * (1 - SYSTEM_LOSSES)
    pac = pvlib.inverter.pvwatts(pdc, 1000.0 / DC_AC_RATIO)
    assert_allclose(_pv()[0], pac / 1000.0, rtol=1e-9)
    assert 0.70 < _pv()[0] < 0.76  # 1 kWp: cell at ~56 degC (-12.6 %), 14 % losses, inverter ~96 %


def test_pv_is_zero_at_night_and_grows_with_irradiance():
    night = _pv(solar_zenith=np.array([100.0]), dni=np.array([0.0]), ghi=np.array([0.0]))
    assert night[0] == 0.0
    levels = [_pv(dni=np.array([g]), ghi=np.array([g]))[0] for g in (200.0, 500.0, 800.0)]
    assert levels == sorted(levels) and levels[0] > 0


def test_weather_is_seeded_and_physical():
    times = pd.date_range("2025-06-21", periods=96, freq="15min", tz="Europe/Berlin")
    kw = dict(lat=48.14, lon=11.58, altitude_m=520)
    a = synthetic_weather(times, rng=np.random.default_rng(1), **kw)
    b = synthetic_weather(times, rng=np.random.default_rng(1), **kw)
    c = synthetic_weather(times, rng=np.random.default_rng(2), **kw)
    assert a.weather_hash() == b.weather_hash() != c.weather_hash()
    assert (a.ghi <= a.ghi_clear + 1e-9).all() and (a.ghi >= 0).all()
    assert a.ghi[:8].max() == 0.0  # midnight to 02:00 local
    assert 850 < a.ghi_clear.max() < 1000  # Munich, solstice noon, Ineichen clear sky
    noon = int(np.argmax(a.ghi_clear))
    assert times[noon].hour in (12, 13)


def test_ar1_has_the_requested_autocorrelation():
    x = ar1(np.random.default_rng(0), 200_000, 0.8)
    assert_allclose(np.corrcoef(x[:-1], x[1:])[0, 1], 0.8, atol=0.01)
    assert_allclose(x.std(), 1.0, atol=0.02)


def test_h0_year_sums_to_annual_energy_and_households_vary():
    times = pd.date_range("2025-01-01", periods=96 * 365, freq="15min", tz="Europe/Berlin")
    base = h0_profile_kw(times, 3500.0)
    assert_allclose(base.sum() * 0.25, 3500.0, rtol=0.01)
    homes = household_loads_kw(times, np.array([3000.0, 5000.0]), np.random.default_rng(4))
    assert_allclose(homes.sum(axis=0) * 0.25, [3000.0, 5000.0], rtol=0.05)
    assert np.corrcoef(homes[:, 0], homes[:, 1])[0, 1] < 0.95


def test_feeder_build_is_reproducible():
    a, b = build_network("kerber_dorfnetz"), build_network("kerber_dorfnetz")
    pd.testing.assert_frame_equal(a.line, b.line)


@pytest.mark.parametrize("network", ["kerber_landnetz_kabel_1", "kerber_vorstadtnetz_district_7"])
def test_feeder_from_the_disk_cache_equals_a_fresh_build(tmp_path, monkeypatch, network):
    """A network read back from the cache file has every table of a fresh build, values and dtypes."""
    from grid_models import feeder

    monkeypatch.setenv("GRIDLEDGER_CACHE", str(tmp_path))
    monkeypatch.setattr(feeder, "_BUILT", {})
    fresh = build_network(network)  # built, then written to the cache
    assert feeder.network_cache_file(network).is_file()
    monkeypatch.setattr(feeder, "_BUILT", {})
    monkeypatch.setitem(feeder.FEEDER_BUILDERS, network, None)  # building again would fail
    cached = build_network(network)
    tables = [k for k, v in fresh.items() if isinstance(v, pd.DataFrame)]
    assert "line" in tables and "load" in tables
    for name in tables:
        pd.testing.assert_frame_equal(cached[name], fresh[name], check_exact=True)


@pytest.mark.parametrize("solver", ["lightsim2grid", "pandapower"])
def test_feeder_energy_balance_and_solvers_agree(solver):
    rng = np.random.default_rng(5)
    ref = Feeder("kerber_landnetz_kabel_2", 6, "pandapower")
    f = Feeder("kerber_landnetz_kabel_2", 6, solver)
    for _ in range(5):
        inj = rng.uniform(0.2, 2, 14), rng.uniform(0, 6, 6), rng.uniform(-2, 2, 6)
        f.set_injections(*inj)
        ref.set_injections(*inj)
        r, r0 = f.solve(), ref.solve()
        assert_allclose(r.load_p_kw - r.sgen_p_kw + r.storage_p_kw + r.losses_kw, r.slack_p_kw, atol=1e-4)
        assert_allclose(r.slack_p_kw, r0.slack_p_kw, atol=1e-4)
        assert_allclose(f.bus_vm_pu(), ref.bus_vm_pu(), atol=1e-7)
        assert_allclose(f.prosumer_net_export_kw(), inj[1] - inj[0][f.prosumer_pos] - inj[2], atol=1e-9)


def test_battery_respects_limits_and_efficiency():
    lim = BatteryLimits(np.array([10.0, 10.0]), np.array([4.0, 4.0]))
    soc = np.array([9.9, 0.1])
    p = feasible_power_kw(np.array([5.0, -5.0]), soc, lim, 900)
    assert p[0] == pytest.approx(0.1 / 0.95 / 0.25) and p[1] == pytest.approx(-0.1 * 0.95 / 0.25)
    assert_allclose(next_soc_kwh(p, soc, lim, 900), [10.0, 0.0], atol=1e-12)
    p = feasible_power_kw(np.array([9.0, -9.0]), np.array([5.0, 5.0]), lim, 900)
    assert_allclose(p, [4.0, -4.0])
