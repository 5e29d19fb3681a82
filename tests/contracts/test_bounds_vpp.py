"""VppSettlement: every state-changing function from every role that must not call it, and every argument and
signed field at its bounds, refused with its reason (tests/contracts/bounds.py); the maxima themselves accepted."""

from __future__ import annotations

import pytest
from eth_keys import keys
from hypothesis import given

from contracts.eip712 import key_for, sign_reading, sign_reading_batch
from contracts.vpp import VppSettlement, day_batch_tuple, pack_declarations
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
from tests.contracts.conftest import MAX_WH, PENALTY, PERIOD_S, PRICE, T0_S, TOL_BPS, make_vpp

N_PERIODS = 48
NOW = 30  # the world's chain time: inside period 30
COMMITTED = (40, 8)  # periods 40-47, committed (not over)
DECLARED, PRICED = 35, 36
MAX_RANGE, MAX_PRICE = 2**48, 2**20 * 1000 - 1
NOT_OPERATOR = "vpp: caller is not the operator"
FORGER = keys.PrivateKey(b"\x07" * 32)


@pytest.fixture(scope="module", params=BACKENDS)
def world(request) -> World:
    """The conftest VPP (3 members, sealed, collateral in) at period 30: period 0 read and settled, 35 declared,
    36 priced, 40-47 committed; ``open`` (one member, not sealed), ``empty``; ``day``: a second VPP whose periods
    0-23 are committed and over. Roles: operator, buyer, member (member 0), stranger."""
    v = make_vpp(backend=request.param)
    stranger = v.chain.new_account(key_for(0, "stranger"))
    deploy = dict(operator=v.operator, token=v.token.address, buyer=v.buyer, t0_s=T0_S, period_s=PERIOD_S,
                  n_periods=N_PERIODS, price_ueur_per_kwh=PRICE, penalty_ueur_per_kwh=PENALTY, tolerance_bps=TOL_BPS)
    open_, empty, day = (VppSettlement.deploy(v.chain, **deploy) for _ in range(3))
    open_.register_member(v.members[0], v.meter_keys[0].public_key.to_checksum_address(), 5000, MAX_WH,
                          sender=v.operator)
    day.register_members([(m, k.public_key.to_checksum_address(), s, MAX_WH)
                          for m, k, s in zip(v.members, v.meter_keys, v.shares)], sender=v.operator)
    day.seal(sender=v.operator)
    day.commit_declarations(0, [[100] * 3] * 24, sender=v.operator)
    v.chain.set_time(T0_S + NOW * PERIOD_S + 60)
    v.vpp.submit_readings([sign_reading(k, v.vpp.domain_separator, 0, 10, 0) for k in v.meter_keys],
                          sender=v.operator)
    v.vpp.settle(0, sender=v.operator)
    v.vpp.declare(DECLARED, [1, 1, 1], sender=v.operator)
    v.vpp.publish_price(PRICED, 1, sender=v.buyer)
    v.vpp.commit_declarations(COMMITTED[0], [[1] * 3] * COMMITTED[1], sender=v.operator)
    return World(v.chain, {"vpp": v.vpp.contract, "open": open_.contract, "empty": empty.contract,
                           "day": day.contract},
                 {"operator": v.operator, "buyer": v.buyer, "member": v.members[0], "stranger": stranger},
                 {"v": v, "day": day})


def _member(w, **x):
    return tuple((dict(member=w.roles["stranger"], meter=w.roles["stranger"], share=5000, max_wh=1) | x).values())


def _reading(w, i=0, key=None, **x):
    v = w.ctx["v"]
    r = dict(period=1, energy_wh=1, quality=0) | x
    return ([sign_reading(key or v.meter_keys[i], v.vpp.domain_separator, r["period"], r["energy_wh"],
                          r["quality"]).as_tuple()],)


def _batch(w, **x):
    v = w.ctx["v"]
    b = dict(first_period=1, energy_wh=[1, 1], quality=[0, 0]) | x
    return ([sign_reading_batch(v.meter_keys[0], v.vpp.domain_separator, b["first_period"], b["energy_wh"],
                                b["quality"]).as_tuple()],)


def _commit(w, first=31, n=4, at=None):
    """A commitment of periods ``first``.. (``n``), 1 Wh each, ``at`` = (period, member, Wh) replaced."""
    decl = [[1] * 3 for _ in range(n)]
    if at is not None:
        decl[at[0]][at[1]] = at[2]
    return (first, n, pack_declarations(decl))


def _padded(w, k):
    """A commitment of periods 31-34 whose packed rows hold a value in period ``k`` of the 24, beyond the day."""
    decl = [[1] * 3 for _ in range(4)] + [[0] * 3 for _ in range(20)]
    decl[k][1] = 5
    return (31, 4, pack_declarations(decl))


def _settle_day(w, first=0, n=24, declared=None, **batch):
    """The ``day`` contract's settlement of periods 0-23 (declared 100 Wh each), its batches from the members'
    meters (100 Wh each), ``batch`` changing member 0's: fields of the DayBatch tuple, or ``key``."""
    v, day = w.ctx["v"], w.ctx["day"]
    out = []
    for i, k in enumerate(v.meter_keys):
        energy, quality, key = [100] * 24, [0] * 24, k
        if i == 0:
            energy, quality, key = batch.get("energy_wh", energy), batch.get("quality", quality), batch.get("key", k)
        b = day_batch_tuple(sign_reading_batch(key, day.domain_separator, 0, energy, quality,
                                               meter=k.public_key.to_checksum_address()))
        if i == 0 and "fields" in batch:
            b = tuple(batch["fields"].get(j, f) for j, f in enumerate(b))
        out.append(b)
    if "n_batches" in batch:
        out = out[: batch["n_batches"]]
    return (first, n, declared or pack_declarations([[100] * 3] * 24), out)


def _each(contract, fn, label, values, build, reason, role):
    return cases(contract, fn, label, values, build, reason, role)


OUTSIDERS = ["buyer", "member", "stranger"]
M0 = 0  # DayBatch fields: 0 meter, 1 first_period, 2 n_values, 3 energy_wh, 4 quality, 5 v, 6 r, 7 s
ROWS = [
    # register_member: the operator's, before sealing; shares 1..10 000 bps, ranges <= 2**48 Wh
    *roles("open", "register_member", _member, OUTSIDERS, NOT_OPERATOR),
    Refusal("register_member-sealed", "vpp", "register_member", _member, "operator", "vpp: membership is sealed"),
    *_each("open", "register_member", "member", [ZERO], lambda w, x: _member(w, member=x), "vpp: zero address",
           "operator"),
    *_each("open", "register_member", "meter", [ZERO], lambda w, x: _member(w, meter=x), "vpp: zero address",
           "operator"),
    *_each("open", "register_member", "again", ["member"], lambda w, x: _member(w, member=w.roles[x]),
           "vpp: member already registered", "operator"),
    *_each("open", "register_member", "again", ["meter"],
           lambda w, x: _member(w, meter=w.ctx["v"].meter_keys[0].public_key.to_checksum_address()),
           "vpp: meter already registered", "operator"),
    *_each("open", "register_member", "share", [0, *beyond(10_000)], lambda w, x: _member(w, share=x),
           "vpp: share must be 1 to 10000 bps", "operator"),
    *_each("open", "register_member", "max_wh", beyond(MAX_RANGE), lambda w, x: _member(w, max_wh=x),
           "vpp: meter range above 2**48 Wh", "operator"),
    # seal
    *roles("open", "seal", lambda w: (), OUTSIDERS, NOT_OPERATOR),
    Refusal("seal-twice", "vpp", "seal", lambda w: (), "operator", "vpp: membership is sealed"),
    Refusal("seal-empty", "empty", "seal", lambda w: (), "operator", "vpp: no members"),
    Refusal("seal-shares", "open", "seal", lambda w: (), "operator", "vpp: shares must sum to 10000 bps"),
    # deposit_collateral: a member's, within its allowance (the token's reason)
    *roles("vpp", "deposit_collateral", lambda w: (1,), ["operator", "buyer", "stranger"],
           "vpp: caller is not a member"),
    *_each("vpp", "deposit_collateral", "amount", [1, *HUGE], lambda w, x: (x,), "token: allowance too low", "member"),
    # declare: the operator's; sealed; period in range, not started, once, not committed; one value per member,
    # each within its meter's range
    *roles("vpp", "declare", lambda w: (31, [1] * 3), OUTSIDERS, NOT_OPERATOR),
    Refusal("declare-unsealed", "open", "declare", lambda w: (31, [1]), "operator", "vpp: membership not sealed"),
    *_each("vpp", "declare", "period", beyond(N_PERIODS - 1), lambda w, x: (x, [1] * 3), "vpp: period out of range",
           "operator"),
    *_each("vpp", "declare", "period", [0, NOW], lambda w, x: (x, [1] * 3), "vpp: late declaration", "operator"),
    *_each("vpp", "declare", "period", [DECLARED], lambda w, x: (x, [1] * 3), "vpp: period already declared",
           "operator"),
    *_each("vpp", "declare", "period", [COMMITTED[0]], lambda w, x: (x, [1] * 3),
           "vpp: period is committed for day settlement", "operator"),
    *_each("vpp", "declare", "n", [0, 2, 4], lambda w, x: (31, [1] * x), "vpp: one declaration per member",
           "operator"),
    *_each("vpp", "declare", "energy_wh", beyond(MAX_WH), lambda w, x: (31, [1, 1, x]),
           "vpp: declaration above the meter's range", "operator"),
    # publish_price: the buyer's; period in range, not started, once; 0 < price < 2**20 x 1000
    *roles("vpp", "publish_price", lambda w: (31, 1), ["operator", "member", "stranger"],
           "vpp: caller is not the buyer"),
    *_each("vpp", "publish_price", "period", beyond(N_PERIODS - 1), lambda w, x: (x, 1), "vpp: period out of range",
           "buyer"),
    *_each("vpp", "publish_price", "period", [NOW], lambda w, x: (x, 1), "vpp: late price", "buyer"),
    *_each("vpp", "publish_price", "price", [0], lambda w, x: (31, x), "vpp: price must be positive", "buyer"),
    *_each("vpp", "publish_price", "price", beyond(MAX_PRICE), lambda w, x: (31, x), "vpp: price above the maximum",
           "buyer"),
    *_each("vpp", "publish_price", "period", [PRICED], lambda w, x: (x, 1), "vpp: price already published", "buyer"),
    # submit_readings / submit_reading_batches: anyone posts (the meter's signature is the authority)
    *_each("vpp", "submit_readings", "meter", ["stranger"], lambda w, x: _reading(w, key=FORGER),
           "vpp: unregistered meter", "stranger"),
    *_each("vpp", "submit_readings", "period", beyond(N_PERIODS - 1), lambda w, x: _reading(w, period=x),
           "vpp: period out of range", "stranger"),
    *_each("vpp", "submit_readings", "period", [NOW], lambda w, x: _reading(w, period=x), "vpp: period not over",
           "stranger"),
    *_each("vpp", "submit_readings", "period", [0], lambda w, x: _reading(w, period=x),
           "vpp: period already settled", "stranger"),
    *_each("vpp", "submit_readings", "quality", [2, 255], lambda w, x: _reading(w, quality=x),
           "vpp: unknown quality flag", "stranger"),
    *_each("vpp", "submit_readings", "energy_wh", beyond(MAX_WH), lambda w, x: _reading(w, energy_wh=x),
           "vpp: reading out of range", "stranger"),
    *_each("vpp", "submit_reading_batches", "quality", [[0], [0, 0, 0]],
           lambda w, x: ([(*_batch(w)[0][0][:3], x, *_batch(w)[0][0][4:])],), "vpp: one quality flag per value",
           "stranger"),
    *_each("vpp", "submit_reading_batches", "first_period", beyond(N_PERIODS - 1),
           lambda w, x: _batch(w, first_period=x), "vpp: period out of range", "stranger"),
    *_each("vpp", "submit_reading_batches", "energy_wh", beyond(MAX_WH), lambda w, x: _batch(w, energy_wh=[1, x]),
           "vpp: reading out of range", "stranger"),
    *_each("vpp", "submit_reading_batches", "quality", [2, 255], lambda w, x: _batch(w, quality=[0, x]),
           "vpp: unknown quality flag", "stranger"),
    # settle: the operator's; period in range, once, every reading in
    *roles("vpp", "settle", lambda w: (1,), OUTSIDERS, NOT_OPERATOR),
    *_each("vpp", "settle", "period", beyond(N_PERIODS - 1), lambda w, x: (x,), "vpp: period out of range",
           "operator"),
    *_each("vpp", "settle", "period", [0], lambda w, x: (x,), "vpp: period already settled", "operator"),
    *_each("vpp", "settle", "period", [1], lambda w, x: (x,), "vpp: readings missing", "operator"),
    # commit_declarations: the operator's; sealed; 1..24 periods in range, not started, not declared or committed;
    # one row per member, 0 beyond the day, each value within its meter's range
    *roles("vpp", "commit_declarations", _commit, OUTSIDERS, NOT_OPERATOR),
    Refusal("commit_declarations-unsealed", "open", "commit_declarations", lambda w: (31, 1, b"\0" * 96),
            "operator", "vpp: membership not sealed"),
    *_each("vpp", "commit_declarations", "n", [0, 25, *HUGE], lambda w, x: (31, x, b""),
           "vpp: 1 to 24 periods per day", "operator"),
    *_each("vpp", "commit_declarations", "first", [45, *beyond(N_PERIODS - 1)], lambda w, x: _commit(w, first=x),
           "vpp: period out of range", "operator"),
    *_each("vpp", "commit_declarations", "first", [NOW], lambda w, x: _commit(w, first=x), "vpp: late declaration",
           "operator"),
    *_each("vpp", "commit_declarations", "bytes", [0, 95, 97, 4 * 96], lambda w, x: (31, 4, b"\0" * x),
           "vpp: one declaration per member and period", "operator"),
    *_each("vpp", "commit_declarations", "beyond-day", [4, 23], _padded, "vpp: one declaration per member and period",
           "operator"),
    *_each("vpp", "commit_declarations", "energy_wh", beyond(MAX_WH, 2**32 - 1)[:2],
           lambda w, x: _commit(w, at=(3, 2, x)), "vpp: declaration above the meter's range", "operator"),
    *_each("vpp", "commit_declarations", "first", [DECLARED - 1], lambda w, x: _commit(w, first=x, n=2),
           "vpp: period already declared", "operator"),
    *_each("vpp", "commit_declarations", "first", [COMMITTED[0] - 2], lambda w, x: _commit(w, first=x, n=3),
           "vpp: period already committed", "operator"),
    # settle_day: the operator's; a committed day, its declarations as committed, over, once; one batch per member,
    # in order, each covering the day, signed, flags and values in range
    *roles("day", "settle_day", _settle_day, OUTSIDERS, NOT_OPERATOR),
    *_each("day", "settle_day", "first", [1, 24, *HUGE], lambda w, x: _settle_day(w, first=x),
           "vpp: day not committed", "operator"),
    *_each("day", "settle_day", "n", [0, 23, 25, *HUGE], lambda w, x: _settle_day(w, n=x),
           "vpp: declarations do not match the commitment", "operator"),
    *_each("day", "settle_day", "declared", [101], lambda w, x: _settle_day(w, declared=pack_declarations(
        [[x] * 3] * 24)), "vpp: declarations do not match the commitment", "operator"),
    Refusal("settle_day-not-over", "vpp", "settle_day", lambda w: (
        COMMITTED[0], COMMITTED[1], pack_declarations([[1] * 3] * COMMITTED[1]), []), "operator",
        "vpp: period not over"),
    *_each("day", "settle_day", "n_batches", [0, 2], lambda w, x: _settle_day(w, n_batches=x),
           "vpp: one batch per member", "operator"),
    *_each("day", "settle_day", "meter", [2**160, *HUGE, int(FORGER.public_key.to_checksum_address(), 16)],
           lambda w, x: _settle_day(w, fields={M0: x}), "vpp: unregistered meter", "operator"),
    *_each("day", "settle_day", "meter", ["member-1"], lambda w, x: _settle_day(
        w, fields={M0: int(w.ctx["v"].meter_keys[1].public_key.to_checksum_address(), 16)}),
        "vpp: batches not in registration order", "operator"),
    *_each("day", "settle_day", "first_period", [1, *HUGE], lambda w, x: _settle_day(w, fields={1: x}),
           "vpp: batch does not cover the day", "operator"),
    *_each("day", "settle_day", "n_values", [0, 23, 25, *HUGE], lambda w, x: _settle_day(w, fields={2: x}),
           "vpp: batch does not cover the day", "operator"),
    *_each("day", "settle_day", "v", [0, 29, *HUGE], lambda w, x: _settle_day(w, fields={5: x}),
           "vpp: high-s signature", "operator"),  # "high-s signature" is settle_day's reason for any refused form
    *_each("day", "settle_day", "signature", ["forged"], lambda w, x: _settle_day(w, key=FORGER),
           "vpp: bad signature", "operator"),
    *_each("day", "settle_day", "quality", [2, *HUGE], lambda w, x: _settle_day(w, quality=[0] * 23 + [x]),
           "vpp: unknown quality flag", "operator"),
    *_each("day", "settle_day", "energy_wh", beyond(MAX_WH, 2**32), lambda w, x: _settle_day(
        w, energy_wh=[100] * 23 + [x]), "vpp: reading out of range", "operator"),
]


test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "VppSettlement")


@FAST
@given(wh=above(MAX_WH), price=above(MAX_PRICE))
def test_any_declaration_above_the_range_or_price_above_the_maximum_is_refused(world, wh, price):
    refused(world, Refusal("declare", "vpp", "declare", lambda w: (31, [wh, 1, 1]), "operator",
                           "vpp: declaration above the meter's range"))
    refused(world, Refusal("commit", "vpp", "commit_declarations", lambda w: _commit(w, at=(0, 0, min(wh, 2**32 - 1))),
                           "operator", "vpp: declaration above the meter's range"))
    refused(world, Refusal("price", "vpp", "publish_price", lambda w: (31, price), "buyer",
                           "vpp: price above the maximum"))


def test_the_maxima_are_accepted(backend):
    v = make_vpp(backend=backend)
    fresh = VppSettlement.deploy(v.chain, operator=v.operator, token=v.token.address, buyer=v.buyer, t0_s=T0_S,
                                 period_s=PERIOD_S, n_periods=N_PERIODS, price_ueur_per_kwh=MAX_PRICE,
                                 penalty_ueur_per_kwh=PENALTY, tolerance_bps=TOL_BPS)
    fresh.register_member(v.members[0], v.members[0], 10_000, MAX_RANGE, sender=v.operator)
    fresh.seal(sender=v.operator)
    v.vpp.declare(0, [MAX_WH] * 3, sender=v.operator)
    v.vpp.publish_price(0, MAX_PRICE, sender=v.buyer)
    v.vpp.commit_declarations(1, [[MAX_WH] * 3] * 24, sender=v.operator)
    v.at_period_end(0)
    assert v.vpp.submit_readings([sign_reading(k, v.vpp.domain_separator, 0, MAX_WH, 0) for k in v.meter_keys],
                                 sender=v.operator) == []
    receipt = v.vpp.settle(0, sender=v.operator)
    settled = next(e.args for e in receipt.events if e.event == "PeriodSettled")
    assert settled["revenue_ueur"] == 3 * MAX_WH * MAX_PRICE // 1000 and settled["penalties_ueur"] == 0
