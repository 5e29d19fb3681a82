"""The loss-ratio sweep file plans the insurance year on 8 distinct seeds, with the scenario's target."""

from __future__ import annotations

import json

from sim.sweeps.sweep import load_sweep, plan
from tests.conftest import ROOT


def test_insurance_seeds_sweep_plans_the_year_on_eight_seeds():
    spec, folder = load_sweep(ROOT / "scenarios" / "insurance_seeds.toml")
    runs = plan(spec, folder)
    assert len(runs) == 8 and len({r.seed for r in runs}) == 8
    scenario = json.loads(runs[0].scenario_json)
    assert scenario["run"]["duration_s"] == 365 * 86400 and scenario["chain"]["backend"] == "revm"
    assert scenario["insurance"]["target_loss_ratio"] == 0.8 and len(scenario["insurance"]["producers"]) == 12
