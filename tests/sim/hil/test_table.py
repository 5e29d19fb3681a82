"""Device tables and the scenario's [[devices]]: what is accepted, and errors naming file, field, expectation."""

from __future__ import annotations

import pytest

from sim.hil.table import load_device_table
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT
from tests.sim.hil.conftest import hil_scenario, meter, relay

SCEN = ROOT / "scenarios"


def test_shipped_device_table_and_demo_scenario_load():
    table = load_device_table(SCEN / "hil_devices.toml")
    assert [d.kind for d in table.devices] == ["meter", "relay"]
    assert {f.kind for f in table.faults} == {"drop", "slow", "exception", "garbage", "restart"}
    demo = load_scenario(SCEN / "hil_demo.toml")
    assert demo.devices == table.devices  # the same table, read through [hil] devices_file
    assert demo.realtime.factor == table.simulator.time_factor


def _write(tmp_path, text: str):
    path = tmp_path / "devices.toml"
    path.write_text(text)
    return path


def test_bad_register_map_names_file_field_and_expectation(tmp_path):
    path = _write(tmp_path, """
[[devices]]
name = "m"
kind = "meter"
port = 5020
entity = "meter/x-01"
registers = [{ point = "energy", address = 0, type = "uint32", unit = "W" }]
""")
    with pytest.raises(ScenarioError, match=r"devices.toml: devices\[0\]\.registers\[0\]: point 'energy' needs a "
                                            r"unit among \['MWh', 'Wh', 'kWh'\]"):
        load_device_table(path)


@pytest.mark.parametrize("device,message", [
    (relay(safe_state=None), "a relay needs safe_state = true or false"),
    (relay(registers=[{"point": "state", "address": 0, "table": "coil", "type": "uint16"}]),
     "type 'bool' goes with table 'coil'"),
    (relay(registers=[{"point": "state", "address": 0, "table": "input", "type": "uint16"}]),
     "cannot live in the read-only 'input' table"),
    (meter(registers=[{"point": "power", "address": 0, "type": "float32", "unit": "W"}]),
     r"a meter needs point\(s\) \['energy'\]"),
    (meter(entity="prosumer/x"), "a meter replaces a virtual meter 'meter/<prosumer id>'"),
    (meter(simulate={"power_w": 100.0, "amplitude_w": 500.0}), "never runs backwards"),
    ({**relay(), "watchdog_s": None}, "give the seconds to write into it"),
])
def test_device_rules(device, message):
    from sim.hil.table import DeviceTable

    with pytest.raises(ValueError, match=message):
        DeviceTable.model_validate({"devices": [device]})


def _run_devices(**kw):
    return [meter(port=5020, **kw), relay(port=5020)]


def test_scenario_devices_are_checked_against_the_rest_of_the_scenario():
    ok = hil_scenario(_run_devices(), factor=10.0, duration_s=3600, step_s=60, settlement_s=300)
    assert [d.name for d in ok.devices] == ["meter-a", "relay-a"]
    common = dict(factor=10.0, duration_s=3600, step_s=60, settlement_s=300)
    with pytest.raises(ScenarioError, match="realtime: missing"):
        hil_scenario(_run_devices(), realtime=None, **common)
    with pytest.raises(ScenarioError, match=r"devices\[0\]\.host: a run .* uses 127.0.0.1 only, got '10.0.0.7'"):
        hil_scenario(_run_devices(host="10.0.0.7"), **common)
    remote = hil_scenario(_run_devices(host="10.0.0.7"), hil={"allow_remote_hosts": True}, **common)
    assert remote.devices[0].host == "10.0.0.7"
    with pytest.raises(ScenarioError, match="names no prosumer"):
        hil_scenario([meter(port=5020, entity="meter/nobody-01")], **common)
    with pytest.raises(ScenarioError, match=r"poll_s \(7\) must divide run.settlement_s \(300\)"):
        hil_scenario(_run_devices(poll_s=7.0), **common)
    with pytest.raises(ScenarioError, match="port 0 means 'any free port'"):
        hil_scenario([meter()], **common)
    with pytest.raises(ScenarioError, match="both use 127.0.0.1:5020 unit 1"):
        hil_scenario([meter(port=5020), meter(name="other", port=5020, entity="meter/pv-only-01")], **common)


def test_devices_file_and_inline_devices_exclude_each_other(tmp_path):
    text = (SCEN / "hil_demo.toml").read_text()
    (tmp_path / "hil_devices.toml").write_text((SCEN / "hil_devices.toml").read_text())
    both = tmp_path / "both.toml"
    both.write_text(text + '\n[[devices]]\nname = "x"\n')
    with pytest.raises(ScenarioError, match="both.toml: hil.devices_file: give either"):
        load_scenario(both)
    missing = tmp_path / "missing.toml"
    missing.write_text(text.replace('devices_file = "hil_devices.toml"', 'devices_file = "nope.toml"'))
    with pytest.raises(ScenarioError, match="nope.toml: no such device-table file"):
        load_scenario(missing)
