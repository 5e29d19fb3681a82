"""The operator's counterfactual (baseline) pipe flow is reused only when its inputs are bit for bit the last
baseline's: over a summer day (substations at their keep-warm flow) and a winter day, with the network held for
four steps at a time as ``[heat] step_s`` holds it, the benefit per step equals the one of an operator that solves
its baseline every step (up to the pipe flow's own tolerance, its warm start differing), and an input one bit
apart is solved again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import mesa
import numpy as np
import pytest

from agents.heat.operator import HeatOperator
from grid_models.heat_network import HeatNetwork, heating_curve_c
from grid_models.substation import return_temperature_c
from sim.scenario import load_scenario
from tests.grid_models.test_heat_fast import SUMMER, a_day, network_kw

ROOT = Path(__file__).resolve().parents[3]
HOLD = 4
REL = 1e-9  # the fast path's tolerance is 1e-8 K and 1e-10 relative on flows: a re-solve from another warm start


def operator(spec, design, temp_air) -> HeatOperator:
    n = spec.network
    op = HeatOperator(mesa.Model(), account="operator", scheme=None,
                      network_model=HeatNetwork(design, **network_kw(spec, "fast")),
                      typical_demand_w=design * 0.3, temp_air=temp_air,
                      curve=dict(supply_max_c=n.supply_max_c, supply_min_c=n.supply_min_c,
                                 design_outdoor_c=n.design_outdoor_c, limit_outdoor_c=n.limit_outdoor_c),
                      expected_return=spec.expected_return_for_reference(), heat_production_eur_per_mwh=35.0,
                      electricity_eur_per_kwh=0.25, bonus_share=1.0)
    op.references_k[0] = op.reference_k(0)
    return op


@pytest.mark.parametrize("season", ["july", "january"])
def test_reused_baseline_equals_solving_it_every_step(season):
    spec = load_scenario(ROOT / "scenarios" / "district_heating.toml").heat
    design, _, demand, states = a_day(spec, **(SUMMER if season == "july" else {}))
    temp = (17.0 if season == "july" else 1.0) + np.zeros(96)
    n = spec.network
    supply = heating_curve_c(temp, supply_max_c=n.supply_max_c, supply_min_c=n.supply_min_c,
                             design_outdoor_c=n.design_outdoor_c, limit_outdoor_c=n.limit_outdoor_c)
    network = HeatNetwork(design, **network_kw(spec, "fast"))
    reusing, solving = operator(spec, design, temp), operator(spec, design, temp)
    t_local = np.full(design.size, supply[0])
    benefits, held_steps = [], 0
    for k in range(0, 96, HOLD):
        t_return = return_temperature_c(states, t_local, demand[k] / design)
        flow = network.solve(supply[k], demand[k], t_return)
        held_steps += bool(network.held.any())
        t_local = flow.t_supply_c
        for _ in range(HOLD):  # the same inputs for the hold
            solving._last_baseline = None  # this one solves its baseline every step
            benefits.append((reusing.assess(0, flow, 900.0), solving.assess(0, flow, 900.0)))
    a, b = np.array(benefits).T
    assert np.count_nonzero(b) > 0
    np.testing.assert_allclose(a, b, rtol=REL, atol=1e-15)
    assert reusing.counterfactual_flows + reusing.counterfactual_reused == solving.counterfactual_flows
    assert reusing.counterfactual_reused == solving.counterfactual_flows * (HOLD - 1) // HOLD  # every repeat
    assert (held_steps > 0) == (season == "july")
    assert reusing.model_fallbacks == 0  # the keep-warm steps on the fast path too


def test_an_input_one_bit_apart_is_solved_again():
    spec = load_scenario(ROOT / "scenarios" / "district_heating.toml").heat
    design, supply, demand, states = a_day(spec)
    network = HeatNetwork(design, **network_kw(spec, "fast"))
    flow = network.solve(supply[0], demand[0], return_temperature_c(states, np.full(design.size, supply[0]),
                                                                   demand[0] / design))
    op = operator(spec, design, np.zeros(96))
    first = op.assess(0, flow, 900.0)
    assert first != 0.0 and op.counterfactual_flows == 1
    assert op.assess(0, flow, 900.0) == first and (op.counterfactual_flows, op.counterfactual_reused) == (1, 1)
    nudged = flow.demand_heat_w.copy()
    nudged[5] = np.nextafter(nudged[5], np.inf)  # one demand one bit larger, all else the same
    op.assess(0, replace(flow, demand_heat_w=nudged), 900.0)
    assert (op.counterfactual_flows, op.counterfactual_reused) == (2, 1)
