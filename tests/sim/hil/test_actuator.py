"""Relays and set-points: writes confirmed by read-back, a device that does not take a write is a fault,
lost communication ends in the configured safe state, and the bridge leaves devices safe when it stops."""

from __future__ import annotations

import time

import pytest

from sim.hil.actuator import QUALITY_ASSUMED_SAFE, QUALITY_CONFIRMED, Actuator
from sim.hil.bridge import HilBridge
from sim.hil.link import ModbusLink
from tests.sim.hil.conftest import relay, spec


def _actuator(sim, device, command):
    act = Actuator(spec(sim, device), ModbusLink(spec(sim, device)))
    act.command = command
    return act


def _wait(predicate, wall_s=5.0):
    """Bounded wait for something the simulator's own clock does (a watchdog), not a timing assertion."""
    end = time.monotonic() + wall_s
    while not predicate() and time.monotonic() < end:
        time.sleep(0.01)
    return predicate()


def test_relay_follows_its_command_confirmed_by_read_back(serve):
    sim = serve([relay()])
    device = sim.devices["relay-a"]
    commands = {0: 1.0, 1: 1.0, 2: 0.0, 3: None, 4: 250.0}  # None keeps the last command; a number > 0 is on
    act = _actuator(sim, relay(watchdog_s=2.0), lambda t: commands[int(t)])
    states = []
    for t in range(5):
        act.poll(float(t))
        states.append(device.value)
    assert states == [1.0, 1.0, 0.0, 0.0, 1.0]
    assert [v for _, v in device.history] == [0.0, 1.0, 0.0, 1.0]  # the register changed three times
    assert act.writes == act.confirmations == 3  # written only on change, each confirmed
    assert [s[2:] for s in act.samples] == [(s, QUALITY_CONFIRMED) for s in states]
    assert device.watchdog_s == 2.0  # the bridge armed the device's watchdog on connecting
    act.link.close()



def test_a_window_counts_as_read_back_only_when_every_poll_in_it_read_the_value(serve):
    sim = serve([relay()])  # polled every second
    act = _actuator(sim, relay(), lambda t: 0.0 if 2 <= t < 5 else 1.0)
    for t in (0.0, 1.0, 2.0, 3.0):
        act.poll(t)
    sim.inject("drop", duration_s=60.0)
    act.poll(4.0)  # unanswered: the bridge may still report the read-back of t = 3 s as confirmed
    assert act.samples[-1][2:] == (0.0, QUALITY_CONFIRMED)
    assert act.read_back_throughout(0.0, 2.0, 1.0) and act.read_back_throughout(2.0, 4.0, 0.0)
    assert not act.read_back_throughout(0.0, 2.0, 0.0) and not act.read_back_throughout(1.0, 3.0, 1.0)
    assert not act.read_back_throughout(3.0, 5.0, 0.0)  # the poll at 4 s read nothing back
    assert not act.read_back_throughout(6.0, 8.0, 1.0)  # no poll in the window: nothing confirmed
    act.link.close()


def test_a_write_the_device_does_not_take_is_a_readback_mismatch(serve):
    sim = serve([relay()])
    act = _actuator(sim, relay(), lambda t: 1.0)
    sim.inject("stuck", duration_s=60.0)
    act.poll(0.0)
    assert sim.devices["relay-a"].value == 0.0
    assert act.link.faults["readback_mismatch"] == 1 and act.confirmations == 0
    assert act.samples[-1][1:] == (1.0, 0.0, QUALITY_CONFIRMED)  # wanted on, the device reports off: reported as is
    sim.active.clear()
    act.poll(1.0)
    assert sim.devices["relay-a"].value == 1.0 and act.confirmations == 1
    act.link.close()


def test_lost_communication_puts_the_relay_in_its_safe_state_and_the_bridge_restores_it(serve):
    sim = serve([relay(watchdog_s=3.0)], time_factor=10.0)  # device watchdog: 3 device s = 0.3 wall s
    device = sim.devices["relay-a"]
    act = _actuator(sim, relay(watchdog_s=3.0), lambda t: 1.0)
    act.poll(0.0)
    assert device.value == 1.0
    sim.inject("drop", duration_s=600.0)
    for t in (1.0, 2.0, 3.0, 4.0):  # 1, 2 and 4 time out; 3 is skipped while backing off (1 s, then 2 s)
        act.poll(t)
    assert act.link.faults["timeout"] == 3 and act.polls_skipped == 1
    assert act.samples[2][2:] == (1.0, QUALITY_CONFIRMED)  # confirmed at 0, two polls old: still good
    assert act.samples[3][2:] == (0.0, QUALITY_ASSUMED_SAFE)  # older than two polls: never reported as good
    assert _wait(lambda: device.value == 0.0)  # the device's watchdog tripped: its register is off
    assert device.watchdog_trips == 1
    sim.active.clear()
    for t in range(5, 20):
        act.poll(float(t))
        if act.link.ready(float(t)) and not act.link.down:
            break
    assert device.value == 1.0 and act.samples[-1][2:] == (1.0, QUALITY_CONFIRMED) and act.link.reconnects == 1
    act.link.close()


def test_setpoint_is_written_scaled_and_confirmed(serve):
    setpoint = {"name": "inverter", "kind": "setpoint", "port": 0, "unit_id": 4, "entity": "prosumer/x/battery",
                "safe_state": 0.0, "registers": [{"point": "setpoint", "address": 40, "type": "int32", "scale": 0.1,
                                                  "unit": "W", "word_order": "little"}]}
    sim = serve([setpoint])
    act = _actuator(sim, setpoint, lambda t: 1234.56)
    act.poll(0.0)
    assert sim.devices["inverter"].value == pytest.approx(1234.6)  # the register holds 12346 x 0.1 W
    assert act.confirmations == 1 and act.link.faults.total() == 0
    act.link.close()


def test_bridge_binds_command_sources_refuses_an_undriven_relay_and_leaves_relays_safe(serve):
    sim = serve([relay()])
    bridge = HilBridge([spec(sim, relay())], seed=0, settlement_s=60, duration_s=60)
    with pytest.raises(ValueError, match=r"'relay-a' \(relay\): nothing drives entity 'prosumer/pv-battery-01/"
                                         r"battery'"):
        bridge.bind([])
    bridge.drive("prosumer/pv-battery-01/battery", lambda t: True)
    bridge.bind([])
    assert bridge.reported("prosumer/pv-battery-01/battery") is None
    bridge.actuators["relay-a"].poll(0.0)
    assert sim.devices["relay-a"].value == 1.0
    assert bridge.reported("prosumer/pv-battery-01/battery") == (1.0, 0)
    bridge.close(1.0)
    assert sim.devices["relay-a"].value == 0.0 and bridge.actuators["relay-a"].safe_on_close is True
    assert bridge.report()["devices"]["relay-a"]["safe_state_written_on_close"] is True
