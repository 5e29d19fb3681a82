"""The parametric variant's claim threshold may not refuse a ratio the index pays (issue 20 b): the scenario
refuses threshold_percent + trigger_percent > 100 with an error naming both fields; the indemnity variant has no
index and keeps any threshold below 100."""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario
from sim.schema import ScenarioError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "insurance.toml")


def test_threshold_that_refuses_index_payouts_is_a_scenario_error(scenario):
    with pytest.raises(ScenarioError, match=r"insurance: threshold_percent \(30\) \+ trigger_percent \(80\) must be "
                                            r"at most 100 for the parametric variant"):
        scenario.with_overrides({"insurance.variant": "parametric", "insurance.threshold_percent": 30.0})
    with pytest.raises(ScenarioError, match="threshold_percent"):
        scenario.with_overrides({"insurance.variant": "parametric", "insurance.trigger_percent": 80.01})


def test_threshold_at_the_limit_or_below_and_indemnity_are_accepted(scenario):
    assert scenario.with_overrides({"insurance.variant": "parametric"}).insurance.threshold_percent == 20.0
    assert scenario.with_overrides({"insurance.variant": "parametric", "insurance.threshold_percent": 10.0})
    assert scenario.with_overrides({"insurance.threshold_percent": 30.0}).insurance.variant == "indemnity"
