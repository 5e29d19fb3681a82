"""The [dsr.openadr] section: bad input is refused with the file, the field and what was expected; without it
the shipped scenarios keep their ids."""

from __future__ import annotations

import pytest

from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

OADR = ROOT / "scenarios" / "micro_dsr_openadr.toml"


def test_the_openadr_scenario_is_micro_dsr_for_a_day_with_an_in_process_vtn():
    s, base = load_scenario(OADR), load_scenario(ROOT / "scenarios" / "micro_dsr.toml")
    assert s.dsr.openadr.vtn == "in_process" and s.run.duration_s == 86_400
    assert s.dsr.model_dump(exclude={"openadr"}) == base.dsr.model_dump(exclude={"openadr"})
    assert base.dsr.openadr is None and s.digest() != s.with_overrides({"dsr.openadr": None}).digest()


@pytest.mark.parametrize("override, field, expected", [
    ({"dsr.openadr.vtn": "https://utility.example/OpenADR2/Simple/2.0b"}, "dsr.openadr.vtn", "in_process"),
    ({"dsr.openadr.timeout_s": 0}, "dsr.openadr.timeout_s", "greater than 0"),
    ({"dsr.openadr.timeout_s": 3600}, "dsr.openadr.timeout_s", "less than or equal to 300"),
    ({"dsr.openadr.ven_name": "two words"}, "dsr.openadr.ven_name", "pattern"),
    ({"dsr.openadr.port": 8080}, "dsr.openadr.port", "unknown key"),
])
def test_bad_openadr_input_names_the_field_and_the_expectation(override, field, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(OADR).with_overrides(override, source="micro_dsr_openadr.toml + test")
    msg = str(err.value)
    assert "micro_dsr_openadr.toml + test" in msg and field in msg and expected in msg, msg
