"""The [dsr] section and the feeder's transformer: bad input is refused with the file, the field and what was
expected; the shipped scenario is what the issue asks for."""

from __future__ import annotations

import pytest

from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

DSR = ROOT / "scenarios" / "micro_dsr.toml"


def test_the_micro_dsr_scenario_has_50_households_with_3_outlets_each_for_a_week_at_1_minute():
    s = load_scenario(DSR)
    assert len(s.prosumer_ids()) >= 50 and s.feeder.network == "kerber_dorfnetz"
    assert sum(g.share == 1.0 for g in s.dsr.outlets) >= 3
    assert s.run.step_s == 60 and s.run.duration_s == 7 * 86_400


@pytest.mark.parametrize("override, field, expected", [
    ({"run.step_s": 300}, "run.step_s", "step_s must be 60"),
    ({"dsr.outlets.0.appliance": "toaster"}, "dsr.outlets[0].appliance", "refrigerator"),
    ({"dsr.outlets.2.no_delay_hours": [[8, 6]]}, "dsr.outlets[2]", "from < to"),
    ({"dsr.outlets.0.max_delay_per_event_min": 500}, "dsr.outlets[0]", "must not exceed max_delay_per_day_min"),
    ({"feeder.transformer": "1 MVA"}, "feeder.transformer", "0.16 MVA 10/0.4 kV"),
    ({"dsr.outlets.1.appliance": "refrigerator"}, "dsr", "one group per appliance kind"),
])
def test_bad_dsr_input_names_the_field_and_the_expectation(override, field, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(DSR).with_overrides(override, source="micro_dsr.toml + test")
    msg = str(err.value)
    assert "micro_dsr.toml + test" in msg and field in msg and expected in msg
