"""Scenario files: good ones validate; bad ones fail with file, field and expectation named."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.capabilities.vpp.spec import member_ids
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

GOOD = (ROOT / "scenarios" / "vpp.toml").read_text()


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


def test_demo_scenario_validates():
    s = load_scenario(ROOT / "scenarios" / "vpp.toml")
    assert len(s.prosumer_ids()) >= 20
    assert s.run.step_s == 900 and s.run.settlement_s == 3600 and s.run.duration_s >= 7 * 86400
    assert s.n_periods == s.run.duration_s // 3600


@pytest.mark.parametrize(
    ("edit", "field", "expected"),
    [
        (lambda t: t.replace("[prices]", "[prices]\ncolour = 'red'"), "prices.colour", "unknown key"),
        (lambda t: t.replace("pv_kwp = 8.0", 'pv_kwp = "eight"'), r"population\[0\].pv_kwp", "valid number"),
        (lambda t: t.replace("pv_kwp = 8.0", "pv_kwp = -3.0"), r"population\[0\].pv_kwp", "greater than or equal to 0"),
        (lambda t: t.replace("battery_kwh = 10.0", "battery_kwh = -1.0"), r"population\[0\].battery_kwh", ">= 0|greater"),
        (lambda t: re.sub(r"\[site\][^\[]*", "", t, count=1), "site", "required"),
        (lambda t: t.replace('share_rule = "pv_kwp"', 'share_rule = "explicit"\nshares_percent = {}'), "vpp", "shares_percent"),
        (lambda t: t.replace("step_s = 900", "step_s = 700"), "run", "whole multiple"),
        (lambda t: t.replace("count = 16", "count = 60"), "population", "do not fit"),
        (lambda t: t.replace('tz = "Europe/Berlin"', 'tz = "Mars/Olympus"'), "site.tz", "IANA"),
        (lambda t: t.replace("[weather]", "[weather]\nmonthly_mean_temp_c = [1.0, 2.0, 5.0, 9.0, 13.0, 16.0, 18.0, "
                             "18.0, 14.0, 9.0, 5.0, 2.0]\nmean_temp_c = 9.0"), "weather", "either monthly_mean_temp_c or mean_temp_c"),
        (lambda t: t.replace("[weather]", "[weather]\nmonthly_mean_temp_c = [1.0, 2.0, 5.0]"), "weather.monthly_mean_temp_c", "at least 12"),
        (lambda t: t.replace("[weather]", "[weather]\ncoldest_day_of_year = 400"), "weather.coldest_day_of_year", "less than or equal to 365"),
        (lambda t: t.replace("[weather]", "[weather]\nannual_temp_amplitude_c = -2.0"), "weather.annual_temp_amplitude_c", "greater than or equal to 0"),
    ],
    ids=["unknown-key", "wrong-type", "negative-capacity", "negative-battery", "missing-section",
         "empty-shares", "step-not-dividing", "too-many-prosumers", "bad-tz", "monthly-and-harmonic",
         "monthly-not-12", "coldest-day-out-of-year", "negative-amplitude"],
)
def test_bad_scenarios_name_file_and_field(tmp_path, edit, field, expected):
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg
    assert re.search(field, msg), msg
    assert re.search(expected, msg), msg


def test_shares_not_summing_to_100_are_rejected(tmp_path):
    ids = load_scenario(ROOT / "scenarios" / "vpp.toml").prosumer_ids()
    table = ", ".join(f'"{i}" = 4.0' for i in ids)  # 24 x 4 % = 96 %
    path = _write(tmp_path, GOOD.replace('share_rule = "pv_kwp"', f'share_rule = "explicit"\nshares_percent = {{ {table} }}'))
    with pytest.raises(ScenarioError, match=r"bad.toml.*vpp.*must sum to 100, got 96"):
        load_scenario(path)


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(_write(tmp_path, "[run\nname="))
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


def test_validate_command(tmp_path, capsys):
    assert main(["validate", str(ROOT / "scenarios" / "vpp.toml")]) == 0
    assert "valid" in capsys.readouterr().out
    bad = _write(tmp_path, GOOD.replace("pv_kwp = 8.0", "pv_kwp = -3.0"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "population[0].pv_kwp" in err


def test_bad_file_run_exits_nonzero_and_writes_no_complete_folder(tmp_path):
    bad = _write(tmp_path, GOOD.replace("[prices]", "[prices]\ncolour = 'red'"))
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", str(bad), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "bad.toml" in proc.stderr and "prices.colour" in proc.stderr
    assert not (out / "manifest.json").exists() or '"complete"' not in (out / "manifest.json").read_text()


def test_overrides_are_validated(small_scenario):
    with pytest.raises(ScenarioError, match=r"overrides.*population\[0\].pv_kwp"):
        small_scenario.with_overrides({"population.0.pv_kwp": -1.0}, source="x + overrides")
    assert small_scenario.with_overrides({"run.seed": 7}).run.seed == 7


def test_weather_only_scenario_runs_without_feeder(tmp_path):
    """The kernel runs with no electric community (capabilities such as district heat need none)."""
    from sim.runner import run_scenario

    path = _write(tmp_path, re.sub(r"\[feeder\].*", "", GOOD, flags=re.S).replace("duration_s = 604800",
                                                                                 "duration_s = 7200"))
    s = load_scenario(path)
    assert s.feeder is None and s.population == [] and s.vpp is None
    r = run_scenario(s, out=tmp_path / "out")
    assert set(r.timeseries.entity.unique()) == {"site"}
    assert "physics" not in r.summary and "vpp" not in r.summary
    assert (tmp_path / "out" / "report.html").exists()
    with pytest.raises(ScenarioError, match="population: missing"):
        load_scenario(_write(tmp_path, GOOD.replace("[[population]]", "[[ignored]]", 2)
                             .split("[[ignored]]")[0] + "\n[vpp]\n[prices]\nenergy_eur_per_kwh = 0.1\n"
                             "penalty_eur_per_kwh = 0.1\n"))


THOUSAND = {"chain.backend": "revm", "feeder.network": "kerber_vorstadtnetz_district_7",
            "population.0.count": 640, "population.1.count": 360}  # the year scenario's 64 % / 36 % mix


def test_feeder_households_are_the_networks_loads():
    from grid_models.feeder import build_network
    from sim.scenario import FEEDER_HOUSEHOLDS

    assert {name: len(build_network(name).load) for name in FEEDER_HOUSEHOLDS} == FEEDER_HOUSEHOLDS


def test_thousand_prosumers_fit_the_district():
    year = load_scenario(ROOT / "scenarios" / "vpp_year_100_prosumers.toml")
    s = year.with_overrides({**THOUSAND, "vpp": None, "feeder.transformer": "0.4 MVA 10/0.4 kV"})
    assert len(s.prosumer_ids()) == 1000 and s.feeder.transformer == "0.4 MVA 10/0.4 kV"
    with pytest.raises(ScenarioError, match="1023 prosumers do not fit .*1022 households"):
        year.with_overrides({**THOUSAND, "vpp": None, "population.1.count": 383})


def test_pools_are_bounded_by_the_contract_and_split_evenly():
    """One VppSettlement holds at most MAX_MEMBERS: ``vpp.pool_members`` may not exceed it (the error names the
    field), and a VPP of 1000 members settles in 4 pools of 250."""
    from contracts.compiler import SOURCE_DIR
    from sim.capabilities.vpp.capability import pool_sizes
    from sim.capabilities.vpp.spec import MAX_VPP_MEMBERS

    source = (SOURCE_DIR / "VppSettlement.vy").read_text()
    assert re.search(r"^MAX_MEMBERS: constant\(uint256\) = (\d+)", source, re.M).group(1) == str(MAX_VPP_MEMBERS)
    year = load_scenario(ROOT / "scenarios" / "vpp_year_100_prosumers.toml")
    with pytest.raises(ScenarioError, match=r"vpp\.pool_members.*less than or equal to 256"):
        year.with_overrides({"vpp.pool_members": 257})
    s = year.with_overrides(THOUSAND)
    assert len(member_ids(s)) == 1000 and s.vpp.pool_members == MAX_VPP_MEMBERS
    assert pool_sizes(1000, s.vpp.pool_members) == [250] * 4
    assert pool_sizes(256, 256) == [256] and pool_sizes(257, 256) == [129, 128]
    assert pool_sizes(7, 3) == [3, 2, 2] and sum(pool_sizes(1021, 256)) == 1021
