"""MutualInsurance: claims pay the loss within the cover, never without an outage, never twice; every guarded
path reverts with its reason; an underfunded pool queues and never goes negative."""

from __future__ import annotations

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from tests.contracts.insurance_setup import (
    COVER,
    PREMIUM,
    PRICE,
    SUM_INSURED,
    make_insurance,
)


@pytest.fixture(params=["py-evm", "revm"])
def backend(request):
    return request.param


@pytest.fixture
def s(backend):
    return make_insurance(backend)


def _period(s, period, expected, measured, outage=(), collect=True):
    if collect:
        s.ins.collect_premiums(period, sender=s.insurer)
    s.ins.post_expected(period, s.members, expected, b"\x11" * 32, sender=s.oracle)
    s.at_period_end(period)
    for i, wh in enumerate(measured):
        assert s.measured(i, period, wh) == []
    for i in outage:
        s.ins.report_outage(period, 0, sender=s.members[i])


def _paid(receipt):
    return next(e.args for e in receipt.events if e.event == "ClaimPaid")


def test_indemnity_pays_the_loss_and_keeps_the_pool_exact(s):
    _period(s, 0, [10_000, 10_000, 10_000], [2_000, 9_500, 10_000], outage=[0])
    before = s.token.balance_of(s.members[0])
    paid = _paid(s.ins.claim(0, 8_000, sender=s.members[0]))
    assert paid["amount_ueur"] == 8_000 * PRICE // 1000 == paid["paid_ueur"] and paid["queued_ueur"] == 0
    assert s.token.balance_of(s.members[0]) - before == paid["amount_ueur"]
    assert s.ins.pool_ueur() == 3 * PREMIUM - paid["amount_ueur"] == s.token.balance_of(s.ins.address)
    assert s.ins.remaining_cover_ueur(s.members[0]) == SUM_INSURED - paid["amount_ueur"]


def test_claim_without_outage_reverts(s):
    _period(s, 0, [10_000] * 3, [0, 0, 0])
    with pytest.raises(ChainRevert, match="insurance: no outage recorded"):
        s.ins.claim(0, 1_000, sender=s.members[0])


def test_second_claim_for_the_same_period_reverts(s):
    _period(s, 0, [10_000] * 3, [0, 10_000, 10_000], outage=[0])
    s.ins.claim(0, 5_000, sender=s.members[0])
    with pytest.raises(ChainRevert, match="insurance: period already claimed"):
        s.ins.claim(0, 5_000, sender=s.members[0])


def test_claim_by_a_non_member_reverts(s):
    _period(s, 0, [10_000] * 3, [0, 10_000, 10_000], outage=[0])
    with pytest.raises(ChainRevert, match="insurance: not a member"):
        s.ins.claim(0, 5_000, sender=s.insurer)


def test_payout_above_the_cap_or_the_loss_reverts(s):
    big = SUM_INSURED * 1000 // PRICE + 1_000  # Wh worth more than the sum insured
    _period(s, 0, [2 * big, 10_000, 10_000], [0, 10_000, 10_000], outage=[0])
    with pytest.raises(ChainRevert, match="insurance: payout above sum insured"):
        s.ins.claim(0, big, sender=s.members[0])
    _period(s, 1, [10_000] * 3, [1_000, 10_000, 10_000], outage=[0])
    with pytest.raises(ChainRevert, match="insurance: claim above the loss"):
        s.ins.claim(1, 9_001, sender=s.members[0])


def test_weather_shortfall_is_not_a_loss(s):
    """A dark period lowers the expected production too: measured near expected opens no claim."""
    _period(s, 0, [1_200, 10_000, 10_000], [1_150, 10_000, 10_000], outage=[0])
    with pytest.raises(ChainRevert, match="insurance: shortfall below threshold"):
        s.ins.claim(0, 50, sender=s.members[0])


def test_forged_or_replayed_measurement_reverts(s):
    _period(s, 0, [10_000] * 3, [100, 100, 100])
    assert [why for _, why in s.measured(0, 0, 100)] == ["insurance: reading already recorded"]
    assert [why for _, why in s.measured(1, 1, 100, key=keys.PrivateKey(b"\x05" * 32))] == \
        ["insurance: unregistered meter"]


def test_underfunded_pool_queues_and_never_goes_negative(backend):
    s = make_insurance(backend)
    _period(s, 0, [20_000] * 3, [0, 0, 0], outage=[0, 1, 2])
    due = [_paid(s.ins.claim(0, 20_000, sender=m)) for m in s.members]  # 2 000 000 ueur each, pool 30 000
    assert sum(d["paid_ueur"] for d in due) == 3 * PREMIUM and s.ins.pool_ueur() == 0
    assert sum(d["queued_ueur"] for d in due) == 3 * 20_000 * PRICE // 1000 - 3 * PREMIUM
    receipt = s.ins.collect_premiums(1, sender=s.insurer)  # new premiums go to the queue first
    assert sum(e.args["amount_ueur"] for e in receipt.events if e.event == "QueuedPaid") == 3 * PREMIUM
    assert s.ins.pool_ueur() == 0 == s.token.balance_of(s.ins.address)


def test_parametric_payout_between_trigger_and_exit(backend):
    s = make_insurance(backend, parametric=True)
    _period(s, 0, [10_000] * 3, [5_500, 2_000, 9_000], outage=[0, 1, 2])
    s.ins.collect_premiums(7, sender=s.insurer)  # more money in the pool
    a = _paid(s.ins.claim(0, 0, sender=s.members[0]))
    assert a["amount_ueur"] == COVER * (8000 - 5500) // (8000 - 3000)  # ratio 0.55 between exit and trigger
    assert _paid(s.ins.claim(0, 0, sender=s.members[1]))["amount_ueur"] == COVER  # at or below the exit ratio
    with pytest.raises(ChainRevert, match="insurance: shortfall below threshold"):
        s.ins.claim(0, 0, sender=s.members[2])
