"""FlexDelays: every state-changing function from every role that must not call it, and every argument and
signed field at its bounds, refused with its reason (tests/contracts/bounds.py); the maxima themselves accepted."""

from __future__ import annotations

import pytest
from eth_keys import keys
from hypothesis import given

from contracts.eip712 import sign_delay
from contracts.flex import OutletSpec
from tests.contracts.bounds import (
    BACKENDS,
    FAST,
    HUGE,
    ZERO,
    Refusal,
    World,
    above,
    beyond,
    cases,
    refused,
    roles,
    row_tests,
)
from tests.contracts.flex_fixtures import OUTLETS, TOKENS_PER_KWH, make_flex

MAX_W, MAX_START, MAX_DAY_MIN = 10**9, 2**32, 1440
NOT_OPERATOR = "flex: caller is not the operator"
EVENT = (600, 120)  # event 0: minutes 600-720
NEXT = (1000, 60)  # event 1: minutes 1000-1060, not over
TOKENS = 2000 * TOKENS_PER_KWH  # customer 1's balance: outlet 2 shifted 2000 Wh in event 0


@pytest.fixture(scope="module", params=BACKENDS)
def world(request) -> World:
    """Three outlets, event 0 (minutes 600-720) with outlet 2's delay reported, event 1 (1000-1060) opened; chain
    time minute 800. Roles: operator, customer (customer 1, holding TOKENS), other (customer 0, no tokens),
    stranger."""
    f = make_flex(request.param)
    e = f.event(*EVENT)
    f.at_minute(800)
    assert f.report(f.delay(2, e, 620, 60, 2000)) == []
    f.flex.create_event(*NEXT, 1000, sender=f.operator)
    return World(f.chain, {"flex": f.flex.contract},
                 {"operator": f.operator, "customer": f.customers[1], "other": f.customers[0], "stranger": f.stranger},
                 {"f": f})


def _spec(w, **x):
    d = dict(outlet=w.roles["stranger"], customer=w.roles["stranger"], appliance=1, max_w=100, per_event=10,
             per_day=10, no_delay=0) | x
    return ([tuple(d.values())],)


def _event(w, **x):
    return tuple((dict(start=900, duration=30, requested=1000) | x).values())


def _delay(w, i=1, key=None, **x):
    """Outlet ``i``'s (default 1: rated 110 W, 30 min per event) delay in event 0, ``x`` replacing fields."""
    f = w.ctx["f"]
    d = dict(event_id=0, start_min=600, delay_min=10, shifted_wh=10, appliance=OUTLETS[i][1]) | x
    signed = sign_delay(key or f.outlet_keys[i], f.flex.domain_separator, d["event_id"], d["start_min"],
                        d["delay_min"], d["shifted_wh"], d["appliance"])
    if key is not None:  # claims outlet i, signed by another key
        signed = type(signed)(f.outlet_keys[i].public_key.to_checksum_address(), *signed.as_tuple()[1:])
    return ([signed.as_tuple()],)


def _each(fn, label, values, build, reason, role):
    return cases("flex", fn, label, values, build, reason, role)


ROWS = [
    # ERC-20: a balance to move, a receiver, within the allowance
    *_each("transfer", "receiver", [ZERO], lambda w, x: (x, 1), "flex: transfer to the zero address", "customer"),
    *_each("transfer", "amount", beyond(TOKENS), lambda w, x: (w.roles["other"], x), "flex: insufficient balance",
           "customer"),
    *_each("transfer", "amount-of-none", [1, *HUGE], lambda w, x: (w.roles["customer"], x),
           "flex: insufficient balance", "other"),
    *_each("approve", "spender", [ZERO], lambda w, x: (x, 1), "flex: approve to the zero address", "customer"),
    *_each("transferFrom", "receiver", [ZERO], lambda w, x: (w.roles["customer"], x, 1),
           "flex: transfer to the zero address", "stranger"),
    *_each("transferFrom", "amount", [1, *HUGE], lambda w, x: (w.roles["customer"], w.roles["other"], x),
           "flex: allowance exceeded", "stranger"),
    # register_outlets: the operator's; addresses, rated power 1..10**9 W, limits within a day, a 24-bit mask
    *roles("flex", "register_outlets", _spec, ["customer", "stranger"], NOT_OPERATOR),
    *_each("register_outlets", "outlet", [ZERO], lambda w, x: _spec(w, outlet=x), "flex: zero address", "operator"),
    *_each("register_outlets", "customer", [ZERO], lambda w, x: _spec(w, customer=x), "flex: zero address",
           "operator"),
    *_each("register_outlets", "max_w", [0, *beyond(MAX_W)], lambda w, x: _spec(w, max_w=x),
           "flex: rated power out of range", "operator"),
    *_each("register_outlets", "per_event", beyond(10), lambda w, x: _spec(w, per_event=x),
           "flex: event limit above daily limit", "operator"),
    *_each("register_outlets", "per_day", beyond(MAX_DAY_MIN), lambda w, x: _spec(w, per_day=x),
           "flex: daily limit above a day", "operator"),
    *_each("register_outlets", "no_delay", beyond(2**24 - 1), lambda w, x: _spec(w, no_delay=x),
           "flex: no-delay mask beyond 24 hours", "operator"),
    *_each("register_outlets", "again", ["outlet"],
           lambda w, x: _spec(w, outlet=w.ctx["f"].outlet_keys[0].public_key.to_checksum_address()),
           "flex: outlet already registered", "operator"),
    # create_event: the operator's; start < 2**32, not past, not overlapping; 1..1440 min; 1..10**9 W
    *roles("flex", "create_event", _event, ["customer", "stranger"], NOT_OPERATOR),
    *_each("create_event", "start", beyond(MAX_START - 1), lambda w, x: _event(w, start=x),
           "flex: start beyond 2**32 minutes", "operator"),
    *_each("create_event", "start", [0, 799], lambda w, x: _event(w, start=x), "flex: DR event starts in the past",
           "operator"),
    *_each("create_event", "duration", [0, *beyond(MAX_DAY_MIN)], lambda w, x: _event(w, duration=x),
           "flex: duration out of range", "operator"),
    *_each("create_event", "requested", [0], lambda w, x: _event(w, requested=x), "flex: nothing requested",
           "operator"),
    *_each("create_event", "requested", beyond(MAX_W), lambda w, x: _event(w, requested=x),
           "flex: request above 10**9 W", "operator"),
    *_each("create_event", "start", [900, 1000, 1059], lambda w, x: _event(w, start=x),
           "flex: DR event starts before the previous one ends", "operator"),
    # report_delays: anyone posts (the outlet's signature is the authority); every signed field bounded
    *_each("report_delays", "event_id", [2, *HUGE], lambda w, x: _delay(w, event_id=x), "flex: no such DR event",
           "stranger"),
    *_each("report_delays", "again", [2], lambda w, x: _delay(w, i=x, start_min=620, delay_min=60, shifted_wh=2000),
           "flex: delay already reported", "stranger"),
    *_each("report_delays", "appliance", [0, 255], lambda w, x: _delay(w, appliance=x), "flex: wrong appliance",
           "stranger"),
    *_each("report_delays", "delay_min", [0], lambda w, x: _delay(w, delay_min=x), "flex: delay must be positive",
           "stranger"),
    *_each("report_delays", "delay_min", beyond(EVENT[1]), lambda w, x: _delay(w, delay_min=x),
           "flex: delay outside the DR event", "stranger"),
    *_each("report_delays", "start_min", [0, 599, 711, *HUGE], lambda w, x: _delay(w, start_min=x),
           "flex: delay outside the DR event", "stranger"),
    *_each("report_delays", "delay_min", [31], lambda w, x: _delay(w, delay_min=x),
           "flex: delay exceeds the per-event limit", "stranger"),
    *_each("report_delays", "shifted_wh", beyond(110 * 10 // 60), lambda w, x: _delay(w, shifted_wh=x),
           "flex: shifted energy above rated power", "stranger"),
    *_each("report_delays", "not-over", [NEXT[0]], lambda w, x: _delay(w, event_id=1, start_min=x),
           "flex: delay not over", "stranger"),
    *_each("report_delays", "signature", ["forged"], lambda w, x: _delay(w, key=keys.PrivateKey(b"\x42" * 32)),
           "flex: bad signature", "stranger"),
]


test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "FlexDelays")


@FAST
@given(start=above(0), shifted=above(110 * 10 // 60))
def test_any_signed_start_or_energy_beyond_the_event_or_rating_is_refused(world, start, shifted):
    if start >= 600 and start <= 710:
        start += 111  # inside the event: pushed beyond it
    refused(world, Refusal("start", "flex", "report_delays", lambda w: _delay(w, start_min=start), "stranger",
                           "flex: delay outside the DR event"))
    refused(world, Refusal("energy", "flex", "report_delays", lambda w: _delay(w, shifted_wh=shifted), "stranger",
                           "flex: shifted energy above rated power"))


def test_the_maxima_are_accepted(backend):
    f = make_flex(backend)
    f.flex.register_outlets([OutletSpec(f.stranger, f.stranger, 255, MAX_W, MAX_DAY_MIN, MAX_DAY_MIN, 2**24 - 1)],
                            sender=f.operator)
    f.at_minute(100)
    assert f.flex.create_event(100, MAX_DAY_MIN, MAX_W, sender=f.operator) == 0
    assert f.flex.create_event(100 + MAX_DAY_MIN, 1, 1, sender=f.operator) == 1  # right after: no overlap
    f.at_minute(MAX_START - 10)
    assert f.flex.create_event(MAX_START - 1, 1, 1, sender=f.operator) == 2
    # outlet 2 (2100 W, 90 min per event): its whole per-event limit at its rated power
    assert f.report(f.delay(2, 0, 100, 90, 2100 * 90 // 60)) == []
    assert f.flex.counters(f.customers[1])["shifted_wh"] == 2100 * 90 // 60
