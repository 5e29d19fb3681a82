"""Wind: hub-height profiles against their formulas, the power curve against windpowerlib's own, zero below
cut-in and above cut-out, nameplate at rated wind; scalar, array and Series input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from windpowerlib import ModelChain, WindTurbine

from grid_models.wind import bundled_turbine_types, turbine_curve, wind_farm_kw

AT_10M = 10.0  # hub height = measurement height: the profile leaves the wind speed unchanged


@pytest.mark.parametrize("turbine_type", ["E-82/2350", "E-53/800", "V112/3450"])
def test_zero_below_cut_in_and_above_cut_out(turbine_type):
    curve = turbine_curve(turbine_type)
    calm = np.linspace(0.0, curve.cut_in_m_per_s, 7)
    assert (wind_farm_kw(calm, turbine_type=turbine_type, hub_height_m=AT_10M).p_kw == 0).all()
    storm = curve.wind_speed_m_per_s[-1] + np.array([0.5, 5.0])
    assert (wind_farm_kw(storm, turbine_type=turbine_type, hub_height_m=AT_10M).p_kw == 0).all()
    assert wind_farm_kw(np.array([curve.cut_in_m_per_s + 1.0]), turbine_type=turbine_type,
                        hub_height_m=AT_10M).p_kw[0] > 0


@pytest.mark.parametrize(("turbine_type", "n", "nameplate_kw"), [("E-82/2350", 1, 2350.0), ("V112/3450", 3, 10350.0)])
def test_rated_wind_gives_nameplate(turbine_type, n, nameplate_kw):
    curve = turbine_curve(turbine_type)
    assert curve.rated_kw * n == nameplate_kw
    v = np.array([curve.rated_m_per_s, curve.rated_m_per_s + 3.0])
    assert_allclose(wind_farm_kw(v, turbine_type=turbine_type, hub_height_m=AT_10M, n_turbines=n).p_kw,
                    nameplate_kw)


def test_power_follows_windpowerlibs_curve_and_modelchain():
    v10 = np.random.default_rng(0).uniform(0, 26, 200)
    turbine = WindTurbine(turbine_type="E-53/800", hub_height=73)
    ours = wind_farm_kw(v10, turbine_type="E-53/800", hub_height_m=73, roughness_length_m=0.2)
    # windpowerlib's ModelChain: logarithmic profile, power curve, no density correction
    weather = pd.DataFrame({("wind_speed", 10): v10, ("roughness_length", 0): 0.2,
                            ("temperature", 2): 283.15, ("pressure", 0): 101325.0})
    mc = ModelChain(turbine, wind_speed_model="logarithmic", power_output_model="power_curve",
                    density_correction=False).run_model(weather)
    assert_allclose(ours.p_kw, mc.power_output.to_numpy() / 1000, rtol=1e-9, atol=1e-9)
    curve = turbine.power_curve
    assert_allclose(ours.p_kw, np.interp(ours.hub_wind_speed, curve.wind_speed, curve.value, left=0, right=0) / 1000)
    assert curve.value.max() / 1000 == 810.0  # E-53/800's published plateau, used as published


def test_hub_height_profiles_match_their_formulas():
    v10, h, z0 = np.array([2.0, 5.0, 8.0]), 108.0, 0.05
    log = wind_farm_kw(v10, turbine_type="E-82/2350", hub_height_m=h, roughness_length_m=z0).hub_wind_speed
    assert_allclose(log, v10 * np.log(h / z0) / np.log(10 / z0))
    hel = wind_farm_kw(v10, turbine_type="E-82/2350", hub_height_m=h, roughness_length_m=z0,
                       profile="hellman").hub_wind_speed
    assert_allclose(hel, v10 * (h / 10) ** (1 / np.log(h / z0)))
    assert_allclose(log[1], 7.245568, rtol=1e-6)  # 5 m/s at 10 m over open marshland -> 7.25 m/s at 108 m


def test_scalar_array_and_series_input_agree():
    kw = dict(turbine_type="E-82/2350", hub_height_m=98.0)
    arr = wind_farm_kw(np.array([6.0, 9.0]), **kw).p_kw
    ser = wind_farm_kw(pd.Series([6.0, 9.0]), **kw).p_kw
    one = wind_farm_kw(6.0, **kw).p_kw
    assert_allclose(arr, ser)
    assert_allclose(np.atleast_1d(one)[0], arr[0])


def test_unknown_turbine_type_names_the_library():
    assert "E-82/2350" in bundled_turbine_types() and len(bundled_turbine_types()) == 67
    with pytest.raises(ValueError, match="bundled with windpowerlib.*'E-99/1'"):
        turbine_curve("E-99/1")
