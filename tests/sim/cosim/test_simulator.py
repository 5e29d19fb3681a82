"""The simulator's mosaik API without a world: what it refuses (a clear message naming the entity, attribute,
source and time), and that stepping it by hand feeds exactly the given power into the twin."""

from __future__ import annotations

import math

import pytest

from sim.cosim.meta import META
from sim.cosim.simulator import FeedError, GridledgerSim
from tests.conftest import ROOT

SCENARIO = str(ROOT / "scenarios" / "mosaik" / "pv_day.toml")
SHORT = {"run.duration_s": 7200}  # two hours: 8 steps, 2 periods


@pytest.fixture()
def sim():
    s = GridledgerSim()
    s.init("Gridledger-0", 1.0, scenario=SCENARIO, overrides=SHORT)
    yield s
    s.finalize()


def test_the_meta_is_mosaik_api_v3s_format():
    assert META["api_version"] == "3.0" and META["type"] == "time-based"
    for model in META["models"].values():
        assert model["public"] is True and isinstance(model["params"], list) and model["attrs"]


def test_meters_are_the_scenarios_prosumers_in_order(sim):
    assert [e["eid"] for e in sim.create(2, "Meter")] == ["pv-battery-01", "pv-battery-02"]
    assert sim.create(1, "Meter", prosumer="pv-only-02") == [{"eid": "pv-only-02", "type": "Meter"}]
    with pytest.raises(ValueError, match="Meter: prosumer 'pv-only-02' has an entity already"):
        sim.create(1, "Meter", prosumer="pv-only-02")
    with pytest.raises(ValueError, match=r"Meter: prosumer 'house-01' with num=1: expected num=1 and one of the "
                                         r"scenario's \['pv-battery-01', "):
        sim.create(1, "Meter", prosumer="house-01")
    with pytest.raises(ValueError, match=r"Meter: no parameter \['site'\]; expected 'prosumer'"):
        sim.create(1, "Meter", site="pv-battery-03")
    with pytest.raises(ValueError, match="Meter: 5 more entities asked, the scenario has 3 left"):
        sim.create(5, "Meter")
    with pytest.raises(ValueError, match="Outlet: 1 more entities asked, the scenario has 0 left"):
        sim.create(1, "Outlet")  # no [dsr] in this scenario
    with pytest.raises(ValueError, match=r"no model 'Battery'; expected one of \['GridOperator', 'Ledger', 'Meter', "
                                         r"'Outlet', 'Site'\]"):
        sim.create(1, "Battery")
    sim.create(1, "Ledger")
    with pytest.raises(ValueError, match="one entity per gridledger simulator"):
        sim.create(1, "Ledger")


@pytest.mark.parametrize("value, expected", [
    (math.nan, r"pv-battery-01.pv_p_kw from CSV-0.Data_0 at 2025-06-02T00:00:00\+02:00: nan; expected a finite power"),
    (-0.5, "-0.5; expected a finite power of at least 0 kW"),
    ("1.0", "'1.0'; expected a finite power"),
    (True, "True; expected a finite power"),
    (8.5, r"pv-battery-01.pv_p_kw at .* \(step 0\): 8.5 kW is above its pv_kwp 8 kW \(a value in W, not kW\?\)"),
])
def test_bad_power_is_refused_naming_entity_attribute_source_and_time(sim, value, expected):
    sim.create(1, "Meter")
    with pytest.raises(FeedError, match=expected):
        sim.step(0, {"pv-battery-01": {"pv_p_kw": {"CSV-0.Data_0": value}}}, 7200)
    assert sim.k == -1  # nothing ran


def test_only_a_meters_power_is_an_input(sim):
    sim.create(1, "Meter")
    with pytest.raises(FeedError, match=r"pv-battery-01: 'balance_eur' is not an input of gridledger; expected a "
                                        r"Meter's pv_p_kw or load_p_kw"):
        sim.step(0, {"pv-battery-01": {"balance_eur": {"x": 1.0}}}, 7200)


def test_steps_in_order_only_and_an_input_once_fed_every_step(sim):
    sim.create(2, "Meter")
    with pytest.raises(ValueError, match=r"stepped at mosaik time 900; expected 0 \(step 0: one step every 900 ticks\)"):
        sim.step(900, {}, 7200)
    sim.step(0, {"pv-battery-01": {"pv_p_kw": {"a": 1.0, "b": 0.25}}}, 7200)  # sources add up
    assert sim.twin.inputs.pv_kw[0, 0] == 1.25 and sim.twin.fleet.pv_kw[0, 0] == 1.25
    with pytest.raises(FeedError, match=r"pv-battery-01: no \['pv_p_kw'\] at 2025-06-02T00:15:00\+02:00 \(step 1\)"):
        sim.step(900, {"pv-battery-02": {"pv_p_kw": {"a": 1.0}}}, 7200)
    with pytest.raises(ValueError, match="step 0 cannot be fed: the clock is at 1 s"):
        sim.twin.feed_step_kw(0, pv_kw={0: 1.0}, load_kw={})


def test_the_fed_step_is_what_the_meter_measured(sim):
    """A step fed by hand: the twin's records hold exactly the given PV and load, and the meter's register grew by
    the step's net export (export = PV - load - battery at the connection, through the power flow)."""
    sim.create(1, "Meter")
    sim.step(0, {"pv-battery-01": {"pv_p_kw": {"x": 3.0}, "load_p_kw": {"x": 0.5}}}, 7200)
    out = sim.get_data({"pv-battery-01": ["export_p_kw", "register_wh", "soc_kwh", "reading_period"]})["pv-battery-01"]
    rec = sim.twin.recorder.prosumer
    assert rec["pv_kw"][0, 0] == 3.0 and rec["load_kw"][0, 0] == 0.5
    assert out["export_p_kw"] == pytest.approx(3.0 - 0.5 - rec["battery_kw"][0, 0], abs=1e-3)  # the flow's losses
    assert out["register_wh"] == pytest.approx(out["export_p_kw"] * 900 / 3.6)
    assert out["reading_period"] == -1  # nothing settled after 15 minutes


def test_a_resolution_that_does_not_divide_the_step_is_refused():
    with pytest.raises(ValueError, match=r"run.step_s = 900 s is not a whole number of mosaik's time_resolution \(7 s\)"):
        GridledgerSim().init("G", 7.0, scenario=SCENARIO, overrides=SHORT)


def test_hil_and_real_time_scenarios_are_refused():
    with pytest.raises(ValueError, match=r"hil_demo.toml: a HIL or real-time scenario cannot run under mosaik"):
        GridledgerSim().init("G", 1.0, scenario=str(ROOT / "scenarios" / "hil_demo.toml"))


def test_mosaik_time_in_minutes_steps_every_15_ticks():
    s = GridledgerSim()
    s.init("G", 60.0, scenario=SCENARIO, overrides=SHORT)
    try:
        assert s.step(0, {}, 120) == 15 and s.step(15, {}, 120) == 30
        assert s.twin.env.now == 901  # through step 1, up to the settlement due 1 s after it
    finally:
        s.finalize()


def test_a_world_stopped_early_leaves_the_results_folder_incomplete_saying_why(tmp_path):
    import json

    import mosaik

    from sim.cosim.world import SIM_CONFIG

    with mosaik.World(SIM_CONFIG, skip_greetings=True, configure_logging=False) as world:
        world.start("Gridledger", scenario=SCENARIO, overrides=SHORT, out=str(tmp_path / "r")).Ledger.create(1)
        world.run(until=1800, print_progress=False)
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"
    assert manifest["error"] == "mosaik stopped after step 2 of 8: expected the world to run until 7200"
    assert not (tmp_path / "r" / "ledger.parquet").exists()


def test_a_sites_power_above_its_nameplate_is_refused_and_what_it_takes_is_what_its_meter_measures():
    from tests.conftest import CERTS_SMALL

    s = GridledgerSim()
    s.init("G", 1.0, scenario=str(ROOT / "scenarios" / "certificates.toml"), overrides=CERTS_SMALL)
    try:
        s.create(1, "Site", site="pv-stade")
        with pytest.raises(FeedError, match=r"pv-stade.p_kw at 2025-04-07T00:00:00\+02:00 \(step 0\): 2600 kW is "
                                            r"above its nameplate_kw 2500 kW \(a value in W, not kW\?\)"):
            s.step(0, {"pv-stade": {"p_kw": {"CSV-0.Data_0": 2600.0}}}, 900)
        with pytest.raises(FeedError, match=r"pv-stade: 'dr_request_kw' is not an input of gridledger; expected a "
                                            r"Meter's pv_p_kw or load_p_kw, a Site's p_kw or the GridOperator's"):
            s.step(0, {"pv-stade": {"dr_request_kw": {"x": 1.0}}}, 900)
        with pytest.raises(ValueError, match=r"GridOperator: the scenario has no \[dsr\]"):
            s.create(1, "GridOperator")
        s.step(0, {"pv-stade": {"p_kw": {"a": 2000.0, "b": 500.0}}}, 900)  # night, fed its nameplate
        assert s.get_data({"pv-stade": ["p_kw"]}) == {"pv-stade": {"p_kw": 2500.0}}
        meter = s.twin.capability("certificates").site_meters[0]
        assert meter.meter_id == "meter/pv-stade" and meter.export_register_wh == pytest.approx(2500.0 * 900 / 3.6)
    finally:
        s.finalize()
