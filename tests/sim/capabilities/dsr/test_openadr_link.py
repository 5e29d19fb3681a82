"""The VTN and the VEN (openleadr) over HTTP on 127.0.0.1: events reach the VEN and its opts reach the VTN,
reports reach the VTN whole, every message crosses the wire (counted by openleadr's own VEN hooks), waits are
bounded, and closing frees the port and ends the thread."""

from __future__ import annotations

import socket
import threading

import pytest

from sim.capabilities.dsr.openadr_events import Delay, DrEvent
from sim.capabilities.dsr.openadr_link import OpenAdrLink

T0_S = 1736776800
OUTLETS = ["h0/refrigerator", "h1/ev_charger", "h2/dishwasher"]


def _threads() -> int:
    return sum(t.name == "gridledger-openadr" for t in threading.enumerate())


def _link(take_part=lambda ev: OUTLETS if ev.event_id % 2 == 0 else [], **kw) -> OpenAdrLink:
    return OpenAdrLink(t0_s=T0_S, outlets=OUTLETS, take_part=take_part, ven_name=kw.pop("ven_name", "test-ven"),
                       timeout_s=kw.pop("timeout_s", 20.0), poll_s=kw.pop("poll_s", 10.0))


@pytest.fixture(scope="module")
def link():
    lk = _link()
    wire: list[str] = []
    lk.ven.client.add_hook("after_receive_xml", wire.append)  # what the VEN received over HTTP from the VTN
    lk.wire = wire
    yield lk
    lk.close()


def test_events_reach_the_ven_and_its_opts_reach_the_vtn(link):
    events = [DrEvent(0, 61, 60, 12345), DrEvent(1, 130, 30, 800), DrEvent(2, 200, 45, 1)]
    answers = [link.publish(ev) for ev in events]
    assert answers == [("optIn", OUTLETS), ("optOut", []), ("optIn", OUTLETS)]
    assert link.vtn.opts == {"flexdelays-0": "optIn", "flexdelays-1": "optOut", "flexdelays-2": "optIn"}
    assert [link.ven.received[ev.event_id][0] for ev in events] == events  # as the VEN read them off the wire
    distributed = [x for x in link.wire if "oadrDistributeEvent" in x]
    assert len(distributed) == 3 and all(f"<ei:eventID>flexdelays-{i}</ei:eventID>" in x
                                         for i, x in enumerate(distributed))


def test_reports_reach_the_vtn_whole(link):
    first = [Delay("h0/refrigerator", 61, 30, 41), Delay("h1/ev_charger", 62, 45, 8250)]
    second = [Delay("h0/refrigerator", 200, 3, 4)]
    link.report(first)
    link.report([])  # nothing to send: no message
    link.report(second)
    assert link.delays_received() == sorted(first + second)


def test_the_vtn_listens_on_loopback_only(link):
    assert link.vtn.url.startswith("http://127.0.0.1:") and link.vtn.port > 0
    assert link.vtn.server.app_runner.addresses[0][0] == "127.0.0.1"


def test_a_ven_the_vtn_refuses_fails_the_start_and_leaves_no_thread(monkeypatch):
    import sim.capabilities.dsr.openadr_link as link_module
    from sim.capabilities.dsr.openadr_vtn import OperatorVtn

    class StrictVtn(OperatorVtn):
        def _register(self, payload):
            return False  # the VTN refuses every registration (oadrCreatedPartyRegistration without a venID)

    monkeypatch.setattr(link_module, "OperatorVtn", StrictVtn)
    before = _threads()
    with pytest.raises(RuntimeError, match="the VEN was not registered by the VTN at http://127.0.0.1:"):
        _link()
    assert _threads() == before


def test_a_failing_opt_rule_is_answered_opt_out_and_fails_the_publish():
    lk = _link(take_part=lambda ev: [][ev.event_id])
    try:
        with pytest.raises(RuntimeError, match=r"the VEN failed on DR event 0 \(it answered optOut\): IndexError"):
            lk.publish(DrEvent(0, 61, 60, 1000))
        assert lk.vtn.opts == {"flexdelays-0": "optOut"}  # the VTN was not left waiting
    finally:
        lk.close()


def test_a_vtn_that_never_answers_is_waited_for_at_most_timeout_s():
    lk = _link(timeout_s=1.0)
    try:
        lk.vtn.server.add_handler("on_created_event", lambda ven_id, event_id, opt_type: None)  # opts are lost
        with pytest.raises(TimeoutError, match=r"DR event 0: the VEN's optIn/optOut at the VTN: no result within 1 s"):
            lk.publish(DrEvent(0, 61, 60, 1000))
    finally:
        lk.close()


def test_close_frees_the_port_and_ends_the_thread():
    before = _threads()
    lk = _link()
    assert _threads() == before + 1
    port = lk.vtn.port
    lk.publish(DrEvent(0, 61, 60, 1000))
    lk.close()
    lk.close()  # idempotent
    assert _threads() == before
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", port))
