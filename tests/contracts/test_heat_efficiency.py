"""HeatEfficiency: degree-hours and tokens from signed heat readings, bonus pools paid pro rata, every attack
refused with its reason."""

from __future__ import annotations

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.eip712 import (
    HEAT_READING_TYPE,
    SignedHeatReading,
    domain_separator,
    heat_reading_digest,
)
from tests.contracts.conftest import (
    HEAT_MAX_WH,
    OPERATOR_FLOAT_UEUR,
    PERIOD_S,
    T0_S,
    make_heat,
)
from tests.contracts.typed_data import eth_account_digest


def _submit(h, readings):
    return h.heat.submit_readings(readings, sender=h.operator)


def _reasons(h, readings):
    return [r.reason for r in _submit(h, readings)]


def _events(receipt, name):
    return [e.args for e in receipt.events if e.event == name]


def test_heat_reading_digest_matches_eth_account_typed_data(h):
    r = h.sign(0, 3, 250, 75.5, 38.25)
    expected = eth_account_digest("HeatReading", HEAT_READING_TYPE.removeprefix("HeatReading(").removesuffix(")"),
                                  dict(zip(("meter", "consumer", "period", "heat_wh", "volume_ml", "vt_supply_mlmc",
                                            "vt_return_mlmc", "quality"), r.fields())),
                                  chain_id=h.chain.chain_id, contract=h.heat.address)
    assert heat_reading_digest(h.heat.domain_separator, *r.fields()) == expected
    assert h.heat.call("DOMAIN_SEPARATOR") == h.heat.domain_separator


def test_tokens_are_degree_hours_above_reference_and_the_pool_is_paid_pro_rata(h):
    h.at_period_end(0)
    readings = [h.sign(0, 0, 200, 80.0, 35.0),   # dT 45 K, 5 K above the 40 K reference: 200 l * 5 K = 1000 l*K
                h.sign(1, 0, 300, 78.0, 36.0),   # dT 42 K: 300 l * 2 K = 600 l*K
                h.sign(2, 0, 400, 78.0, 48.0)]   # dT 30 K: below reference, degree-hours negative, no tokens
    assert _submit(h, readings) == []
    accepted = {e.args["consumer"]: e.args for e in h.chain.events if e.event == "ReadingAccepted"}
    assert [accepted[c]["tokens"] for c in h.consumers] == [1000, 600, 0]
    assert [accepted[c]["delta_t_mk"] for c in h.consumers] == [45_000, 42_000, 30_000]
    assert accepted[h.consumers[2]]["degree_hours_mlmk"] == 400_000 * (30_000 - 40_000)
    assert [h.heat.balance_of(c) for c in h.consumers] == [1000, 600, 0]
    assert h.heat.total_supply() == 1600 == h.heat.tokens_in_period(0)

    operator_before = h.token.balance_of(h.operator)
    receipt = h.heat.settle(0, 1_600_001, sender=h.operator)
    paid = {e["consumer"]: e["amount_ueur"] for e in _events(receipt, "BonusPaid")}
    assert paid == {h.consumers[0]: 1_000_000, h.consumers[1]: 600_001}  # dust to the last token holder
    settled = _events(receipt, "PeriodSettled")[0]
    assert settled["pool_ueur"] == settled["paid_ueur"] == sum(paid.values()) == 1_600_001
    assert _events(receipt, "PoolDeposited")[0]["amount_ueur"] == 1_600_001
    assert h.token.balance_of(h.operator) == operator_before - 1_600_001
    assert h.token.balance_of(h.heat.address) == 0
    assert [h.token.balance_of(c) for c in h.consumers] == [1_000_000, 600_001, 0]


def test_equal_cooling_earns_tokens_in_proportion_to_flow():
    h = make_heat(n=2)
    h.at_period_end(0)
    assert _submit(h, [h.sign(0, 0, 100, 80.0, 34.0), h.sign(1, 0, 300, 80.0, 34.0)]) == []
    assert [h.heat.tokens_of(0, c) for c in h.consumers] == [600, 1800]


def test_estimated_readings_count_heat_but_mint_nothing(h):
    h.at_period_end(0)
    assert _submit(h, [h.sign(0, 0, 200, 80.0, 30.0, quality=1)]) == []
    assert h.heat.balance_of(h.consumers[0]) == 0
    totals = h.heat.totals(h.consumers[0])
    assert totals.volume_ml == 200_000 and totals.delta_t_k == pytest.approx(50.0)


def test_totals_accumulate_flow_weighted_registers(h):
    h.at_period_end(1)
    assert _submit(h, [h.sign(0, 0, 100, 80.0, 40.0), h.sign(0, 1, 300, 70.0, 30.0)]) == []
    totals = h.heat.totals(h.consumers[0])
    assert totals.volume_ml == 400_000
    assert totals.t_supply_c == pytest.approx((100 * 80 + 300 * 70) / 400)
    assert totals.t_return_c == pytest.approx((100 * 40 + 300 * 30) / 400)


def test_reading_for_another_consumers_meter_reverts(h):
    h.at_period_end(0)
    # meter 0 signs, correctly, a reading that credits consumer 1
    wrong = h.sign(0, 0, 200, 80.0, 30.0, consumer=h.consumers[1])
    with pytest.raises(ChainRevert, match="heat: meter belongs to another consumer"):
        h.heat._tx("submit_readings", [wrong.as_tuple()], sender=h.operator)
    assert h.heat.balance_of(h.consumers[1]) == 0


def test_replayed_reading_reverts(h):
    h.at_period_end(0)
    r = h.sign(0, 0, 200, 80.0, 30.0)
    assert _submit(h, [r]) == []
    with pytest.raises(ChainRevert, match="heat: reading already recorded"):
        h.heat._tx("submit_readings", [r.as_tuple()], sender=h.consumers[0])
    assert h.heat.call("readings_accepted") == 1 and h.heat.balance_of(h.consumers[0]) == 2000


def test_forged_and_tampered_readings_revert(h):
    h.at_period_end(0)
    forged = h.sign(0, 0, 200, 80.0, 30.0, key=keys.PrivateKey(b"\x07" * 32))
    meter0 = h.meter_keys[0].public_key.to_checksum_address()
    forged = SignedHeatReading(meter0, *forged.as_tuple()[1:])  # claims meter 0, signed by another key
    with pytest.raises(ChainRevert, match="heat: bad signature"):
        h.heat._tx("submit_readings", [forged.as_tuple()], sender=h.operator)
    good = h.sign(1, 0, 200, 80.0, 45.0)
    fields = list(good.as_tuple())
    fields[6] = good.vt_return_mlmc - 200_000 * 1_000  # claim a 1 K lower return (within the heat read)
    assert _reasons(h, [SignedHeatReading(*fields)]) == ["heat: bad signature"]
    other_chain = h.sign(2, 0, 200, 80.0, 45.0, domain=domain_separator(h.chain.chain_id + 1, h.heat.address))
    assert _reasons(h, [other_chain]) == ["heat: bad signature"]
    assert h.heat.total_supply() == 0


def test_high_s_unregistered_early_and_out_of_range_readings_revert(h):
    h.at_period_end(0)
    r = h.sign(0, 0, 200, 80.0, 30.0)
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = SignedHeatReading(*r.fields(), 55 - r.v, r.r, (order - int.from_bytes(r.s, "big")).to_bytes(32, "big"))
    stranger = h.sign(0, 0, 200, 80.0, 30.0, key=keys.PrivateKey(b"\x09" * 32))
    assert _reasons(h, [high_s]) == ["heat: high-s signature"]
    assert _reasons(h, [stranger]) == ["heat: unregistered meter"]
    assert _reasons(h, [h.sign(0, 1, 200, 80.0, 30.0)]) == ["heat: period not over"]
    assert _reasons(h, [h.sign(0, 0, 200, 80.0, 30.0, heat_wh=HEAT_MAX_WH + 1)]) == ["heat: reading out of range"]


def test_reference_published_after_the_period_started_reverts(h):
    h.at_period_end(7, offset_s=-PERIOD_S)  # chain time = start of period 7
    with pytest.raises(ChainRevert, match="heat: reference published after the period started"):
        h.heat.publish_references(7, [40_000] * 3, sender=h.operator)
    h.heat.publish_references(8, [40_000, 41_000, 39_500], sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: reference already published"):
        h.heat.publish_references(8, [30_000] * 3, sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: caller is not the operator"):
        h.heat.publish_references(9, [1] * 3, sender=h.consumers[0])
    with pytest.raises(ChainRevert, match="heat: one reference per consumer"):
        h.heat.publish_references(9, [40_000] * 2, sender=h.operator)
    assert [h.heat.reference_k(8, c) for c in h.consumers] == [40.0, 41.0, 39.5]
    assert h.heat.reference_k(7, h.consumers[0]) is None


def test_each_consumer_is_judged_against_its_own_reference():
    h = make_heat(n=2)
    h.at_period_end(6, offset_s=-2 * PERIOD_S)
    h.heat.publish_references(6, [40_000, 36_000], sender=h.operator)  # consumer 1 sits at a branch end
    h.at_period_end(6)
    assert _submit(h, [h.sign(0, 6, 100, 80.0, 36.0), h.sign(1, 6, 100, 76.0, 36.0)]) == []
    assert [h.heat.tokens_of(6, c) for c in h.consumers] == [400, 400]  # same return, same tokens


def test_reading_without_a_reference_reverts(h):
    h.at_period_end(7)
    assert _reasons(h, [h.sign(0, 7, 200, 80.0, 30.0)]) == ["heat: no reference for period"]


def test_good_readings_land_when_a_batch_holds_a_bad_one(h):
    h.at_period_end(0)
    good = [h.sign(i, 0, 100, 80.0, 35.0) for i in range(3)]
    replay = h.sign(0, 0, 100, 80.0, 20.0)
    assert _reasons(h, [good[0], replay, good[1], good[2]]) == ["heat: reading already recorded"]
    assert [h.heat.balance_of(c) for c in h.consumers] == [500] * 3


def test_settlement_needs_every_reading_once_and_a_pool_needs_tokens(h):
    h.at_period_end(1)
    _submit(h, [h.sign(i, 0, 100, 80.0, 45.0) for i in range(2)])
    with pytest.raises(ChainRevert, match="heat: readings missing"):
        h.heat.settle(0, 0, sender=h.operator)
    _submit(h, [h.sign(2, 0, 100, 80.0, 45.0)])
    with pytest.raises(ChainRevert, match="heat: no tokens to pay a pool to"):
        h.heat.settle(0, 5, sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: caller is not the operator"):
        h.heat.settle(0, 0, sender=h.consumers[0])
    receipt = h.heat.settle(0, 0, sender=h.operator)
    assert _events(receipt, "PeriodSettled")[0]["paid_ueur"] == 0
    with pytest.raises(ChainRevert, match="heat: period already settled"):
        h.heat.settle(0, 0, sender=h.operator)
    assert _reasons(h, [h.sign(0, 1, 100, 80.0, 30.0)]) == []


def test_registration_rules():
    h = make_heat(n=2, seal=False)
    with pytest.raises(ChainRevert, match="heat: registration not sealed"):
        h.heat.publish_references(3, [40_000] * 2, sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: meter already registered"):
        h.heat.register_consumer(h.bank, h.meter_keys[0].public_key.to_checksum_address(), 1, 1, sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: consumer already registered"):
        h.heat.register_consumer(h.consumers[0], h.bank, 1, 1, sender=h.operator)
    h.heat.seal(sender=h.operator)
    with pytest.raises(ChainRevert, match="heat: registration is sealed"):
        h.heat.register_consumer(h.bank, h.operator, 1, 1, sender=h.operator)
    assert h.token.balance_of(h.operator) == OPERATOR_FLOAT_UEUR
    assert h.chain.timestamp < T0_S
