"""Outlets never break their customer's limits, whatever the DR events ask; their signed reports verify; the
grid operator's dispatch favours the customers with the fewest delay minutes."""

from __future__ import annotations

import mesa
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.dsr.grid_operator import (
    GridOperator,
    Thresholds,
    excess_fraction,
)
from agents.dsr.outlet import DeferrablePlug, Limits, Outlet
from contracts.eip712 import delay_digest, key_for
from grid_models.appliances import DeferrableFleet, Job
from grid_models.feeder import FlowResult

DOMAIN = b"\x11" * 32


class AlwaysOn:
    """An appliance that always asks for 1 kW and can always be held (so only the limits stop a hold)."""

    def requested_kw(self, k):
        return 1.0

    def holdable(self, k):
        return True

    def hold(self, k):
        return 1.0


def _outlet(limits: Limits, plug=None, day_offset_min: int = 0, name: str = "o", customer: str = "0xC0"):
    return Outlet(mesa.Model(), name=name, customer=customer, customer_index=0, household=0, appliance="ev_charger",
                  code=6, key=key_for(0, name), limits=limits, rated_w=1000, plug=plug or AlwaysOn(),
                  day_offset_min=day_offset_min)


@settings(max_examples=60, deadline=None)
@given(per_event=st.integers(1, 90), per_day=st.integers(1, 240), offset=st.integers(0, 1439),
       window=st.tuples(st.integers(0, 23), st.integers(1, 24)),
       events=st.lists(st.tuples(st.integers(0, 3000), st.integers(1, 200)), min_size=1, max_size=12))
def test_an_outlet_never_breaks_its_limits(per_event, per_day, offset, window, events):
    per_event = min(per_event, per_day)
    a, b = min(window), max(window[1], min(window) + 1)
    o = _outlet(Limits(per_event, per_day, ((a, b),)), day_offset_min=offset)
    reports = []
    for event_id, (start, dur) in enumerate(sorted(events)):
        for k in range(start, start + dur + 1):  # the operator asks every minute, and once after the end
            if o.holding and not o.can_hold(k, event_id, start + dur):
                reports.append((o.release(DOMAIN), start, dur))
            if o.can_hold(k, event_id, start + dur):
                o.hold(k, event_id, start + dur)
        if o.holding:
            reports.append((o.release(DOMAIN), start, dur))
    used: dict[int, int] = {}
    for r, start, dur in reports:
        local = offset + r.start_min
        assert r.delay_min <= per_event
        assert start <= r.start_min and r.start_min + r.delay_min <= start + dur
        assert all(not a <= (h % 24) < b for h in range(local // 60, (local + r.delay_min - 1) // 60 + 1))
        used[local // 1440] = used.get(local // 1440, 0) + r.delay_min
        assert r.shifted_wh == int(r.delay_min * 1000 / 60 + 1e-9)
    assert all(v <= per_day for v in used.values())
    assert len({r.event_id for r, _, _ in reports}) == len(reports)  # one delay per event


def test_a_report_is_signed_by_the_outlet_key():
    from eth_keys import keys

    o = _outlet(Limits(30, 60))
    for k in range(10, 15):
        o.hold(k, 0, 60)
    r = o.release(DOMAIN)
    digest = delay_digest(DOMAIN, o.address, 0, 10, 5, r.shifted_wh, 6)
    sig = keys.Signature(vrs=(r.v - 27, int.from_bytes(r.r, "big"), int.from_bytes(r.s, "big")))
    assert sig.recover_public_key_from_msg_hash(digest).to_checksum_address() == o.address
    assert o.unposted == [r]


def test_a_held_job_is_released_before_its_deadline_would_pass():
    fleet = DeferrableFleet(1, 100, [Job(0, 10, 25, np.full(10, 2.0), False)])
    o = _outlet(Limits(60, 120), plug=DeferrablePlug(fleet, 0))
    k = 10
    while o.can_hold(k, 0, 90):
        assert o.hold(k, 0, 90) == 2.0  # metered: what the job would have drawn then
        k += 1
    r = o.release(DOMAIN)
    assert r.delay_min == 5 and r.shifted_wh == 166  # 2 kW x 5 min = 166.7 Wh, whole Wh rounded down
    assert fleet.jobs[0].end == 25 == fleet.jobs[0].deadline



def test_a_minute_the_relay_did_not_confirm_is_taken_out_of_the_delay():
    o = _outlet(Limits(30, 60))
    for k in range(10, 14):
        o.hold(k, 0, 60)
    o.retract_last_minute()  # minute 13 was not read back off
    r = o.release(DOMAIN)
    assert (r.start_min, r.delay_min, r.shifted_wh) == (10, 3, 50)  # 1 kW x 3 min
    assert o.state.used_min_by_day == {0: 3} and not o.can_hold(14, 0, 60)  # no second delay in the event


def test_a_delay_with_no_confirmed_minute_is_not_reported_and_ends_the_outlets_part_in_the_event():
    o = _outlet(Limits(30, 60))
    o.hold(10, 0, 60)
    o.retract_last_minute()
    assert o.release(DOMAIN) is None and o.unposted == [] and o.state.used_min_by_day == {}
    assert not o.can_hold(11, 0, 60) and o.can_hold(11, 1, 60)
    try:
        o.retract_last_minute()
    except ValueError as exc:
        assert "no held minute" in str(exc)
    else:
        raise AssertionError("retracting with no hold must fail")

class FakeFlex:
    def __init__(self):
        self.created = []

    def create_event(self, start, duration, requested_w, *, sender):
        self.created.append((start, duration, requested_w))
        return len(self.created) - 1

    def call(self, fn, customer):
        return {"a": 0, "b": 500}[customer]


def _flow(loading, import_kw=100.0):
    return FlowResult(import_kw, import_kw, 0, 0, 0, 0.99, 1.0, loading, 10.0)


def test_the_operator_opens_an_event_when_a_limit_is_passed_and_holds_the_least_delayed_first():
    model = mesa.Model()
    flex = FakeFlex()
    op = GridOperator(model, account="0xop", flex=flex, thresholds=Thresholds(80.0, 100.0, 0.9), duration_min=30,
                      margin=0.0, customers=["a", "b"], rng=np.random.default_rng(0))
    assert op.observe(5, _flow(70.0), outlet_kw=0.0) is None
    assert abs(excess_fraction(_flow(100.0), op.thresholds) - 0.2) < 1e-12
    ev = op.observe(6, _flow(100.0), outlet_kw=60.0)
    assert (ev.event_id, ev.start_min, ev.end_min) == (0, 7, 37) and abs(ev.requested_kw - 20.0) < 1e-9
    assert flex.created == [(7, 30, 20_000)]
    op.refresh_counters()  # customer "b" has 500 delay minutes on chain, "a" none
    outlets = [_outlet(Limits(60, 120), name=f"{c}{i}", customer=c) for c in "ba" for i in range(3)]
    # need = (import 100 - outlets 60) + asked 6 x 10 - limit 80 = 20 kW: two outlets, both of customer "a"
    held = op.dispatch(7, outlets, np.full(6, 10.0), DOMAIN)
    assert held == 20.0
    assert sorted(o.name for o in outlets if o.holding) == ["a0", "a1"]
    # next minute the flow shows headroom: the holds are released (the most delayed customer first)
    op.observe(7, _flow(60.0), outlet_kw=40.0)
    assert op.dispatch(8, outlets, np.full(6, 10.0), DOMAIN) == 0.0
    assert not any(o.holding for o in outlets) and len([r for o in outlets for r in o.unposted]) == 2
