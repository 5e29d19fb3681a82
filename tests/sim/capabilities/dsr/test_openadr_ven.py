"""The VEN's opt-in rule against the outlet's own limit check (``Outlet.within_limits``, which FlexDelays checks
again on chain): an outlet may take part in a DR event exactly when, once its current delay is released, it could
hold at least one minute of the event."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from agents.dsr.outlet import Limits
from sim.capabilities.dsr.openadr_events import DrEvent
from sim.capabilities.dsr.openadr_ven import may_take_part
from tests.agents.dsr.test_outlet import DOMAIN, _outlet


def _could_hold_a_minute(outlet, ev: DrEvent) -> bool:
    """The reference: release the outlet's current delay as the dispatch would at the event's first minute, then
    ask the outlet whether it could hold any minute of the event."""
    o = _outlet(outlet.limits, day_offset_min=outlet.day_offset_min)
    o.state = copy.deepcopy(outlet.state)
    o.release(DOMAIN)
    return any(o.within_limits(k, ev.event_id, ev.end_min) for k in range(ev.start_min, ev.end_min))


@settings(max_examples=120, deadline=None)
@given(per_event=st.integers(1, 90), per_day=st.integers(1, 240), offset=st.integers(0, 1439),
       windows=st.lists(st.tuples(st.integers(0, 23), st.integers(1, 24)), max_size=2),
       past=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 120)), max_size=6),
       still_holding=st.booleans(), gap=st.integers(0, 600), duration=st.integers(1, 240))
def test_the_rule_is_exactly_the_outlets_own_limits(per_event, per_day, offset, windows, past, still_holding, gap,
                                                   duration):
    per_event = min(per_event, per_day)
    hours = tuple((a, b) for a, b in ((min(w), max(w)) for w in windows) if a < b)
    o = _outlet(Limits(per_event, per_day, hours), day_offset_min=offset)
    k = 0
    for event_id, (wait, length) in enumerate(past):  # earlier events, each held as long as the limits allow
        start = k + wait
        for m in range(start, start + length):
            if o.can_hold(m, event_id, start + length):
                o.hold(m, event_id, start + length)
            elif o.holding:
                o.release(DOMAIN)
        k = start + length
        if o.holding and not (still_holding and event_id == len(past) - 1):
            o.release(DOMAIN)
    ev = DrEvent(len(past), k + (0 if o.holding else gap), duration, 1000)  # the next event: right after a hold
    assert may_take_part(o, ev) == _could_hold_a_minute(o, ev)


def test_no_delay_hours_over_the_whole_event_keep_the_outlet_out():
    o = _outlet(Limits(30, 120, ((17, 20),)))  # local midnight at minute 0
    assert not may_take_part(o, DrEvent(0, 17 * 60, 60, 1000))
    assert may_take_part(o, DrEvent(0, 17 * 60 - 1, 60, 1000))  # 16:59 is allowed


def test_a_spent_day_keeps_the_outlet_out_until_the_next_local_day():
    o = _outlet(Limits(60, 60), day_offset_min=600)  # minute 0 is 10:00 local
    for k in range(0, 60):
        o.hold(k, 0, 60)
    o.release(DOMAIN)
    assert not may_take_part(o, DrEvent(1, 100, 60, 1000))  # 11:40-12:40: the day's 60 min are spent
    assert may_take_part(o, DrEvent(1, 14 * 60 - 30, 60, 1000))  # 23:30-00:30: its second half is the next day


def test_a_hold_still_running_counts_on_its_day():
    o = _outlet(Limits(60, 60))
    for k in range(0, 59):
        o.hold(k, 0, 59)
    assert o.holding
    assert may_take_part(o, DrEvent(1, 59, 60, 1000))  # 59 min held: one left today
    o2 = _outlet(Limits(60, 60))
    for k in range(0, 60):
        o2.hold(k, 0, 60)
    assert not may_take_part(o2, DrEvent(1, 60, 60, 1000))  # 60 min held, released at the next event: none left
