"""Bring your own community (issue 19), the grids: a SimBench LV grid or a saved pandapower net as the feeder, its
own load profiles, prosumers on named loads; a network that cannot be used is refused by validation, naming the
file and the field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandapower as pp
import pandas as pd
import pytest

from grid_models.feeder import Feeder
from grid_models.loads import profile_offset_s
from grid_models.network_source import file_sha256
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import SIMBENCH
from tests.grid_models.test_networks import small_net

PROSUMER_LOADS = ["LV1.101 Load 2", "LV1.101 Load 4", "LV1.101 Load 11", "LV1.101 Load 6", "LV1.101 Load 1",
                  "LV1.101 Load 13"]  # three H0 households, an L1 and two L2 farms


def scenario_text(network: str, feeder: str = "", population: str | None = None, days: int = 1) -> str:
    population = population if population is not None else (
        "[[population]]\nname = \"pv-battery\"\ncount = 4\npv_kwp = 8.0\nbattery_kwh = 10.0\nbattery_kw = 4.0\n\n"
        "[[population]]\nname = \"pv-only\"\ncount = 2\npv_kwp = 5.0\n")
    return f"""
[run]
name = "your_grid"
start = 2025-06-02T00:00:00
duration_s = {days * 86400}
step_s = 900
settlement_s = 3600
seed = 42

[site]
lat = 48.14
lon = 11.58
tz = "Europe/Berlin"

[feeder]
network = "{network}"
{feeder}

{population}

[vpp]
share_rule = "pv_kwp"

[prices]
energy_eur_per_kwh = 0.11
penalty_eur_per_kwh = 0.25
member_collateral_eur = 50.0
"""


NETWORK_LOADS = 'loads = "network"\nprosumer_loads = ' + json.dumps(PROSUMER_LOADS)


def write(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def simbench_run(tmp_path_factory):
    from sim.runner import run_scenario

    folder = tmp_path_factory.mktemp("simbench")
    return run_scenario(write(folder, scenario_text(SIMBENCH, NETWORK_LOADS)), out=folder / "out")


def test_simbench_grid_runs_a_day_on_its_own_profiles(simbench_run):
    """One prosumer on each named load, every household on its SimBench profile; the direct lightsim2grid path's
    bus voltages agree with pp.runpp's on the run's own injections, step by step, within 1e-6 pu."""
    r, twin = simbench_run, simbench_run.twin
    feeder, inputs = twin.feeder, twin.inputs
    names = feeder.net.load.name.to_numpy()
    assert [names[p] for p in feeder.prosumer_pos] == PROSUMER_LOADS
    profiles = feeder.load_profiles
    offset = profile_offset_s(inputs.times[0], profiles.start, profiles.kw.shape[0] * 900)
    assert offset == (31 + 29 + 31 + 30 + 28) * 86_400 + 23 * 3600  # Sunday 29 May 2016, 23:00 standard time
    np.testing.assert_array_equal(inputs.household_load_kw, profiles.kw[offset // 900: offset // 900 + 96])
    np.testing.assert_array_equal(twin.recorder.prosumer["load_kw"], inputs.household_load_kw[:, feeder.prosumer_pos])
    np.testing.assert_allclose(inputs.annual_load_kwh, profiles.annual_kwh[feeder.prosumer_pos])
    assert r.summary["physics"]["feeder_load_kwh"] == pytest.approx(inputs.household_load_kw.sum() / 4, rel=1e-12)
    assert r.summary["physics"]["energy_balance_max_abs_error_kw"] < 1e-3
    assert r.manifest["network"] == {"simbench_code": SIMBENCH.split(":")[1], "simbench": "1.6.1", "households": 13,
                                     "left_out": {"sgen": 4}, "loads": "network"}
    assert r.summary["vpp"]["periods_settled"] == 24

    fast, ref = (Feeder(SIMBENCH, 6, solver, prosumer_loads=PROSUMER_LOADS)
                 for solver in ("lightsim2grid", "runpp-lightsim2grid"))
    battery = twin.recorder.prosumer["battery_kw"]
    worst = 0.0
    for k in range(twin.n_steps):
        for f in (fast, ref):
            f.set_injections(inputs.household_load_kw[k], inputs.pv_kw[k], battery[k])
        a, _ = fast.solve(), ref.solve()
        worst = max(worst, float(np.abs(fast.bus_vm_pu() - ref.bus_vm_pu()).max()))
        assert a.vm_min_pu == twin.recorder.feeder["vm_min_pu"][k]  # the replay is the run
    assert worst < 1e-6


def test_a_saved_json_of_the_net_gives_identical_results(simbench_run, simbench_raw, tmp_path):
    """``network = "rural1.json"`` (pandapower.to_json of simbench's net, next to the scenario) runs as
    ``simbench:<code>`` does: timeseries, ledger, readings and summary equal but for the run id."""
    from sim.runner import run_scenario

    pp.to_json(simbench_raw, str(tmp_path / "rural1.json"))
    r = run_scenario(write(tmp_path, scenario_text("rural1.json", NETWORK_LOADS)), out=tmp_path / "out")
    base = simbench_run
    pd.testing.assert_frame_equal(r.timeseries, base.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(r.ledger, base.ledger, check_exact=True)
    pd.testing.assert_frame_equal(r.readings, base.readings, check_exact=True)
    assert r.summary["run"].pop("run_id") != base.summary["run"]["run_id"]
    assert r.summary == {**base.summary, "run": {k: v for k, v in base.summary["run"].items() if k != "run_id"}}
    assert r.scenario.feeder.network == str(tmp_path / "rural1.json")  # relative to the scenario file
    assert r.manifest["network"]["sha256"] == file_sha256(tmp_path / "rural1.json")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["network"]["file"] == str(tmp_path /
                                                                                                  "rural1.json")


def no_load(n):
    n.load.drop(n.load.index, inplace=True)


def islanded(n):
    pp.create_switch(n, 2, 1, et="l", closed=False, name="opened for works")


def with_gen(n):
    pp.create_gen(n, 3, p_mw=0.01, vm_pu=1.03, name="farm generator")


TWO = '[[population]]\nname = "pv"\ncount = 2\npv_kwp = 5.0\nannual_load_kwh = 3000.0\n'


@pytest.mark.parametrize(("edit", "feeder", "population", "field", "expected"), [
    (no_load, "", TWO, "feeder", "no load in service: no household to place a prosumer on"),
    (None, 'prosumer_loads = ["house 1", "house 7"]', TWO, "feeder",
     "prosumer_loads: no load in service named 'house 7'; the network's loads are named e.g. 'house 1'"),
    (islanded, "", TWO, "feeder", r"2 bus\(es\) in service not connected to an external grid .*'LV2', 'LV3'"),
    (with_gen, "", TWO, "feeder", r"1 'gen' element\(s\) in service \('farm generator'\): not supported"),
    (None, "", TWO.replace("count = 2", "count = 4"), "", "population: 4 prosumers do not fit on feeder .*grid.json"
     "', which has 3 households"),
    (None, 'prosumer_loads = ["house 1"]', TWO, "", "feeder.prosumer_loads: 1 loads named for 2 prosumers"),
    (None, 'loads = "network"', TWO.replace("annual_load_kwh = 3000.0\n", ""), "feeder",
     r"loads: 'network': .*carries no load profiles"),
    (None, 'transformer = "0.4 MVA 10/0.4 kV"', TWO, "feeder",
     r"transformer: transformer '0.4 MVA 10/0.4 kV' \(10(\.0)?/0.4 kV\) does not fit the feeder's 20.0/0.4 kV"),
    (None, "", TWO.replace("annual_load_kwh = 3000.0\n", ""), "", "population\\[0\\].annual_load_kwh: missing"),
], ids=["no-load", "unknown-load", "islanded", "gen", "more-prosumers-than-loads", "names-for-prosumers",
        "no-profiles", "transformer", "no-annual-energy"])
def test_unusable_networks_are_refused_by_validate(tmp_path, capsys, edit, feeder, population, field, expected):
    net = small_net()
    if edit is not None:
        edit(net)
    pp.to_json(net, str(tmp_path / "grid.json"))
    path = write(tmp_path, scenario_text("grid.json", feeder, population))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    msg = str(info.value)
    assert str(path) in msg and re.search(rf"{re.escape(str(path))}: (<top>|{field}): .*{expected}", msg), msg
    assert main(["validate", str(path)]) == 2  # gridledger validate: "the run will start" or it says why
    assert re.search(expected, capsys.readouterr().err)


@pytest.mark.parametrize(("network", "feeder", "expected"), [
    ("kerber_dorfnetz", 'loads = "network"', "feeder: loads: 'network' takes the load profiles a network carries"),
    ("kerber_dorfnetz", 'prosumer_loads = ["a", "b"]', "no load in service named 'a'.*loads are unnamed"),
    ("simbench:1-LV-nowhere", "", "feeder: network: unknown SimBench code '1-LV-nowhere'"),
    ("missing.json", "", r"feeder: network: no such network file: .*missing.json"),
    ("grid.xml", "", "feeder.network: one of the Kerber feeders"),
])
def test_network_names_are_checked(tmp_path, network, feeder, expected):
    path = write(tmp_path, scenario_text(network, feeder, TWO))
    with pytest.raises(ScenarioError, match=expected):
        load_scenario(path)


def test_annual_energy_is_the_profiles_with_network_loads(tmp_path):
    path = write(tmp_path, scenario_text(SIMBENCH, 'loads = "network"', TWO))
    with pytest.raises(ScenarioError, match=r"population\[0\].annual_load_kwh: with \[feeder\] loads = 'network'"):
        load_scenario(path)


def test_what_the_direct_path_cannot_take_needs_another_solver(tmp_path):
    net = small_net()
    net.line.loc[0, "parallel"] = 2
    pp.to_json(net, str(tmp_path / "grid.json"))
    with pytest.raises(ScenarioError, match="feeder: solver: .*direct lightsim2grid path cannot take"):
        load_scenario(write(tmp_path, scenario_text("grid.json", "", TWO)))
    assert load_scenario(write(tmp_path, scenario_text("grid.json", 'solver = "pandapower"', TWO))).feeder


def test_the_run_id_follows_the_file_content_not_its_place(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        pp.to_json(small_net(), str(tmp_path / folder / "grid.json"))
    a, b = (load_scenario(write(tmp_path / f, scenario_text("grid.json", "", TWO))) for f in ("a", "b"))
    assert a.feeder.network != b.feeder.network and a.digest() == b.digest()
    net = small_net()
    net.line.length_km *= 2
    pp.to_json(net, str(tmp_path / "b" / "grid.json"))
    assert a.digest() != b.digest()


def test_existing_scenarios_keep_their_run_id():
    """The new feeder keys at their defaults stay out of the digest: a scenario written before them keeps its id."""
    from tests.conftest import ROOT

    s = load_scenario(ROOT / "scenarios" / "vpp.toml")
    assert s.digest() == s.with_overrides({"feeder.loads": "bdew", "feeder.prosumer_loads": None}).digest()
    assert s.digest() != s.with_overrides({"feeder.solver": "pandapower"}).digest()
