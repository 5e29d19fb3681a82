"""VppSettlement day settlement: commit_declarations (one root per day) + settle_day (one signed ReadingBatch per
meter over the day) settle exactly as declare + submit_reading_batches + settle of each period, and refuse
replayed days, forged batches, declarations that differ from the commitment, missing and unregistered meters."""

from __future__ import annotations

import dataclasses
import random

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.eip712 import key_for, sign_reading_batch
from contracts.vpp import DAY_GAS, day_batch_tuple, pack_declarations
from tests.contracts.conftest import MAX_WH, make_vpp

SHARES = (2500, 1700, 1300, 1200, 1111, 1089, 1100)  # uneven: every period leaves rounding dust
N_PERIODS = 24
PRICES = {3: 150_000, 7: 80_001, 18: 333_333}  # published ueur/kWh; the others pay the default


def _day(seed: int = 3):
    """Declarations (periods x members) and deliveries (members x periods) [Wh] with shortfalls, a member
    delivering nothing (its penalties exhaust its collateral), estimated values and full-range readings."""
    rng = random.Random(seed)
    n = len(SHARES)
    declared = [[rng.randrange(0, MAX_WH + 1) for _ in range(n)] for _ in range(N_PERIODS)]
    delivered = [[min(MAX_WH, max(0, declared[p][i] + rng.randrange(-4000, 2000))) for p in range(N_PERIODS)]
                 for i in range(n)]
    delivered[1] = [0] * N_PERIODS
    delivered[2][5] = MAX_WH
    quality = [[1 if (i + p) % 11 == 0 else 0 for p in range(N_PERIODS)] for i in range(n)]
    return declared, delivered, quality


def _batches(v, delivered, quality, first=0):
    return [sign_reading_batch(v.meter_keys[i], v.vpp.domain_separator, first, delivered[i], quality[i],
                               meter=v.meter_keys[i].public_key.to_checksum_address())
            for i in range(len(v.members))]


def _publish(v):
    for p, price in PRICES.items():
        v.vpp.publish_price(p, price, sender=v.buyer)


def _committed(backend):
    """A fresh VPP whose day 0 is committed and over, with the signed batches ready."""
    v = make_vpp(shares=SHARES, backend=backend)
    declared, delivered, quality = _day()
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    _publish(v)
    v.at_period_end(N_PERIODS - 1)
    return v, declared, _batches(v, delivered, quality)


def _period_settled(v):
    return [(e.args["period"], e.args["price_ueur_per_kwh"], e.args["declared_wh"], e.args["delivered_wh"],
             e.args["revenue_ueur"], e.args["penalties_ueur"], e.args["paid_ueur"])
            for e in v.chain.events if e.event == "PeriodSettled"]


def _state(v):
    return ([v.token.balance_of(m) for m in v.members], [v.vpp.collateral_ueur(m) for m in v.members],
            v.token.balance_of(v.buyer), v.token.balance_of(v.vpp.address),
            [v.vpp.call(f) for f in ("total_revenue_ueur", "total_penalties_ueur", "total_paid_ueur",
                                     "readings_accepted")])


def test_day_settles_as_the_periods_do(backend):
    declared, delivered, quality = _day()
    per = make_vpp(shares=SHARES, backend=backend)
    for p in range(N_PERIODS):
        per.vpp.declare(p, declared[p], sender=per.operator)
    _publish(per)
    per.at_period_end(N_PERIODS - 1)
    assert per.vpp.submit_reading_batches(_batches(per, delivered, quality), sender=per.operator) == []
    for p in range(N_PERIODS):
        per.vpp.settle(p, sender=per.operator)

    day, _, batches = _committed(backend)
    receipt = day.vpp.settle_day(0, declared, batches, sender=day.operator)

    expected = _period_settled(per)
    assert _period_settled(day) == expected
    assert sum(row[5] for row in expected) > 0 and any(row[1] != expected[0][1] for row in expected)
    assert _state(day) == _state(per)
    assert day.vpp.collateral_ueur(day.members[1]) == 0  # member 1 delivered nothing: collateral used up
    assert all(day.vpp.period_settled(p) for p in range(N_PERIODS)) and not day.vpp.period_settled(N_PERIODS)
    meters = [e for e in receipt.events if e.event == "MeterDaySettled"]
    assert [e.args["member"] for e in meters] == day.members
    assert [e.args["delivered_wh"] for e in meters] == [sum(d) for d in delivered]
    assert [e.args["n_estimated"] for e in meters] == [sum(q) for q in quality]
    pays = {e.args["member"]: 0 for e in per.chain.events if e.event == "Payout"}
    for e in per.chain.events:
        if e.event == "Payout":
            pays[e.args["member"]] += e.args["amount_ueur"]
    assert [e.args["payout_ueur"] for e in meters] == [pays[m] for m in per.members]
    penalties = {m: 0 for m in per.members}
    for e in per.chain.events:
        if e.event == "Penalty":
            penalties[e.args["member"]] += e.args["amount_ueur"]
    assert [e.args["penalty_ueur"] for e in meters] == [penalties[m] for m in per.members]
    # the buyer pays once; every member with a payout gets one Transfer from the VPP (one transfer_many call)
    transfers = [(e.args["sender"], e.args["receiver"], e.args["value"]) for e in receipt.events
                 if e.event == "Transfer"]
    assert transfers[0] == (day.buyer, day.vpp.address, sum(row[4] for row in expected))
    assert transfers[1:] == [(day.vpp.address, e.args["member"], e.args["payout_ueur"]) for e in meters
                             if e.args["payout_ueur"] > 0]
    assert len(transfers) > len(day.members) - 1


@pytest.mark.parametrize("n_periods, penalty, collateral", [
    (7, 300_000, 5_000_000),  # a day shorter than 24 periods: the unused lanes stay 0
    (N_PERIODS, 2**20 * 1000 - 1, 10**15),  # the largest penalty rate the lanes take, nothing capped
    (N_PERIODS, 2**20 * 1000 - 1, 10**9),  # every short member's collateral runs out on some period of the day
    (N_PERIODS, 300_000, 0),  # no collateral: shortfalls, no penalties
])
def test_short_day_and_large_rate_settle_as_the_periods_do(backend, n_periods, penalty, collateral):
    declared, delivered, quality = _day()
    declared = declared[:n_periods]
    delivered, quality = [d[:n_periods] for d in delivered], [q[:n_periods] for q in quality]
    paths = [make_vpp(shares=SHARES, backend=backend, penalty_ueur_per_kwh=penalty, collateral_ueur=collateral)
             for _ in range(2)]
    per, day = paths
    for p in range(n_periods):
        per.vpp.declare(p, declared[p], sender=per.operator)
    day.vpp.commit_declarations(0, declared, sender=day.operator)
    for v in paths:
        _publish(v)
        v.at_period_end(n_periods - 1)
    assert per.vpp.submit_reading_batches(_batches(per, delivered, quality), sender=per.operator) == []
    for p in range(n_periods):
        per.vpp.settle(p, sender=per.operator)
    day.vpp.settle_day(0, declared, _batches(day, delivered, quality), sender=day.operator)
    assert len(_period_settled(day)) == n_periods
    assert (sum(row[5] for row in _period_settled(day)) > 0) == (collateral > 0)
    assert _period_settled(day) == _period_settled(per)
    assert _state(day) == _state(per)
    if collateral == 10**9:  # capped: members short early in the day keep nothing
        assert sum(day.vpp.collateral_ueur(m) == 0 for m in day.members) >= 2


def test_a_penalty_rate_beyond_the_lanes_is_refused_at_deployment(backend):
    with pytest.raises(ChainRevert, match="penalty rate too high"):
        make_vpp(shares=SHARES, backend=backend, penalty_ueur_per_kwh=2**20 * 1000)


def test_values_beyond_the_day_are_refused(backend):
    """A batch's arrays are fixed at 24 words; beyond the committed periods they must be 0 (they are not signed)."""
    v = make_vpp(shares=SHARES, backend=backend)
    declared, delivered, quality = _day()
    declared, delivered, quality = declared[:5], [d[:5] for d in delivered], [q[:5] for q in quality]
    packed = bytearray(pack_declarations(declared))
    packed[96 * 3 + 40] = 1  # member 3, a period beyond the 5 committed
    with pytest.raises(ChainRevert, match="vpp: one declaration per member and period"):
        v.vpp._tx("commit_declarations", 0, 5, bytes(packed), sender=v.operator)
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    v.at_period_end(4)
    rows = [day_batch_tuple(b) for b in _batches(v, delivered, quality)]
    rows[2] = (*rows[2][:3], rows[2][3][:5] + [1] + [0] * 18, *rows[2][4:])
    with pytest.raises(ChainRevert, match="vpp: batch does not cover the day"):
        v.chain.transact(v.vpp.contract, "settle_day", 0, 5, pack_declarations(declared), rows, sender=v.operator,
                         gas=DAY_GAS)


def test_replayed_day_reverts(backend):
    v, declared, batches = _committed(backend)
    v.vpp.settle_day(0, declared, batches, sender=v.operator)
    balances = [v.token.balance_of(m) for m in v.members]
    with pytest.raises(ChainRevert, match="vpp: day already settled"):
        v.vpp.settle_day(0, declared, batches, sender=v.operator)
    assert [v.token.balance_of(m) for m in v.members] == balances


def test_forged_or_tampered_batch_reverts(backend):
    v, declared, batches = _committed(backend)
    good = batches[3]
    values = list(good.energy_wh)
    values[7] += 1
    forged = sign_reading_batch(keys.PrivateKey(b"\x07" * 32), v.vpp.domain_separator, 0, list(good.energy_wh),
                                list(good.quality), meter=good.meter)
    for bad in (dataclasses.replace(good, energy_wh=tuple(values)), forged):
        with pytest.raises(ChainRevert, match="vpp: bad signature"):
            v.vpp.settle_day(0, declared, batches[:3] + [bad] + batches[4:], sender=v.operator)
    v.vpp.settle_day(0, declared, batches, sender=v.operator)  # the genuine day still settles


def test_declarations_must_match_the_commitment(backend):
    v, declared, batches = _committed(backend)
    lowered = [row[:] for row in declared]
    lowered[4][2] = max(0, lowered[4][2] - 500)  # a smaller declaration would spare member 2 a penalty
    with pytest.raises(ChainRevert, match="vpp: declarations do not match the commitment"):
        v.vpp.settle_day(0, lowered, batches, sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: declarations do not match the commitment"):
        v.vpp.settle_day(0, declared[:-1], [dataclasses.replace(b, energy_wh=b.energy_wh[:-1]) for b in batches],
                         sender=v.operator)


def test_every_member_batch_is_required(backend):
    """A day settles only with every member's batch (a meter without data signs estimates, quality 1)."""
    v, declared, batches = _committed(backend)
    with pytest.raises(ChainRevert, match="vpp: one batch per member"):
        v.vpp.settle_day(0, declared, batches[:-1], sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: batches not in registration order"):
        v.vpp.settle_day(0, declared, batches[:2] + [batches[3], batches[2]] + batches[4:], sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: batches not in registration order"):
        v.vpp.settle_day(0, declared, batches[:2] + [batches[1]] + batches[3:], sender=v.operator)


def test_unregistered_meter_reverts(backend):
    v, declared, batches = _committed(backend)
    stranger = keys.PrivateKey(b"\x09" * 32)
    b = batches[0]
    alien = sign_reading_batch(stranger, v.vpp.domain_separator, 0, list(b.energy_wh), list(b.quality),
                               meter=stranger.public_key.to_checksum_address())
    with pytest.raises(ChainRevert, match="vpp: unregistered meter"):
        v.vpp.settle_day(0, declared, [alien] + batches[1:], sender=v.operator)


def test_values_are_checked_and_committed_periods_stay_out_of_the_period_path(backend):
    v = make_vpp(shares=SHARES, backend=backend)
    declared, delivered, quality = _day()
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: period already committed"):
        v.vpp.commit_declarations(12, declared, sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: period is committed for day settlement"):
        v.vpp.declare(5, declared[5], sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: period not over"):
        v.vpp.settle_day(0, declared, _batches(v, delivered, quality), sender=v.operator)
    v.at_period_end(N_PERIODS - 1)
    with pytest.raises(ChainRevert, match="vpp: period is committed for day settlement"):
        v.vpp._tx("submit_reading_batches", [_batches(v, delivered, quality)[0].as_tuple()], sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: late declaration"):
        v.vpp.commit_declarations(24, declared, sender=v.operator)
    too_much = [row[:] for row in delivered]
    too_much[4][9] = MAX_WH + 1
    with pytest.raises(ChainRevert, match="vpp: reading out of range"):
        v.vpp.settle_day(0, declared, _batches(v, too_much, quality), sender=v.operator)
    bad_flag = [row[:] for row in quality]
    bad_flag[0][0] = 2
    with pytest.raises(ChainRevert, match="vpp: unknown quality flag"):
        v.vpp.settle_day(0, declared, _batches(v, delivered, bad_flag), sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: batch does not cover the day"):
        v.vpp.settle_day(0, declared, _batches(v, [d[:-1] for d in delivered], [q[:-1] for q in quality]),
                         sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: caller is not the operator"):
        v.vpp.settle_day(0, declared, _batches(v, delivered, quality), sender=v.buyer)


def _vpp_with_a_wide_meter(backend, max_wh):
    """A sealed VPP of three members, the last one's meter registered with range ``max_wh`` [Wh]; day 0 committed
    (every declaration 1 000 Wh) and over."""
    v = make_vpp(shares=(5000, 3000), seal=False, backend=backend)
    member, key = v.chain.new_account(key_for(0, "member-wide")), key_for(0, "meter-wide")
    v.vpp.register_member(member, key.public_key.to_checksum_address(), 2000, max_wh, sender=v.operator)
    v.vpp.seal(sender=v.operator)
    v.members.append(member)
    v.meter_keys.append(key)
    declared = [[1000] * 3 for _ in range(N_PERIODS)]
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    v.at_period_end(N_PERIODS - 1)
    return v, declared


@pytest.mark.parametrize("max_wh", [2**32 - 1, 2**40])
def test_a_meter_range_beyond_the_lanes_is_capped_at_2_32_in_settle_day(backend, max_wh):
    v, declared = _vpp_with_a_wide_meter(backend, max_wh)
    assert v.vpp.call("max_wh_per_period", v.meter_keys[2].public_key.to_checksum_address()) == max_wh
    delivered = [[1000] * N_PERIODS, [1000] * N_PERIODS, [1000] * N_PERIODS]
    delivered[2][7] = 2**32
    with pytest.raises(ChainRevert, match="vpp: reading out of range"):
        v.vpp.settle_day(0, declared, _batches(v, delivered, [[0] * N_PERIODS] * 3), sender=v.operator)
    delivered[2][7] = 2**32 - 1
    receipt = v.vpp.settle_day(0, declared, _batches(v, delivered, [[0] * N_PERIODS] * 3), sender=v.operator)
    days = [e.args for e in receipt.events if e.event == "MeterDaySettled"]
    assert [d["member"] for d in days] == v.members
    assert days[2]["delivered_wh"] == 23 * 1000 + 2**32 - 1


def test_a_day_pool_beyond_2_96_ueur_cannot_be_priced(backend):
    """A day's pool stays below 2**96 ueur (it packs beside an address): the price that would lift it there is
    refused when published (prices below 2**20 x 1000 ueur/kWh, ranges below 2**32 Wh in settle_day: a day's
    revenue < 2**76 ueur; penalties likewise)."""
    v = make_vpp(shares=SHARES, backend=backend)
    declared = [[1000] * len(SHARES) for _ in range(N_PERIODS)]
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    price = 2**96 * 1000 // (1000 * len(SHARES)) + 1  # period 0's revenue would just reach 2**96 ueur
    with pytest.raises(ChainRevert, match="vpp: price above the maximum"):
        v.vpp.publish_price(0, price, sender=v.buyer)
    assert v.vpp.price_of(0) == v.vpp.default_price_ueur_per_kwh()
