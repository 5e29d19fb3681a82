"""Micro-DSR through OpenADR 2.0b end to end (scenarios/micro_dsr_openadr.toml, shortened to the evening peak):
each DR event the grid operator opens on chain goes VTN -> VEN over loopback HTTP, the outlets act on it, the VEN
reports the delays back, and the VTN's reports equal the chain's delay log (FlexDelays ``DelayLogged``, rebuilt from
the ledger by the audit). The run settles identically to the same run without OpenADR — also when the VEN lets
only some outlets take part, and when it opts out."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from sim.capabilities.dsr.audit import rebuild
from sim.capabilities.dsr.cli import run_line
from sim.capabilities.dsr.openadr_events import Delay, DrEvent
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
EVENING = {"run.start": dt.datetime(2025, 1, 13, 15, 0), "run.duration_s": 10_800}
EARLY_EVENING = {"run.start": dt.datetime(2025, 1, 13, 15, 0), "run.duration_s": 7_200}  # the first event only


@pytest.fixture(scope="module")
def scenario():
    return load_scenario(ROOT / "scenarios" / "micro_dsr_openadr.toml").with_overrides(EVENING)


@pytest.fixture(scope="module")
def with_openadr(scenario):
    return run_scenario(scenario)


@pytest.fixture(scope="module")
def without(scenario):
    return run_scenario(scenario.with_overrides({"dsr.openadr": None}))


def _settles_identically(a, b) -> None:
    pd.testing.assert_frame_equal(a.ledger, b.ledger)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert {k: v for k, v in a.summary["dsr"].items() if k != "openadr"} == b.summary["dsr"]
    assert "openadr" not in b.summary["dsr"]


def test_events_go_vtn_to_ven_delays_happen_and_the_reports_equal_the_chains_delay_log(with_openadr):
    cap = with_openadr.twin.capability("dsr")
    rb = rebuild(with_openadr.ledger)
    on_chain = [DrEvent(int(r.event_id), int(r.start_min), int(r.duration_min), int(r.requested_w))
                for r in rb.events.itertuples()]
    assert len(on_chain) >= 2
    assert cap.openadr.vtn.published == on_chain  # every event the operator opened went out through the VTN ...
    assert [cap.openadr.ven.received[e.event_id][0] for e in on_chain] == on_chain  # ... and reached the VEN
    assert cap.openadr.vtn.opts == {f"flexdelays-{e.event_id}": "optIn" for e in on_chain}
    names = {o.address: o.name for o in cap.outlets}
    logged = sorted(Delay(names[r.outlet], int(r.start_min), int(r.delay_min), int(r.shifted_wh))
                    for r in rb.delays.itertuples())
    assert len(logged) > 50
    assert cap.openadr.delays_received() == logged  # the VTN's reports, delay by delay
    s = with_openadr.summary["dsr"]["openadr"]
    assert s["reports_match_chain"] and s["delays_reported"] == s["delays_logged"] == len(logged)
    assert s["delay_min_reported"] == with_openadr.summary["dsr"]["delay_min"]
    assert s["events_published"] == s["opt_in"] == len(on_chain)
    assert "delays reported, equal to the chain's delay log" in run_line(with_openadr.summary["dsr"], "x")


def test_the_run_settles_identically_without_openadr(with_openadr, without):
    assert without.summary["dsr"]["delays"] > 0
    _settles_identically(with_openadr, without)


def _pair(scenario, no_delay_hours):
    groups = [g.model_dump() for g in scenario.dsr.outlets]
    for g in groups:
        g["no_delay_hours"] = no_delay_hours(g["appliance"])
    s = scenario.with_overrides({**EARLY_EVENING, "dsr.outlets": groups})
    return run_scenario(s), run_scenario(s.with_overrides({"dsr.openadr": None}))


def test_outlets_the_ven_keeps_out_hold_nothing_and_the_run_still_settles_identically(scenario):
    a, b = _pair(scenario, lambda kind: [[15, 19]] if kind in ("ev_charger", "water_heater") else [])
    cap = a.twin.capability("dsr")
    (event,) = cap.oadr_events
    kept_out = [o for o in cap.outlets if o.appliance in ("ev_charger", "water_heater")]
    assert event["opt"] == "optIn" and event["outlets_taking_part"] == len(cap.outlets) - len(kept_out)
    assert not any(o.state.used_min_by_day or o.state.done_events for o in kept_out)  # never held
    assert a.summary["dsr"]["delays"] > 0 and a.summary["dsr"]["openadr"]["reports_match_chain"]
    _settles_identically(a, b)


def test_an_event_no_outlet_may_take_part_in_is_opted_out_and_the_run_still_settles_identically(scenario):
    a, b = _pair(scenario, lambda kind: [[15, 19]])
    s = a.summary["dsr"]["openadr"]
    assert s["events_published"] == s["opt_out"] == 1 and s["opt_in"] == 0
    assert a.summary["dsr"]["delays"] == 0 and s["delays_reported"] == 0
    _settles_identically(a, b)


def test_without_respond_the_ven_opts_out(scenario):
    r = run_scenario(scenario.with_overrides({**EARLY_EVENING, "dsr.respond": False}))
    s = r.summary["dsr"]["openadr"]
    assert s["events_published"] == s["opt_out"] >= 1 and r.summary["dsr"]["delays"] == 0


def test_a_run_that_fails_midway_leaves_no_openadr_thread_or_port(scenario, monkeypatch):
    import socket
    import threading

    from sim.capabilities.dsr.openadr_link import OpenAdrLink

    def threads() -> int:
        return sum(t.name == "gridledger-openadr" for t in threading.enumerate())

    ports = []

    def failing_report(self, delays):
        ports.append(self.vtn.port)
        raise RuntimeError("the line to the VTN broke")

    before = threads()
    monkeypatch.setattr(OpenAdrLink, "report", failing_report)
    with pytest.raises(RuntimeError, match="the line to the VTN broke"):
        run_scenario(scenario.with_overrides(EARLY_EVENING))
    assert threads() == before  # the Twin closed the capability (Capability.close) although the run failed
    with socket.socket() as s, pytest.raises(ConnectionRefusedError):
        s.connect(("127.0.0.1", ports[0]))
