"""VppSettlement: each guarded path reverts with its reason; settlement conserves money."""

from __future__ import annotations

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.eip712 import reading_digest, sign_reading
from tests.contracts.conftest import MAX_WH, PENALTY, PRICE, TOL_BPS, make_vpp
from tests.contracts.typed_data import eth_account_digest


def _sign(v, i, period, wh, quality=0, key=None, domain=None):
    return sign_reading(key or v.meter_keys[i], domain or v.vpp.domain_separator, period, wh, quality)


def _submit(v, readings):
    return v.vpp.submit_readings(readings, sender=v.operator)


def test_digest_matches_eth_account_typed_data(v):
    meter = v.meter_keys[0].public_key.to_checksum_address()
    expected = eth_account_digest("Reading", "address meter,uint256 period,uint256 energy_wh,uint8 quality",
                                  {"meter": meter, "period": 7, "energy_wh": 1234, "quality": 0},
                                  chain_id=v.chain.chain_id, contract=v.vpp.address)
    assert reading_digest(v.vpp.domain_separator, meter, 7, 1234, 0) == expected
    assert v.vpp.call("DOMAIN_SEPARATOR") == v.vpp.domain_separator


def test_settlement_pays_revenue_and_penalties_by_share(v):
    v.vpp.declare(0, [4000, 4000, 1000], sender=v.operator)
    v.at_period_end(0)
    delivered = [4000, 1000, 950]  # member 1 short by 3000 - 400 tolerance = 2600 Wh
    assert _submit(v, [_sign(v, i, 0, wh) for i, wh in enumerate(delivered)]) == []
    before = [v.token.balance_of(m) for m in v.members]
    receipt = v.vpp.settle(0, sender=v.operator)
    revenue = sum(delivered) * PRICE // 1000
    penalty = (3000 - 4000 * TOL_BPS // 10_000) * PENALTY // 1000
    paid = {e.args["member"]: e.args["amount_ueur"] for e in receipt.events if e.event == "Payout"}
    settled = next(e for e in receipt.events if e.event == "PeriodSettled").args
    assert settled["revenue_ueur"] == revenue and settled["penalties_ueur"] == penalty
    assert sum(paid.values()) == revenue + penalty == settled["paid_ueur"]
    for m, share, b in zip(v.members, v.shares, before):
        assert abs(paid[m] - (revenue + penalty) * share / 10_000) <= 1
        assert v.token.balance_of(m) - b == paid[m]
    assert v.vpp.collateral_ueur(v.members[1]) == 5_000_000 - penalty
    # the contract holds exactly the remaining collateral
    assert v.token.balance_of(v.vpp.address) == sum(v.vpp.collateral_ueur(m) for m in v.members)


def test_forged_signature_reverts(v):
    v.vpp.declare(0, [1, 1, 1], sender=v.operator)
    v.at_period_end(0)
    forged = _sign(v, 0, 0, 500, key=keys.PrivateKey(b"\x07" * 32))
    meter0 = v.meter_keys[0].public_key.to_checksum_address()
    forged = type(forged)(meter0, *forged.as_tuple()[1:])  # claims to be meter 0, signed by another key
    with pytest.raises(ChainRevert, match="vpp: bad signature"):
        v.vpp._tx("submit_readings", [forged.as_tuple()], sender=v.operator)
    refused = _submit(v, [forged])
    assert [r.reason for r in refused] == ["vpp: bad signature"]


def test_tampered_value_reverts(v):
    v.at_period_end(0)
    good = _sign(v, 0, 0, 500)
    tampered = type(good)(good.meter, good.period, 5000, *good.as_tuple()[3:])
    assert [r.reason for r in _submit(v, [tampered])] == ["vpp: bad signature"]


def test_replayed_reading_reverts(v):
    v.at_period_end(0)
    r = _sign(v, 0, 0, 500)
    assert _submit(v, [r]) == []
    with pytest.raises(ChainRevert, match="vpp: reading already recorded"):
        v.vpp._tx("submit_readings", [r.as_tuple()], sender=v.operator)
    assert v.vpp.call("readings_accepted") == 1


def test_reading_for_another_contract_or_chain_reverts(v):
    from contracts.eip712 import domain_separator

    v.at_period_end(0)
    wrong_chain = _sign(v, 0, 0, 500, domain=domain_separator(v.chain.chain_id + 1, v.vpp.address))
    wrong_contract = _sign(v, 1, 0, 500, domain=domain_separator(v.chain.chain_id, v.token.address))
    refused = _submit(v, [wrong_chain, wrong_contract])
    assert [r.reason for r in refused] == ["vpp: bad signature"] * 2


def test_unregistered_meter_reverts(v):
    v.at_period_end(0)
    stranger = _sign(v, 0, 0, 500, key=keys.PrivateKey(b"\x09" * 32))
    assert [r.reason for r in _submit(v, [stranger])] == ["vpp: unregistered meter"]


def test_high_s_signature_reverts(v):
    v.at_period_end(0)
    r = _sign(v, 0, 0, 500)
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = (order - int.from_bytes(r.s, "big")).to_bytes(32, "big")
    malleable = type(r)(r.meter, r.period, r.energy_wh, r.quality, 55 - r.v, r.r, high_s)
    assert [x.reason for x in _submit(v, [malleable])] == ["vpp: high-s signature"]


def test_out_of_range_and_early_readings_revert(v):
    v.at_period_end(0)
    assert [x.reason for x in _submit(v, [_sign(v, 0, 0, MAX_WH + 1)])] == ["vpp: reading out of range"]
    assert [x.reason for x in _submit(v, [_sign(v, 0, 1, 10)])] == ["vpp: period not over"]


def test_good_readings_land_when_a_batch_holds_a_bad_one(v):
    v.at_period_end(0)
    good = [_sign(v, i, 0, 100 * (i + 1)) for i in range(3)]
    bad = _sign(v, 0, 0, 999)  # second reading for meter 0, period 0 -> replay after the first lands
    refused = _submit(v, [good[0], bad, good[1], good[2]])
    assert [r.reason for r in refused] == ["vpp: reading already recorded"]
    assert [v.vpp.delivered_wh(0, m) for m in v.members] == [100, 200, 300]


def test_late_declaration_reverts(v):
    v.at_period_end(0, offset_s=0)  # period 1 starts now
    with pytest.raises(ChainRevert, match="vpp: late declaration"):
        v.vpp.declare(1, [1, 1, 1], sender=v.operator)
    v.vpp.declare(2, [1, 1, 1], sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: period already declared"):
        v.vpp.declare(2, [1, 1, 1], sender=v.operator)


def test_declaration_only_by_operator(v):
    with pytest.raises(ChainRevert, match="vpp: caller is not the operator"):
        v.vpp.declare(3, [1, 1, 1], sender=v.members[0])


def test_shares_not_summing_to_10000_revert(backend):
    v = make_vpp(shares=(5000, 3000, 1999), seal=False, backend=backend)
    with pytest.raises(ChainRevert, match="vpp: shares must sum to 10000 bps"):
        v.vpp.seal(sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: membership not sealed"):
        v.vpp.declare(5, [1, 1, 1], sender=v.operator)


def test_settle_needs_every_reading_and_happens_once(v):
    v.at_period_end(0)
    _submit(v, [_sign(v, i, 0, 10) for i in range(2)])
    with pytest.raises(ChainRevert, match="vpp: readings missing"):
        v.vpp.settle(0, sender=v.operator)
    _submit(v, [_sign(v, 2, 0, 10)])
    v.vpp.settle(0, sender=v.operator)
    with pytest.raises(ChainRevert, match="vpp: period already settled"):
        v.vpp.settle(0, sender=v.operator)


def test_published_price_settles_the_period_and_must_be_early(v):
    with pytest.raises(ChainRevert, match="vpp: caller is not the buyer"):
        v.vpp.publish_price(1, 2 * PRICE, sender=v.operator)
    v.vpp.publish_price(1, 2 * PRICE, sender=v.buyer)
    with pytest.raises(ChainRevert, match="vpp: price already published"):
        v.vpp.publish_price(1, 3 * PRICE, sender=v.buyer)
    assert v.vpp.price_of(1) == 2 * PRICE and v.vpp.price_of(0) == PRICE
    v.at_period_end(0, offset_s=0)  # period 1 starts now
    with pytest.raises(ChainRevert, match="vpp: late price"):
        v.vpp.publish_price(1 + 0, PRICE, sender=v.buyer)
    v.at_period_end(1)
    _submit(v, [_sign(v, i, 1, 1000) for i in range(3)])
    settled = next(e for e in v.vpp.settle(1, sender=v.operator).events if e.event == "PeriodSettled").args
    assert settled["price_ueur_per_kwh"] == 2 * PRICE
    assert settled["revenue_ueur"] == 3000 * 2 * PRICE // 1000


def test_price_read_from_the_chain_log_agrees_with_the_contract(v):
    from contracts.vpp import VppSettlement

    other = VppSettlement(v.chain, v.vpp.contract)  # a second reader: it sent none of the prices
    assert [other.price_of(p) for p in range(4)] == [PRICE] * 4
    v.vpp.publish_price(2, 3 * PRICE + 1, sender=v.buyer)
    other.publish_price(3, 5, sender=v.buyer)
    for reader in (v.vpp, other):
        assert [reader.price_of(p) for p in range(5)] == [reader.call("price_of", p) for p in range(5)] \
            == [PRICE, PRICE, 3 * PRICE + 1, 5, PRICE]


def test_price_read_after_a_revert_to_a_snapshot():
    v = make_vpp()
    snap = v.chain.snapshot()
    v.vpp.publish_price(2, 7 * PRICE, sender=v.buyer)
    assert v.vpp.price_of(2) == 7 * PRICE
    v.chain.revert(snap)
    assert v.vpp.price_of(2) == v.vpp.call("price_of", 2) == PRICE
    v.vpp.publish_price(2, 9 * PRICE, sender=v.buyer)
    assert v.vpp.price_of(2) == v.vpp.call("price_of", 2) == 9 * PRICE


def test_the_web3_reference_path_reads_prices_by_call(monkeypatch):
    v = make_vpp(backend="web3")
    v.vpp.publish_price(2, 3 * PRICE, sender=v.buyer)
    calls = []
    real_call = type(v.chain).call
    monkeypatch.setattr(type(v.chain), "call", lambda self, c, fn, *a: calls.append(fn) or real_call(self, c, fn, *a))
    assert [v.vpp.price_of(p) for p in range(4)] == [PRICE, PRICE, 3 * PRICE, PRICE]
    assert calls.count("price_of") == 4  # as a plain web3 client reads them (benchmarks/year_vpp.py's reference)


def test_a_revert_on_the_web3_reference_path_raises_with_the_reason():
    v = make_vpp(backend="web3")
    with pytest.raises(ChainRevert, match="vpp: caller is not the buyer"):
        v.vpp.publish_price(1, 2 * PRICE, sender=v.operator)
