"""The fast heat-network path (grid_models.heat_tree) against pandapipes' bidirectional pipe flow, on every
shipped heat network over a day of 15-minute steps: temperatures within 0.01 K, mass flows, volume flows and heat
within 0.1 %; and where it does not apply, pandapipes takes the step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from grid_models.heat_demand import bdew_heat_kw, building_heat_w, design_heat_w
from grid_models.heat_network import HeatNetwork, heating_curve_c
from grid_models.heat_tree import TreeHeatFlow, Unsupported
from grid_models.substation import STATES, return_temperature_c
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ["district_heating.toml", "community.toml"]  # every shipped scenario with a [heat] network
T_ATOL_K = 0.01
REL = 1e-3


def network_kw(spec, solver):
    n = spec.network
    return dict(branches=n.branches, segment_length_m=n.segment_length_m, pipe_loss_w_per_mk=n.pipe_loss_w_per_mk,
                ground_temp_c=n.ground_temp_c, pump_lift_bar=n.pump_lift_bar, pump_pressure_bar=n.pump_pressure_bar,
                pump_efficiency=n.pump_efficiency, t_supply_init_c=n.supply_max_c, solver=solver)


def a_day(spec, seed=3, day="2025-01-15", mean_temp_c=1.0):
    """A day of 15-minute steps (January by default): BDEW demand per building, the heating curve, random
    substation states."""
    times = pd.date_range(day, periods=96, freq="15min", tz="Europe/Copenhagen")
    temp = mean_temp_c + 4.0 * np.sin(2 * np.pi * (np.arange(96) / 96 - 0.375))
    cols, annual = [], []
    for g in spec.buildings:
        cols += [bdew_heat_kw(times, temp, profile=g.profile, building_class=g.building_class)] * g.count
        annual += [g.annual_heat_kwh] * g.count
    annual = np.array(annual)
    rng = np.random.default_rng(seed)
    demand = building_heat_w(np.column_stack(cols), annual, rng, 900)
    n = spec.network
    supply = heating_curve_c(temp, supply_max_c=n.supply_max_c, supply_min_c=n.supply_min_c,
                             design_outdoor_c=n.design_outdoor_c, limit_outdoor_c=n.limit_outdoor_c)
    states = rng.integers(0, len(STATES), annual.size)
    return design_heat_w(annual), supply, demand, states


SUMMER = dict(day="2025-07-15", mean_temp_c=17.0)  # low demand: substations held at their keep-warm flow


@pytest.mark.parametrize("scenario", SHIPPED)
@pytest.mark.parametrize("season", ["january", "july"])
def test_fast_path_matches_pandapipes_over_a_day(scenario, season):
    spec = load_scenario(ROOT / "scenarios" / scenario).heat
    design, supply, demand, states = a_day(spec, **(SUMMER if season == "july" else {}))
    fast, ref = HeatNetwork(design, **network_kw(spec, "fast")), HeatNetwork(design, **network_kw(spec, "pandapipes"))
    assert fast.fast is not None and ref.fast is None
    t_local = np.full(design.size, supply[0])
    steps_held = 0
    for k in range(len(supply)):
        t_return = return_temperature_c(states, t_local, demand[k] / design)
        a, b = fast.solve(supply[k], demand[k], t_return), ref.solve(supply[k], demand[k], t_return)
        assert_array_equal(fast.held, ref.held, err_msg=f"step {k}: substations held at their keep-warm flow")
        steps_held += bool(ref.held.any())
        for name in ("t_supply_c", "t_return_c"):
            assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=T_ATOL_K, err_msg=f"step {k} {name}")
        for name in ("t_supply_plant_c", "t_return_plant_c"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), abs=T_ATOL_K), (k, name)
        for name in ("mdot_kg_per_s", "vdot_m3_per_s", "consumer_heat_w", "dp_bar"):
            assert_allclose(getattr(a, name), getattr(b, name), rtol=REL, err_msg=f"step {k} {name}")
        for name in ("source_heat_w", "pipe_loss_w", "pump_mdot_kg_per_s", "pump_electric_w"):
            assert getattr(a, name) == pytest.approx(getattr(b, name), rel=REL), (k, name)
        t_local = b.t_supply_c
    assert fast.n_fallbacks == 0
    # the summer day has steps with substations at their keep-warm flow (pandapipes' controlled mass flow)
    assert (steps_held > 0) == (season == "july"), steps_held


def test_a_step_the_fast_path_cannot_take_goes_to_pandapipes():
    design = np.array([10e3, 20e3, 15e3])
    net = HeatNetwork(design, branches=1)
    flow = net.solve(80.0, design * np.array([0.5, 0.0, 0.5]), np.full(3, 40.0))  # a consumer without flow
    assert net.n_fallbacks == 1 and flow.mdot_kg_per_s[1] == pytest.approx(0.0, abs=1e-9)
    again = net.solve(80.0, design * 0.5, np.full(3, 40.0))
    assert net.n_fallbacks == 1 and (again.mdot_kg_per_s > 0).all()


def test_what_the_fast_path_does_not_model_is_refused():
    net = HeatNetwork(np.array([10e3, 20e3]), branches=1, solver="pandapipes").net
    import pandapipes as pps
    pps.create_pipe_from_parameters(net, 2, 4, length_km=0.05, inner_diameter_mm=28.5)  # a supply loop
    with pytest.raises(Unsupported, match="loop"):
        TreeHeatFlow.from_net(net)
    with pytest.raises(ValueError, match="unknown heat-network solver"):
        HeatNetwork(np.array([1e3]), solver="scipy")
