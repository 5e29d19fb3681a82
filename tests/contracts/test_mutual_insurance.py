"""MutualInsurance: claims pay the loss within the cover (capped at what is left of the sum insured), never
without an outage the oracle recorded, never twice; the parametric index is Etherisc's AYII formula to the
micro-euro; every guarded path reverts with its reason; an underfunded pool queues and never goes negative."""

from __future__ import annotations

from fractions import Fraction
from math import floor

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.insurance import MutualInsurance
from tests.contracts.insurance_setup import (
    COVER,
    PERIOD_S,
    PREMIUM,
    PRICE,
    SUM_INSURED,
    T0_S,
    THRESHOLD_BPS,
    make_insurance,
)


@pytest.fixture(params=["py-evm", "revm"])
def backend(request):
    return request.param


@pytest.fixture
def s(backend):
    return make_insurance(backend)


def _period(s, period, expected, measured, outage=(), collect=True):
    """Premiums of ``period`` (paid in advance, or during it), then after its end: the oracle's expected
    production, the meters' readings and the oracle's outage records."""
    if collect:
        s.ins.collect_premiums(period, sender=s.insurer)
    s.at_period_end(period)
    s.ins.post_expected(period, s.members, expected, b"\x11" * 32, sender=s.oracle)
    for i, wh in enumerate(measured):
        assert s.measured(i, period, wh) == []
    for i in outage:
        s.ins.report_outage(period, s.members[i], 0, sender=s.oracle)


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


def test_claim_above_the_loss_reverts(s):
    _period(s, 0, [10_000] * 3, [1_000, 10_000, 10_000], outage=[0])
    with pytest.raises(ChainRevert, match="insurance: claim above the loss"):
        s.ins.claim(0, 9_001, sender=s.members[0])
    assert _paid(s.ins.claim(0, 9_000, sender=s.members[0]))["amount_ueur"] == 9_000 * PRICE // 1000


def test_payout_is_capped_at_what_is_left_of_the_sum_insured(s):
    """Issue 20 (c): the README and the pricing (E[min(L, sum insured)]) say payouts are capped at what is left
    of the sum insured. At the boundary: exactly what is left is paid in full, one Wh more pays what is left and
    logs the rest as ``beyond_cover_ueur``, and a member with nothing left gets 0 (the claim is still recorded).
    Before: the contract reverted ("payout above sum insured") and the member got nothing for the period."""
    assert PRICE // 1000 == 100  # ueur per Wh
    _period(s, 0, [40_000] * 3, [10_000, 10_000, 10_000], outage=[0, 1, 2])
    for m in s.members[:2]:  # 19 990 Wh = 1 999 000 ueur: 1 000 ueur of the sum insured left
        assert _paid(s.ins.claim(0, 19_990, sender=m))["beyond_cover_ueur"] == 0
        assert s.ins.remaining_cover_ueur(m) == 1_000
    big = SUM_INSURED * 1000 // PRICE + 1  # one Wh more than the whole sum insured
    a = _paid(s.ins.claim(0, big, sender=s.members[2]))
    assert (a["amount_ueur"], a["beyond_cover_ueur"]) == (SUM_INSURED, 100)
    assert a["paid_ueur"] + a["queued_ueur"] == SUM_INSURED
    _period(s, 1, [30_000] * 3, [10_000, 10_000, 10_000], outage=[0, 1, 2])
    exact = _paid(s.ins.claim(1, 10, sender=s.members[0]))  # 10 Wh = 1 000 ueur = exactly what is left
    assert (exact["amount_ueur"], exact["beyond_cover_ueur"]) == (1_000, 0)
    over = _paid(s.ins.claim(1, 11, sender=s.members[1]))  # 11 Wh = 1 100 ueur: 100 beyond the cover
    assert (over["amount_ueur"], over["beyond_cover_ueur"]) == (1_000, 100)
    none = _paid(s.ins.claim(1, 1, sender=s.members[2]))  # nothing left: 0 due, 100 beyond
    assert (none["amount_ueur"], none["paid_ueur"], none["queued_ueur"], none["beyond_cover_ueur"]) == (0, 0, 0, 100)
    for m in s.members:
        assert s.ins.remaining_cover_ueur(m) == 0
        assert s.ins.call("paid_out_ueur", m) + s.ins.call("owed_ueur", m) == SUM_INSURED
    with pytest.raises(ChainRevert, match="insurance: period already claimed"):
        s.ins.claim(1, 1, sender=s.members[2])


def test_parametric_payout_is_capped_at_what_is_left(backend):
    s = make_insurance(backend, parametric=True)
    for p in range(4):  # 4 full covers of 500 000 = the sum insured
        _period(s, p, [10_000] * 3, [0, 10_000, 10_000], outage=[0])
        assert _paid(s.ins.claim(p, 0, sender=s.members[0]))["amount_ueur"] == COVER
    _period(s, 4, [10_000] * 3, [0, 10_000, 10_000], outage=[0])
    a = _paid(s.ins.claim(4, 0, sender=s.members[0]))
    assert (a["amount_ueur"], a["beyond_cover_ueur"]) == (0, COVER) and s.ins.remaining_cover_ueur(s.members[0]) == 0


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
    a = _paid(s.ins.claim(0, 0, sender=s.members[0]))
    assert a["amount_ueur"] == COVER * (8000 - 5500) // (8000 - 3000)  # ratio 0.55 between exit and trigger
    assert _paid(s.ins.claim(0, 0, sender=s.members[1]))["amount_ueur"] == COVER  # at or below the exit ratio
    with pytest.raises(ChainRevert, match="insurance: shortfall below threshold"):
        s.ins.claim(0, 0, sender=s.members[2])


def ayii_ueur(cover: int, measured: int, expected: int, trigger_bps: int = 8000, exit_bps: int = 3000) -> int:
    """The parametric payout of Etherisc's AYII (Area Yield Index Insurance) product, exactly: with the ratio
    r = measured / expected (AYII: this season's yield aaay / the historical yield aph), nothing at or above the
    trigger, the whole cover at or below the exit, cover x (trigger - r) / (trigger - exit) between them, here
    in exact rationals and floored once to whole ueur (the contract's unit)."""
    r, trig, ex = Fraction(measured, expected), Fraction(trigger_bps, 10_000), Fraction(exit_bps, 10_000)
    if r >= trig:
        return 0
    return cover if r <= ex else floor(cover * (trig - r) / (trig - ex))


def test_parametric_payout_is_the_ayii_formula_to_the_micro_euro(backend):
    """Issue 20 (a). Etherisc's AYII product (etherisc/gif-contracts, contracts/examples/AyiiProduct.sol,
    ``calculatePayoutPercentage``) pays nothing when ``aaay * PERCENTAGE_MULTIPLIER >= aph * trigger``, the
    whole ``tsi`` when ``aaay * PERCENTAGE_MULTIPLIER <= aph * exit`` and ``tsi * (trigger - harvestRatio) /
    (trigger - exit)`` between them, with the ratio at 2**24 resolution; the README's formula is
    ``cover x (trigger - ratio) / (trigger - exit)``. The contract used to floor the ratio to whole bps first,
    which pays up to cover / (trigger - exit in bps) = cover / 5000 too much just below a bps step; it now
    multiplies before dividing and floors once, and must equal the exact formula floored to the ueur at the
    exit, just above it, midway, just below the trigger and at the trigger (expected 30 001 Wh: no ratio is a
    whole number of bps)."""
    s = make_insurance(backend, n=6, parametric=True)
    expected = [30_000, 30_001, 30_001, 30_001, 30_001, 30_000]
    measured = [9_000,  # exactly at the exit ratio 0.30: the whole cover
                9_001,  # just above the exit (r = 0.300023): the bps floor paid the whole cover
                16_500,  # midway (r = 0.549982): the bps floor paid 250 100, the formula 250 018
                23_999,  # just below the trigger (r = 0.799940): the bps floor paid 100, the formula 59
                24_000,  # r = 0.799973 (bps floor: 100, formula: 26)
                24_000]  # exactly at the trigger ratio 0.80: nothing (the threshold refuses it as well)
    s.ins.collect_premiums(0, sender=s.insurer)
    s.at_period_end(0)
    s.ins.post_expected(0, s.members, expected, b"\x11" * 32, sender=s.oracle)
    for i, wh in enumerate(measured):
        assert s.measured(i, 0, wh) == []
        s.ins.report_outage(0, s.members[i], 0, sender=s.oracle)
    paid = []
    for i, (e, m) in enumerate(zip(expected, measured)):
        want = ayii_ueur(COVER, m, e)
        if m * 10_000 >= e * (10_000 - THRESHOLD_BPS):  # the claim gate: shortfall at or below 20 %
            assert want == 0
            with pytest.raises(ChainRevert, match="insurance: shortfall below threshold"):
                s.ins.claim(0, 0, sender=s.members[i])
            paid.append(0)
            continue
        got = _paid(s.ins.claim(0, 0, sender=s.members[i]))["amount_ueur"]
        assert got == want, (m, e, got, want)
        paid.append(got)
    assert paid == [COVER, 499_976, 250_018, 59, 26, 0]


def test_parametric_threshold_that_refuses_index_payouts_is_refused_at_deployment(backend):
    """Issue 20 (b): a threshold of 30 % with a trigger of 80 % would refuse a ratio of 0.75, which the index
    pays: the constructor refuses threshold + trigger > 100 % (parametric only), 100 % exactly is accepted."""
    s = make_insurance(backend)
    args = dict(insurer=s.insurer, token=s.token.address, oracle=s.oracle, t0_s=T0_S, period_s=PERIOD_S,
                price_ueur_per_kwh=PRICE, parametric=True, trigger_bps=8000, exit_bps=3000)
    with pytest.raises(ChainRevert, match=r"insurance: threshold refuses ratios the index pays"):
        MutualInsurance.deploy(s.chain, threshold_bps=3000, **args)
    with pytest.raises(ChainRevert, match=r"insurance: threshold refuses ratios the index pays"):
        MutualInsurance.deploy(s.chain, threshold_bps=2001, **args)
    MutualInsurance.deploy(s.chain, threshold_bps=2000, **args)
    MutualInsurance.deploy(s.chain, threshold_bps=3000, **(args | {"parametric": False}))  # indemnity: no index


def test_outage_is_recorded_by_the_oracle_not_the_member(s):
    """Issue 21: an outage used to be the member's own word for any period; now only the oracle records it."""
    _period(s, 0, [10_000] * 3, [0, 10_000, 10_000])
    for who in (s.members[0], s.insurer, s.bank):
        with pytest.raises(ChainRevert, match="insurance: caller is not the oracle"):
            s.ins.report_outage(0, s.members[0], 0, sender=who)
    with pytest.raises(ChainRevert, match="insurance: no outage recorded"):
        s.ins.claim(0, 10_000, sender=s.members[0])
    s.ins.report_outage(0, s.members[0], 0, sender=s.oracle)
    assert _paid(s.ins.claim(0, 10_000, sender=s.members[0]))["amount_ueur"] == 10_000 * PRICE // 1000
