"""The simulator serves and the bridge's link reads, over loopback; each fault the simulator injects becomes a
counted fault of its kind, never an exception out of the link; the link backs off and reconnects."""

from __future__ import annotations

import socket
import time

import pytest

from contracts.eip712 import key_for
from sim.hil.link import LinkError, ModbusLink
from sim.hil.meter import HilMeter
from sim.hil.simulator import DeviceSimulator
from sim.hil.table import DeviceTable
from tests.sim.hil.conftest import meter, relay, spec


def _read_energy(link, t_s):
    return link.read(t_s, link.spec.register("energy"))


def test_simulator_serves_and_link_reads_what_was_served(serve):
    sim = serve([meter(), relay()], time_factor=10.0)
    link = ModbusLink(spec(sim, meter()))
    values = [_read_energy(link, float(i)) for i in range(5)]
    served = [v for _, v in sim.devices["meter-a"].served_energy_wh]
    assert values == served[-5:]  # exactly the register values the device served, decoded
    assert values[0] >= 5000.0 and values == sorted(values)  # starts at energy_wh; an export register only grows
    power = link.read(5.0, link.spec.register("power"))  # float32, word-swapped
    assert 2000.0 - 1e-3 <= power <= 4000.0 + 1e-3
    assert link.report()["faults"] == {} and link.requests == 6
    link.close()


@pytest.mark.parametrize("kind,expected,options", [
    ("exception", "exception_reply", {"exception_code": 6}),
    ("garbage", "garbage", {}),
    ("drop", "timeout", {}),
    ("slow", "timeout", {"reply_delay_s": 0.5}),  # wall seconds, longer than the 0.2 s timeout
])
def test_each_fault_is_counted_by_kind_and_the_link_recovers(serve, kind, expected, options):
    sim = serve([meter()])
    link = ModbusLink(spec(sim, meter()))
    before = _read_energy(link, 0.0)
    sim.inject(kind, duration_s=60.0, **options)
    with pytest.raises(LinkError) as err:
        _read_energy(link, 1.0)
    assert err.value.kind == expected and link.faults[expected] == 1
    if expected == "exception_reply":
        assert link.ready(2.0) and not link.down  # the device answered: no backoff, connection kept
    else:
        assert not link.ready(1.5) and link.ready(2.0)  # backs off one poll, then doubles
        with pytest.raises(LinkError):
            _read_energy(link, 2.0)
        assert not link.ready(3.5) and link.ready(4.0)
    sim.active.clear()  # the fault is over
    assert _read_energy(link, 10.0) >= before
    assert link.reconnects == (0 if expected == "exception_reply" else 1)
    link.close()


def test_slow_reply_within_the_timeout_is_not_a_fault(serve):
    sim = serve([meter(timeout_s=2.0)])
    link = ModbusLink(spec(sim, meter(timeout_s=2.0)))
    sim.inject("slow", duration_s=60.0, reply_delay_s=0.05)
    _read_energy(link, 0.0)
    assert link.faults.total() == 0 and sim.stats["slow"] == 1
    link.close()


def test_server_restart_refuses_then_the_link_reconnects(serve):
    sim = serve([meter()], time_factor=1.0)
    link = ModbusLink(spec(sim, meter()))
    _read_energy(link, 0.0)
    sim.inject("restart", duration_s=0.3)
    with pytest.raises(LinkError) as err:
        _read_energy(link, 1.0)
    assert err.value.kind == "connection"
    for t in range(2, 200):  # bounded: the server is back after 0.3 s
        if link.ready(t):
            try:
                _read_energy(link, t)
                break
            except LinkError:
                pass
        time.sleep(0.01)
    assert not link.down and link.reconnects == 1 and link.connections == 2
    link.close()


def test_a_value_older_than_two_polls_is_never_good_and_a_missing_boundary_is_a_gap(serve):
    sim = serve([meter()])
    d = spec(sim, meter())
    m = HilMeter(d, key_for(0, "hil/test"), rated_kw=12.0, period_s=10, link=ModbusLink(d))
    m.poll(0.0)
    assert m.boundary(0, 0.0) is None and m.boundary_wh[0] >= 5000  # the base of period 0
    m.poll(1.0)
    sim.inject("drop", duration_s=60.0)
    for t in (2.0, 3.0, 4.0):  # 2: times out; 3 skipped (backoff); 4: times out again
        m.poll(t)
    assert m.fresh_wh(3.0) is not None  # the sample of t=1 is two polls old
    assert m.fresh_wh(3.5) is None and m.fresh_wh(4.0) is None
    assert m.boundary(1, 4.0) is None and m.gaps == [0]  # period 0 could not be closed: VEE estimates it
    assert m.polls == 5 and m.polls_ok == 2 and m.polls_skipped == 1
    m.link.close()


def test_everything_listens_on_loopback_only_and_stops(serve):
    sim = serve([meter(), relay(), meter(name="meter-b", unit_id=3, entity="meter/pv-only-01")])
    assert sim.listening() and all(host == "127.0.0.1" for host, _ in sim.listening())
    port = sim.ports["meter-a"]
    sim.stop()
    assert not sim.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    with pytest.raises(ValueError, match=r"devices\[0\]\.host: the simulator serves on and uses 127.0.0.1 only"):
        DeviceSimulator(DeviceTable.model_validate({"devices": [meter(host="0.0.0.0")]}))
