"""The OpenADR 2.0b mapping of DR events and delays: every message is written and read by openleadr's own
serialiser and parser and validated against the OpenADR 2.0b XML schema openleadr ships (the OpenADR Alliance's
``oadr_20b.xsd``); the round trip is exact, and a malformed event is refused naming its field."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openleadr import objects
from openleadr.messaging import create_message, parse_message, validate_xml_schema

from sim.capabilities.dsr.openadr_events import (
    Delay,
    DrEvent,
    delays_from_points,
    from_oadr,
    reconcile,
    report_points,
    to_oadr,
)

T0_S = 1736776800  # 2025-01-13T14:00:00Z (15:00 in Munich): the evening of micro_dsr.toml's tests


def _over_the_wire_event(ev: DrEvent, t0_s: int = T0_S) -> dict:
    """``ev`` as an oadrDistributeEvent from the VTN, schema-validated and parsed as openleadr's VEN does."""
    xml = create_message("oadrDistributeEvent", request_id="r1", vtn_id="VTN", events=[asdict(to_oadr(ev, t0_s, "v"))])
    validate_xml_schema(xml)  # raises on a message the OpenADR 2.0b schema refuses
    kind, payload = parse_message(xml)
    assert kind == "oadrDistributeEvent"
    return payload["events"][0]


def test_an_event_on_the_wire_has_the_published_start_duration_and_reduction():
    xml = create_message("oadrDistributeEvent", request_id="r1", vtn_id="VTN",
                         events=[asdict(to_oadr(DrEvent(3, 61, 60, 12345), T0_S, "v"))])
    # minute 61 of a run starting 14:00 UTC is 15:01 UTC; 60 min is RFC 5545's PT1H; 12 345 W is a -12.345 kW delta
    for part in ("<ei:eventID>flexdelays-3</ei:eventID>", "<date-time>2025-01-13T15:01:00.000000Z</date-time>",
                 "<duration>PT1H</duration>", "<ei:value>-12.345</ei:value>",
                 "<ei:signalName>LOAD_DISPATCH</ei:signalName>", "<ei:signalType>delta</ei:signalType>",
                 "<oadr:oadrResponseRequired>always</oadr:oadrResponseRequired>"):
        assert part in xml, part


@settings(max_examples=40, deadline=None)
@given(event_id=st.integers(0, 10**6), start_min=st.integers(0, 10**6), duration_min=st.integers(1, 1440),
       requested_w=st.integers(1, 10**9))
def test_events_round_trip_exactly_through_openleadr(event_id, start_min, duration_min, requested_w):
    ev = DrEvent(event_id, start_min, duration_min, requested_w)
    assert from_oadr(_over_the_wire_event(ev), T0_S) == ev


def _tampered(**change) -> dict:
    event = _over_the_wire_event(DrEvent(3, 61, 60, 12345))
    signal = event["event_signals"][0]
    interval = signal["intervals"][0]
    for key, value in change.items():
        target = {"event_id": event["event_descriptor"], "signal_name": signal, "signal_type": signal}.get(key, interval)
        target[key] = value
    return event


@pytest.mark.parametrize(("change", "problem"), [
    ({"event_id": "utility-17"}, r"event_id: expected 'flexdelays-<FlexDelays event id>'"),
    ({"signal_name": "SIMPLE"}, r"expected one LOAD_DISPATCH signal of type 'delta'"),
    ({"signal_type": "level"}, r"expected one LOAD_DISPATCH signal of type 'delta'"),
    ({"signal_payload": 2.0}, r"signal_payload: expected a reduction \(a negative delta in kW\), got 2.0"),
    ({"duration": timedelta(seconds=90)}, r"interval duration: expected whole minutes > 0"),
    ({"dtstart": datetime(2025, 1, 13, 15, 1, 30, tzinfo=UTC)}, r"dtstart: expected a whole minute of the run"),
])
def test_a_malformed_event_is_refused_naming_its_field(change, problem):
    with pytest.raises(ValueError, match=problem):
        from_oadr(_tampered(**change), T0_S)


def test_an_event_with_two_intervals_is_refused():
    event = _over_the_wire_event(DrEvent(3, 61, 60, 12345))
    event["event_signals"][0]["intervals"].append(dict(event["event_signals"][0]["intervals"][0]))
    with pytest.raises(ValueError, match="expected one interval, got 2"):
        from_oadr(event, T0_S)


def _over_the_wire_report(delays: list[Delay]) -> dict[str, list]:
    """``delays`` in an oadrUpdateReport, schema-validated and parsed as openleadr's VTN does; r_id -> values."""
    intervals = [objects.ReportInterval(dtstart=t, report_payload=objects.ReportPayload(r_id=rid, value=v))
                 for rid, points in report_points(delays, T0_S).items() for t, v in points]
    report = objects.Report(report_request_id="rr", report_specifier_id="spec", report_name="TELEMETRY_USAGE",
                            intervals=intervals, created_date_time=datetime(2026, 1, 1, tzinfo=UTC))
    xml = create_message("oadrUpdateReport", request_id="r2", ven_id="v", reports=[report])
    validate_xml_schema(xml)
    _, payload = parse_message(xml)
    points: dict[str, list] = {}
    for iv in payload["reports"][0]["intervals"]:
        points.setdefault(iv["report_payload"]["r_id"], []).append((iv["dtstart"], iv["report_payload"]["value"]))
    return points


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["h0/refrigerator", "h1/ev_charger", "h_2/dishwasher"]),
                          st.integers(0, 10**5), st.integers(1, 240), st.integers(0, 10**6)),
                min_size=1, max_size=20, unique_by=lambda t: (t[0], t[1])))
def test_delays_round_trip_exactly_through_a_report(rows):
    delays = [Delay(*r) for r in rows]
    assert delays_from_points(_over_the_wire_report(delays), T0_S) == sorted(delays)  # by outlet, then start


def test_a_report_missing_a_quantity_is_refused():
    points = _over_the_wire_report([Delay("h0/refrigerator", 5, 10, 20)])
    del points["h0/refrigerator:shifted_wh"]
    with pytest.raises(ValueError, match=r"outlet 'h0/refrigerator', delay starting at minute 5: missing \['shifted_wh'\]"):
        delays_from_points(points, T0_S)


def test_a_report_repeating_a_value_counts_it_once_and_a_conflicting_repeat_is_refused():
    points = _over_the_wire_report([Delay("h0/refrigerator", 5, 10, 20)])
    again = {rid: values * 2 for rid, values in points.items()}  # the VEN sent its report twice
    assert delays_from_points(again, T0_S) == [Delay("h0/refrigerator", 5, 10, 20)]
    (t, _), = points["h0/refrigerator:delay_min"]
    again["h0/refrigerator:delay_min"].append((t, 11))
    with pytest.raises(ValueError, match=r"report r_id 'h0/refrigerator:delay_min' at .*: reported twice with "
                                         r"different values \(10 and 11\)"):
        delays_from_points(again, T0_S)


def test_reconcile_names_the_delays_on_one_side_only():
    import pandas as pd

    logged = pd.DataFrame([{"outlet": "0xA", "start_min": 5, "delay_min": 10, "shifted_wh": 20},
                           {"outlet": "0xB", "start_min": 7, "delay_min": 3, "shifted_wh": 4}])
    names = {"0xA": "h0/refrigerator", "0xB": "h1/ev_charger"}
    same = [Delay("h0/refrigerator", 5, 10, 20), Delay("h1/ev_charger", 7, 3, 4)]
    assert reconcile(same, logged, names)["reports_match_chain"]
    off = reconcile([same[0], replace(same[1], delay_min=4)], logged, names)
    assert not off["reports_match_chain"]
    assert off["reported_not_logged"] == [{"outlet": "h1/ev_charger", "start_min": 7, "delay_min": 4, "shifted_wh": 4}]
    assert off["logged_not_reported"] == [{"outlet": "h1/ev_charger", "start_min": 7, "delay_min": 3, "shifted_wh": 4}]
    assert not reconcile(same + [same[0]], logged, names)["reports_match_chain"]  # a delay reported twice
