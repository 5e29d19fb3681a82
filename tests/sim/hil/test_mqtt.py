"""MQTT devices on loopback: the embedded amqtt broker, the twin's paho link against simulated Tasmota plugs, the
relay read-back rule and every link fault kind (broker down, lost message, late state, garbage, a plug that does not
switch), and the table's checks. Payload shapes are Tasmota's (https://tasmota.github.io/docs/Commands/: ``Power``
answers ``ON``/``OFF`` on ``stat/<topic>/POWER``; ``Status 8`` answers ``stat/<topic>/STATUS8`` with
``StatusSNS.ENERGY`` holding ``Total`` [kWh] and ``Power`` [W])."""

from __future__ import annotations

import socket
import time

import pytest

from sim.hil.actuator import Actuator
from sim.hil.mqtt_broker import EmbeddedBroker
from sim.hil.mqtt_link import MqttLink, parse_value
from sim.hil.mqtt_simulator import MqttDeviceSimulator
from sim.hil.mqtt_table import MqttPoint, tasmota_points
from sim.hil.table import DeviceSpec, DeviceTable
from sim.scenario import ScenarioError
from tests.sim.hil.conftest import MEMBER, hil_scenario

# Tasmota's answer to "Status 8" on a metering plug (the shape of the example in Tasmota's documentation)
STATUS8 = (b'{"StatusSNS":{"Time":"2019-03-28T13:50:14","ENERGY":{"TotalStartTime":"2019-03-28T12:50:14",'
           b'"Total":0.117,"Yesterday":0.000,"Today":0.117,"Power":23,"ApparentPower":30,"ReactivePower":19,'
           b'"Factor":0.77,"Voltage":229,"Current":0.131}}}')


def plug(name="plug-1", **kw) -> dict:
    return {"name": name, "kind": "relay", "protocol": "mqtt", "port": 0, "entity": f"prosumer/{MEMBER}/battery",
            "poll_s": 1.0, "timeout_s": 0.3, "backoff_max_s": 8.0, "safe_state": True,
            "mqtt": {"points": tasmota_points(name, "relay")}, **kw}


def metering_plug(name="pv-plug", **kw) -> dict:
    return {"name": name, "kind": "meter", "protocol": "mqtt", "port": 0, "entity": f"meter/{MEMBER}",
            "poll_s": 1.0, "timeout_s": 0.3, "mqtt": {"points": tasmota_points(name, "meter")},
            "simulate": {"power_w": 800.0, "amplitude_w": 300.0, "cycle_s": 600.0, "energy_wh": 1000.0}, **kw}


@pytest.fixture
def plugs():
    """``plugs(*devices)`` -> (simulator, {name: DeviceSpec bound to its broker}); everything stopped after."""
    started = []

    def _start(*devices, clock=None):
        sim = MqttDeviceSimulator(DeviceTable.model_validate({"devices": list(devices)}), clock=clock).start()
        started.append(sim)
        return sim, {d["name"]: DeviceSpec.model_validate(d | {"port": sim.ports[d["name"]]}) for d in devices}

    yield _start
    for sim in started:
        sim.stop()
    assert not any(sim.running for sim in started)


@pytest.fixture
def links():
    made: list[MqttLink] = []

    def _link(spec):
        made.append(link := MqttLink(spec))
        return link

    yield _link
    for link in made:
        link.close()


# payloads -----------------------------------------------------------------------------------------------------
def test_tasmota_payloads_decode_to_the_twins_units():
    energy, power, state = (MqttPoint.model_validate(p) for p in
                            tasmota_points("p", "meter") + tasmota_points("p", "relay"))
    assert parse_value(energy, STATUS8) == pytest.approx(117.0)  # 0.117 kWh
    assert parse_value(power, STATUS8) == 23.0
    assert parse_value(state, b"ON") == 1.0 and parse_value(state, b"OFF") == 0.0


@pytest.mark.parametrize(("point", "payload", "match"), [
    (0, b"not json", "Expecting value"), (0, b'{"StatusSNS":{}}', "no field 'StatusSNS.ENERGY.Total'"),
    (1, b'{"StatusSNS":{"ENERGY":{"Power":"NaN"}}}', "not a finite number"), (2, b"TOGGLE", "neither 'ON' nor 'OFF'"),
])
def test_payloads_that_hold_no_value_are_refused(point, payload, match):
    spec = MqttPoint.model_validate((tasmota_points("p", "meter") + tasmota_points("p", "relay"))[point])
    with pytest.raises(ValueError, match=match):
        parse_value(spec, payload)


# the broker --------------------------------------------------------------------------------------------------
def test_the_embedded_broker_listens_on_loopback_only_and_stops_cleanly():
    with pytest.raises(ValueError, match="listens on 127.0.0.1 only"):
        EmbeddedBroker(host="0.0.0.0")
    broker = EmbeddedBroker().start()
    try:
        assert broker.port > 0
        with socket.create_connection(("127.0.0.1", broker.port), timeout=1.0):
            pass
        local = [a for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET) if a[4][0] != "127.0.0.1"]
        for addr in local[:1]:  # another address of this machine: nothing listens there
            with pytest.raises(OSError):
                socket.create_connection((addr[4][0], broker.port), timeout=1.0).close()
    finally:
        started = time.monotonic()
        broker.close()
    assert time.monotonic() - started < 5.0 and not broker.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", broker.port), timeout=1.0).close()


# relays and meters through the link --------------------------------------------------------------------------
def test_a_plug_is_switched_by_publishing_and_confirmed_by_its_state_topic(plugs, links):
    sim, specs = plugs(plug())
    spec = specs["plug-1"]
    act = Actuator(spec, links(spec))
    act.command = lambda t_s: t_s < 2.0  # on, then off from t = 2
    for t in (0.0, 1.0, 2.0, 3.0):
        act.poll(t)
    assert [s[1:] for s in act.samples] == [(1.0, 1.0, 0), (1.0, 1.0, 0), (0.0, 0.0, 0), (0.0, 0.0, 0)]
    assert act.writes == act.confirmations == 1 and act.read_back_throughout(2.0, 4.0, 0.0)
    assert [v for _, v in sim.devices["plug-1"].history] == [1.0, 0.0]
    # what went over the broker: a query per poll, the command, the plug's answers (ON at first, OFF after)
    assert [p for _, _, p in sim.plugs["plug-1"].published] == ["ON", "ON", "ON", "OFF", "OFF", "OFF"]
    assert act.link.report()["faults"] == {}


def test_a_metering_plug_is_read_by_status_8(plugs, links):
    sim, specs = plugs(metering_plug(), clock=lambda: 120.0)
    spec = specs["pv-plug"]
    link = links(spec)
    dev = sim.devices["pv-plug"]
    assert link.read(0.0, spec.register("energy")) == pytest.approx(dev.energy_wh(120.0), abs=1e-3)
    assert link.read(0.0, spec.register("power")) == pytest.approx(dev.power_w(120.0), abs=1e-6)


@pytest.mark.parametrize(("kind", "extra", "fault"), [
    ("drop", {}, "timeout"),  # a lost message: no answer within timeout_s
    ("garbage", {}, "garbage"),
    ("restart", {}, "connection"),  # the broker is down
])
def test_link_faults_are_counted_and_back_off_as_for_modbus(plugs, links, kind, extra, fault):
    sim, specs = plugs(plug())
    spec = specs["plug-1"]
    act = Actuator(spec, links(spec))
    act.command = lambda t_s: True
    act.poll(0.0)
    sim.inject(kind, duration_s=1e9, **extra)
    act.poll(1.0)
    assert act.link.faults[fault] == 1
    assert act.samples[-1][3] == 0  # the read-back of t = 0 is still fresh
    if fault != "garbage":  # the device is not reachable: wait 1 poll, then 2 ...
        assert not act.link.ready(1.5) and act.link.ready(2.0)
    act.poll(2.0), act.poll(3.0), act.poll(4.0)
    assert act.samples[-1][2:] == (1.0, 1)  # no read-back for STALE_POLLS polls: the safe state, assumed


def test_a_late_state_is_counted_and_never_taken_for_the_next_answer(plugs, links):
    sim, specs = plugs(plug())
    spec = specs["plug-1"]
    link = links(spec)
    state = spec.register("state")
    assert link.read(0.0, state) == 1.0
    sim.inject("slow", duration_s=1e9, reply_delay_s=0.5)  # longer than timeout_s = 0.3
    with pytest.raises(Exception, match="timeout"):
        link.read(1.0, state)
    time.sleep(0.4)  # the late answer arrives while nothing waits
    assert link.faults["late_state"] == 1 and link.faults["timeout"] == 1


def test_a_plug_that_does_not_switch_is_a_readback_mismatch(plugs, links):
    sim, specs = plugs(plug())
    spec = specs["plug-1"]
    act = Actuator(spec, links(spec))
    sim.inject("stuck", duration_s=1e9)  # in manual override: commands answered with the unchanged state
    act.command = lambda t_s: False
    act.poll(0.0)
    assert act.link.faults["readback_mismatch"] == 1 and not act.read_back_throughout(0.0, 1.0, 0.0)
    assert sim.devices["plug-1"].history == [(0.0, 1.0)]


def test_a_broker_back_after_an_outage_is_used_again(plugs, links):
    sim, specs = plugs(plug())
    spec = specs["plug-1"]
    link = links(spec)
    state = spec.register("state")
    link.read(0.0, state)
    sim.inject("restart", duration_s=1e9)
    with pytest.raises(Exception, match="connection"):
        link.read(1.0, state)
    sim.end("restart")  # the broker listens again; the plug is back
    deadline = time.monotonic() + 10.0
    value, t = None, 2.0
    while value is None and time.monotonic() < deadline:
        if link.ready(t):
            try:
                value = link.read(t, state)
            except Exception:  # noqa: BLE001 - reconnecting: counted below
                pass
        t += 1.0
    assert value == 1.0, (sim.events, link.report())
    assert link.connections == sim.brokers[0].starts == 2  # a new session with the new broker


# the table ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "match"), [
    ({"registers": [{"point": "state", "address": 0, "table": "coil", "type": "bool"}]}, "not registers"),
    ({"mqtt": None}, "not registers"),
    ({"kind": "setpoint", "safe_state": 0.0}, "only meters and relays"),
    ({"inject": True}, "only a meter with a 'power' point"),
    ({"mqtt": {"points": [tasmota_points("x", "relay")[0] | {"command_topic": "cmnd/#"}]}}, "command_topic"),
])
def test_the_table_refuses_mqtt_devices_it_cannot_drive(change, match):
    with pytest.raises(ScenarioError, match=match):
        hil_scenario([plug(port=1883) | change], factor=60.0, duration_s=600, step_s=60, settlement_s=300)


def test_two_devices_on_the_same_topics_are_refused():
    with pytest.raises(ScenarioError, match="both use 127.0.0.1:1883 topic 'cmnd/plug-1/POWER'"):
        hil_scenario([plug(port=1883), plug(port=1883) | {"name": "plug-2"}], factor=60.0, duration_s=600,
                     step_s=60, settlement_s=300)


def test_a_broker_elsewhere_needs_allow_remote_hosts():
    devices = [plug(port=1883, host="192.0.2.7")]
    with pytest.raises(ScenarioError, match="allow_remote_hosts"):
        hil_scenario(devices, factor=60.0, duration_s=600, step_s=60, settlement_s=300)
    assert hil_scenario(devices, factor=60.0, duration_s=600, step_s=60, settlement_s=300,
                        **{"hil.allow_remote_hosts": True}).devices[0].host == "192.0.2.7"
    with pytest.raises(ValueError, match="the simulator serves on and uses 127.0.0.1 only"):
        MqttDeviceSimulator(DeviceTable.model_validate({"devices": devices}))
