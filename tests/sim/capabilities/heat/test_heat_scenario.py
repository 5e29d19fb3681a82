"""The district-heating scenario validates; bad heat sections fail naming the file, the field and the expectation."""

from __future__ import annotations

import re

import pytest

from grid_models.climate import annual_cycle_temp_c
from sim.cli import main
from sim.inputs import run_times
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

FILE = ROOT / "scenarios" / "district_heating.toml"
GOOD = FILE.read_text()


def test_district_heating_scenario_is_a_winter_month_of_at_least_30_buildings():
    s = load_scenario(FILE)
    assert len(s.heat.building_ids()) >= 30 and s.feeder is None and s.vpp is None
    assert s.run.step_s == 900 and s.run.duration_s >= 28 * 86400 and s.run.start.month in (12, 1, 2)
    cold = annual_cycle_temp_c(run_times(s.run, s.site), **s.weather.annual_cycle(s.site.lat))
    assert cold.mean() < 2  # the annual cycle in January
    assert s.heat.reference_climate(s.weather.annual_cycle(s.site.lat))["annual_mean_temp_c"] == s.weather.mean_temp_c


def test_cli_validates_a_heat_only_scenario(capsys):
    assert main(["validate", str(FILE)]) == 0
    assert "36 buildings on a district-heating network" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda t: t.replace("open_bypass = 0.2,", "open_bypass = 0.3,"), r"heat.buildings\[0\]", "sum to 1"),
        (lambda t: t.replace("open_bypass = 0.2,", "leaky_valve = 0.2,"), r"heat.buildings\[0\].states", "well_tuned"),
        (lambda t: t.replace("supply_min_c = 70.0", "supply_min_c = 95.0"), "heat.network", "supply_min_c"),
        (lambda t: t.replace("expected_return_c = [40.0, 38.0]", "expected_return_c = [40.0]"), "heat.reference",
         "same"),
        (lambda t: t.replace('preset = "lemvig_2021"', 'preset = "lemvig"'), "heat.tariff.preset", "lemvig_2021"),
        (lambda t: t.replace('preset = "lemvig_2021"', 'preset = "skive"'), "heat.tariff",
         "Skive.*table was not found.*give the expected-return table"),
        (lambda t: t.replace('preset = "lemvig_2021"', 'preset = "lemvig_2021"\nbasis = "month"\n'
                             'expected_return_c = [30.0, 31.0]'), "heat.tariff", "twelve"),
        (lambda t: t.replace('preset = "lemvig_2021"', 'preset = "lemvig_2021"\ncounting = "edge"'),
         "heat.tariff.counting", "from_edge"),
        (lambda t: t.replace('profile = "MFH"', 'profile = "GHD"'), r"heat.buildings\[1\]", "building_class"),
        (lambda t: t.replace("[heat.prices]", "[heat.prices]\ngas_price = 3.0"), "heat.prices.gas_price", "unknown key"),
        (lambda t: t.replace('name = "mfh"', 'name = "efh"'), "heat", "unique"),
        (lambda t: re.sub(r"^\[heat\][^\n]*\n", "[heat]\nstep_s = 1200\n", t, flags=re.M), "heat.step_s",
         "divide run.settlement_s"),
        (lambda t: re.sub(r"^\[heat\][^\n]*\n", "[heat]\nannual_mean_temp_c = 8.0\n", t, flags=re.M), "heat",
         "come together"),
    ],
    ids=["shares-not-1", "unknown-state", "curve-inverted", "reference-points", "tariff-unknown-preset",
         "tariff-skive-without-table", "tariff-month-not-12", "tariff-counting", "class-for-profile", "unknown-key",
         "duplicate-group", "heat-step", "half-a-reference-climate"],
)
def test_bad_heat_sections_name_file_and_field(tmp_path, edit, field, expected):
    path = tmp_path / "bad_heat.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and re.search(field, msg) and re.search(expected, msg), msg
