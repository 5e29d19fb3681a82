"""District-heat physics: the pipe flow conserves energy, each consumer's heat is ṁ·c_p·ΔT, losses follow the
pipes' heat-loss coefficient, lower returns lose less heat and pump less; heating curve, substations, demand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from pandapipes.properties.fluids import get_fluid

from grid_models.heat_demand import bdew_heat_kw, building_heat_w, design_heat_w
from grid_models.heat_network import HeatNetwork, heating_curve_c
from grid_models.substation import (
    MIN_COOLING_K,
    STATES,
    return_temperature_c,
    state_code,
)
from grid_models.units import c_to_k

DESIGN_W = np.array([10e3, 12e3, 40e3, 9e3, 45e3, 11e3])
LOSS_W_PER_MK = 0.2
BALANCE_REL_TOL = 1e-3
GROUND_C = 6.0
# (plant supply, load share of design, return temperatures): cold day, mild day with a bypass, low night load
CASES = [
    (85.0, 0.9, np.array([38.0, 40.0, 36.0, 52.0, 37.0, 45.0])),
    (75.0, 0.45, np.array([34.0, 47.0, 35.0, 33.0, 48.0, 36.0])),
    (70.0, 0.12, np.array([30.0, 31.0, 44.0, 29.0, 30.0, 32.0])),
]


@pytest.fixture(scope="module", params=["fast", "pandapipes"])
def network(request) -> HeatNetwork:
    return HeatNetwork(DESIGN_W, branches=2, segment_length_m=60.0, pipe_loss_w_per_mk=LOSS_W_PER_MK,
                       ground_temp_c=GROUND_C, solver=request.param)


@pytest.fixture(scope="module")
def flows(network):
    return [network.solve(ts, DESIGN_W * load, tr) for ts, load, tr in CASES]


def test_source_heat_is_consumer_heat_plus_pipe_losses(flows):
    for flow in flows:
        assert flow.source_heat_w > flow.consumer_heat_total_w > 0 and flow.pipe_loss_w > 0
        # within the model's tolerance: pandapipes mixes junction temperatures by mass flow (ṁ·T, not ṁ·c_p·T) and
        # c_p varies 0.3 % between 30 and 85 degC, so the enthalpy balance closes to a few 1e-4, not exactly
        assert abs(flow.balance_error_w) < BALANCE_REL_TOL * flow.source_heat_w, flow.balance_error_w


def test_each_consumer_heat_is_mdot_cp_delta_t_and_meets_its_demand(network, flows):
    fluid = get_fluid(network.net)
    for (_, load, _), flow in zip(CASES, flows):
        cp = (fluid.get_heat_capacity(c_to_k(flow.t_supply_c)) + fluid.get_heat_capacity(c_to_k(flow.t_return_c))) / 2
        heat = flow.mdot_kg_per_s * cp * (flow.t_supply_c - flow.t_return_c)
        assert_allclose(heat, flow.consumer_heat_w, rtol=1e-12)
        assert_allclose(heat, DESIGN_W * load, rtol=1e-4)  # the bidirectional solve meets qext
        assert (flow.dp_bar > 0).all()  # every substation sees a positive differential pressure


def test_consumers_return_at_the_temperature_they_were_given(flows):
    for (_, _, tr), flow in zip(CASES, flows):
        assert_allclose(flow.t_return_c, tr, atol=1e-6)
        assert (flow.t_supply_c < CASES[0][0] + 1e-6).all()


def test_pipe_losses_follow_the_linear_loss_coefficient(network, flows):
    if network.fast is not None:
        pytest.skip("per-pipe results are pandapipes' tables (the fast path matches them: test_heat_fast.py)")
    pipe, res = network.net.pipe, network.net.res_pipe
    t_mean_c = (res.t_from_k + res.t_outlet_k).to_numpy() / 2 - 273.15
    analytic_w = (LOSS_W_PER_MK * pipe.length_km.to_numpy() * 1000 * (t_mean_c - GROUND_C)).sum()
    assert flows[-1].pipe_loss_w == pytest.approx(analytic_w, rel=2e-3)  # the last solve is still in `net`


def test_lower_return_temperature_loses_less_heat_and_pumps_less(network):
    demand = DESIGN_W * 0.5
    warm = network.solve(80.0, demand, np.full(6, 48.0))
    cool = network.solve(80.0, demand, np.full(6, 35.0))
    assert cool.t_return_plant_c < warm.t_return_plant_c - 10
    assert cool.pipe_loss_w < warm.pipe_loss_w
    assert cool.pump_electric_w < 0.8 * warm.pump_electric_w  # constant lift: power follows the flow
    assert cool.mean_delta_t_k > warm.mean_delta_t_k + 10


@pytest.mark.parametrize("tiny_w", [0.3, 15.0, 1.0])
def test_a_tiny_demand_is_drawn_at_the_substations_keep_warm_flow(tiny_w):
    """A building of 2 or 100 kWh a year at the end of a branch: the flow meeting its demand at its return set
    point is the one at which the pipe alone cools the supply to that set point (ṁ = Q/(c_p·(T_in − T_r))
    singular) and the pipe flow did not converge (found by the scenario fuzz). Held at its keep-warm flow, it
    draws its demand and returns above its set point; the other consumers are as they were."""
    design = np.array([45e3, 1.0, 9e3])
    net = HeatNetwork(design, branches=2, segment_length_m=50.0, pipe_loss_w_per_mk=0.18, ground_temp_c=GROUND_C)
    demand, t_ret = np.array([13.5e3, tiny_w, 2.7e3]), np.array([38.6, 40.0, 35.0])
    flow = net.solve(78.9, demand, t_ret)
    m_min = net.keep_warm_mdot_kg_per_s(78.9, t_ret)
    assert flow.mdot_kg_per_s[1] == pytest.approx(m_min[1], rel=1e-9) and net.held.tolist() == [False, True, False]
    assert_allclose(flow.consumer_heat_w, demand, rtol=1e-4)
    assert flow.t_return_c[1] >= t_ret[1] and flow.t_supply_c[1] > t_ret[1]
    assert_allclose(flow.t_return_c[[0, 2]], t_ret[[0, 2]], atol=1e-6)
    assert abs(flow.balance_error_w) < BALANCE_REL_TOL * flow.source_heat_w
    again = net.solve(78.9, demand * [1, 0, 1] + [0, 5e3, 0], t_ret)  # a real demand again: released
    assert not net.held.any() and again.t_return_c[1] == pytest.approx(40.0, abs=1e-6)


def test_keep_warm_flow_is_one_segments_cooling_law():
    net = HeatNetwork(np.array([9e3]), branches=1, segment_length_m=50.0, pipe_loss_w_per_mk=0.18,
                      ground_temp_c=GROUND_C)
    m = net.keep_warm_mdot_kg_per_s(80.0, np.array([40.0, 2.0, 79.0]))
    cp = get_fluid(net.net).get_heat_capacity(c_to_k(80.0))
    t_in = GROUND_C + (80.0 - GROUND_C) * np.exp(-50.0 * 0.18 / (m[0] * cp))  # arrives MIN_COOLING_K above 40
    assert t_in == pytest.approx(40.0 + MIN_COOLING_K, rel=1e-9)
    assert m[1] == 0.0 and m[2] == 0.0  # the ground cannot cool it that far / the supply is not above it


@pytest.mark.parametrize("kind", ["scalar", "array", "series"])
def test_heating_curve(kind):
    curve = dict(supply_max_c=85.0, supply_min_c=70.0, design_outdoor_c=-12.0, limit_outdoor_c=15.0)
    temps = [-20.0, -12.0, 1.5, 15.0, 20.0]
    expected = [85.0, 85.0, 77.5, 70.0, 70.0]
    if kind == "scalar":
        assert heating_curve_c(1.5, **curve) == pytest.approx(77.5)
        return
    data = np.array(temps) if kind == "array" else pd.Series(temps)
    assert_allclose(heating_curve_c(data, **curve), expected)


def test_substation_states_order_return_temperatures():
    load, ts = np.full(4, 0.5), np.full(4, 80.0)
    tr = return_temperature_c(np.arange(4), ts, load)
    well, fouled, bypass, oversized = (tr[state_code(s)] for s in STATES)
    assert 30.0 < well < 40.0
    assert well < fouled < bypass and well < oversized
    assert bypass == pytest.approx(0.75 * well + 0.25 * 80.0)  # a quarter of the flow bypasses at supply
    assert return_temperature_c(0, 80.0, 1.0) > return_temperature_c(0, 80.0, 0.2)  # radiators at part load
    assert return_temperature_c(2, 40.0, 1.0) == pytest.approx(40.0 - MIN_COOLING_K)
    with pytest.raises(ValueError, match="unknown substation state 'leaky'"):
        state_code("leaky")


def test_bdew_demand_follows_temperature_and_the_annual_normalisation():
    times = pd.date_range("2025-01-06", periods=7 * 96, freq="15min", tz="Europe/Copenhagen")
    mild = bdew_heat_kw(times, np.full(len(times), 5.0), profile="EFH", building_class=5, annual_kwh=20_000)
    cold = bdew_heat_kw(times, np.full(len(times), -5.0), profile="EFH", building_class=5, annual_kwh=20_000)
    assert cold.sum() > 1.2 * mild.sum()
    week_kwh = mild.sum() / 4
    assert 0.01 * 20_000 < week_kwh < 0.04 * 20_000  # a January week at 5 degC: a few % of the year
    rng = np.random.default_rng(0)
    buildings_w = building_heat_w(np.column_stack([mild, mild]), np.array([1.0, 2.0]), rng, 900)
    assert (buildings_w > 0).all() and not np.allclose(buildings_w[:, 0] * 2, buildings_w[:, 1])
    assert buildings_w[:, 1].mean() == pytest.approx(2 * mild.mean() * 1000, rel=0.1)
    assert design_heat_w(20_000) == pytest.approx(10_000)
