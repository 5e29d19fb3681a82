"""The certificates scenario validates; bad certificate sections fail naming the file, the field and what was
expected."""

from __future__ import annotations

import re

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

PATH = ROOT / "scenarios" / "certificates.toml"
GOOD = PATH.read_text()


def test_certificates_scenario_meets_the_issue():
    s = load_scenario(PATH)
    tech = [x.technology for x in s.certificates.sites]
    assert tech.count("pv") >= 3 and tech.count("wind") >= 2
    assert len(s.certificates.consumer_ids()) == 20
    assert s.run.duration_s == 14 * 86_400 and s.run.settlement_s == 3600
    wind = [x for x in s.certificates.sites if x.technology == "wind"]
    assert [x.n_turbines for x in wind] == [1, 1]


def test_validate_command_describes_it(capsys):
    assert main(["validate", str(PATH)]) == 0
    assert "5 generation sites and 20 consumers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda t: t.replace('"E-82/2350"', '"E-99/1"'), r"certificates.sites\[3\]", "bundled with windpowerlib"),
        (lambda t: t.replace("nameplate_kw = 2350.0", "nameplate_kw = 3000.0"), r"certificates.sites\[3\]",
         r"whole multiple of the E-82/2350 rating \(2350 kW\), got 3000"),
        (lambda t: t.replace("hub_height_m = 108.0", ""), r"certificates.sites\[3\]", "needs turbine_type and hub_height_m"),
        (lambda t: t.replace("tilt_deg = 25.0", 'tilt_deg = 25.0\nturbine_type = "E-82/2350"'),
         r"certificates.sites\[0\]", "for technology = 'wind' only"),
        (lambda t: t.replace('technology = "pv"', 'technology = "coal"', 1), r"certificates.sites\[0\].technology",
         "'pv' or 'wind'"),
        (lambda t: t.replace('profile = "g1"', 'profile = "x9"'), r"certificates.consumers\[0\].profile", "'h0'"),
        (lambda t: t.replace("settlement_s = 3600", "settlement_s = 7200"), "run.settlement_s", "at most 3600"),
        (lambda t: t.replace('name = "shop"', 'name = "office"'), "certificates", "names must be unique"),
        (lambda t: t.replace("nameplate_kw = 1500.0", "nameplate_kw = -1.0"), r"certificates.sites\[1\].nameplate_kw",
         "greater than or equal to 0.001"),
    ],
    ids=["unknown-turbine", "nameplate-not-multiple", "wind-without-hub", "pv-with-turbine", "bad-technology",
         "bad-profile", "interval-over-1h", "duplicate-names", "negative-nameplate"],
)
def test_bad_certificate_sections_name_file_and_field(tmp_path, edit, field, expected):
    path = tmp_path / "bad.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg
    assert re.search(field, msg), msg
    assert re.search(expected, msg), msg
