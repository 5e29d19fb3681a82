"""Issue 21 ("Nothing lost, no one in"): each attack as its attacker would run it, on both backends, refused with
its reason and nobody losing anything. Each test failed on the code before the fix (docs/reliability.md).
"""

from __future__ import annotations

import pytest

from contracts.certificates import CapPost, MintRequest, cert_id
from contracts.chain import ChainRevert
from contracts.eip712 import sign_heat_reading, sign_reading
from contracts.vpp import pack_declarations
from tests.contracts.conftest import HEAT_MAX_WH, MAX_WH, make_certs, make_heat, make_vpp
from tests.contracts.flex_fixtures import make_flex

HASH = b"\xab" * 32


def _reasons(refused):
    return [getattr(x, "reason", None) or x[1] for x in refused]


# --- HeatEfficiency: one reading with a huge volume took the whole bonus pool ---------------------------------------
def test_heat_a_huge_volume_mints_nothing_and_the_pool_goes_to_the_honest(backend):
    h = make_heat(backend=backend)
    h.at_period_end(0)
    honest = [h.sign(0, 0, 200, 80.0, 35.0), h.sign(1, 0, 300, 78.0, 36.0)]  # 1000 and 600 l*K above reference
    # consumer 2's meter signs 10**10 l at 80/30 degC with a heat inside the meter's range
    huge = h.sign(2, 0, 10**10, 80.0, 30.0, heat_wh=HEAT_MAX_WH)
    assert _reasons(h.heat.submit_readings([*honest, huge], sender=h.operator)) == ["heat: volume out of range"]
    assert h.heat.total_supply() == 1600
    assert h.heat.submit_readings([h.sign(2, 0, 400, 78.0, 48.0)], sender=h.operator) == []
    h.heat.settle(0, 1_600_000, sender=h.operator)
    assert [h.token.balance_of(c) for c in h.consumers] == [1_000_000, 600_000, 0]


def test_heat_registers_inconsistent_with_the_volume_or_the_heat_are_refused(backend):
    h = make_heat(backend=backend)
    h.at_period_end(0)
    r = h.sign(0, 0, 200, 80.0, 35.0)
    for fields, reason in [
        ({"vt_supply_mlmc": 2**200}, "heat: supply temperature out of range"),  # registers not from this volume
        ({"vt_supply_mlmc": 200_000 * 131_000}, "heat: supply temperature out of range"),  # 131 degC
        ({"vt_return_mlmc": 200_000 * 81_000}, "heat: return above supply"),
        ({"vt_return_mlmc": 0}, "heat: cooling above the heat reading"),  # 80 K of cooling on a 45 K heat read
    ]:
        values = dict(zip(("meter", "consumer", "period", "heat_wh", "volume_ml", "vt_supply_mlmc", "vt_return_mlmc",
                           "quality"), r.fields())) | fields
        bad = sign_heat_reading(h.meter_keys[0], h.heat.domain_separator, values["consumer"], 0, values["heat_wh"],
                                values["volume_ml"], values["vt_supply_mlmc"], values["vt_return_mlmc"], 0)
        assert _reasons(h.heat.submit_readings([bad], sender=h.operator)) == [reason]
    assert h.heat.total_supply() == 0


# --- Certificates: a stranger's retirement fills a consumer's claim room; claims not tied to the hour --------------
def _bought(c, wh=1000):
    """Certificate of PV interval 0, 1000 Wh with each consumer; consumer 0 consumed 1000 Wh in intervals 0 and 1."""
    c.at_period_end(1)
    c.certs.post_caps([_cap(1, 0, 5000)], sender=c.oracle)
    c.certs._tx("mint", [MintRequest(1, 4000, c.reading(1, 0, 4000)).as_tuple()], sender=c.issuer)
    id_ = cert_id(1, 0)
    for consumer in c.consumers:
        c.certs.transfer(c.producers[0], consumer, id_, wh, sender=c.producers[0])
    assert c.certs.record_consumption([c.consumption(0, p, 1000) for p in (0, 1)], sender=c.issuer) == []
    return id_


def _cap(device, period, wh):
    return CapPost(device, period, wh, HASH)


def test_certs_nobody_retires_for_a_consumer_without_its_approval(backend):
    c = make_certs(backend=backend)
    id_ = _bought(c)
    with pytest.raises(ChainRevert, match="certs: caller is neither the beneficiary nor approved by it"):
        c.certs.retire(id_, 1000, c.consumers[0], 0, sender=c.consumers[1])
    c.certs.retire(id_, 1000, c.consumers[0], 0, sender=c.consumers[0])  # its own claim still has room
    assert c.certs.claimed_wh(c.consumers[0], 0) == 1000
    assert c.certs.balance_of(c.consumers[1], id_) == 1000


def test_certs_a_retirement_is_against_the_certificates_own_interval(backend):
    c = make_certs(backend=backend)
    id_ = _bought(c)
    with pytest.raises(ChainRevert, match="certs: consumption interval is not the certificate's interval"):
        c.certs.retire(id_, 500, c.consumers[0], 1, sender=c.consumers[0])
    assert c.certs.claimed_wh(c.consumers[0], 1) == 0 and c.certs.retired_wh(id_) == 0


def test_certs_a_reading_beyond_the_horizon_cannot_mint_another_devices_certificate(backend):
    """A period of 2**128 or more reached into the id's device bits: PV's meter reading of period (2 << 128) | 1
    minted device 3's certificate of interval 1 (id 3 << 128 | 1) to PV's owner."""
    c = make_certs(backend=backend)
    c.certs.register_device(c.producers[1], c.producers[1], "pv-3", "pv", 48.0, 11.0, 500_000, sender=c.issuer)
    c.at_period_end(1)
    c.certs.post_caps([_cap(3, 1, 5000)], sender=c.oracle)
    stray = c.reading(1, (2 << 128) | 1, 4000)
    with pytest.raises(ChainRevert, match="certs: interval out of range"):
        c.certs._tx("mint", [MintRequest(1, 4000, stray).as_tuple()], sender=c.issuer)
    assert c.certs.balance_of(c.producers[0], (3 << 128) | 1) == 0 and c.certs.minted_wh((3 << 128) | 1) == 0


# --- FlexDelays: overlapping DR events paid the same minutes twice -------------------------------------------------
def test_flex_overlapping_events_are_refused_so_no_minute_is_paid_twice(backend):
    f = make_flex(backend)
    e = f.event(600, 120)
    with pytest.raises(ChainRevert, match="flex: DR event starts before the previous one ends"):
        f.flex.create_event(660, 60, 5_000, sender=f.operator)
    f.at_minute(800)
    assert f.report(f.delay(2, e, 660, 60, 2000)) == []
    assert f.flex.total_supply() == 2000 * 10 and f.flex.call("n_events") == 1


# --- VppSettlement: declarations above the range, prices that never settle -----------------------------------------
def test_vpp_a_declaration_above_the_meters_range_is_refused(backend):
    v = make_vpp(backend=backend)
    for wh in (MAX_WH + 1, 2**255, 2**256 - 1):  # a whole-collateral penalty; a period that never settles
        with pytest.raises(ChainRevert, match="vpp: declaration above the meter's range"):
            v.vpp.declare(0, [wh, 0, 0], sender=v.operator)
    v.vpp.declare(0, [MAX_WH, 0, 0], sender=v.operator)
    v.at_period_end(0)
    v.vpp.submit_readings([sign_reading(k, v.vpp.domain_separator, 0, 0, 0) for k in v.meter_keys],
                          sender=v.operator)
    v.vpp.settle(0, sender=v.operator)  # the period settles: the member pays for MAX_WH, not for its collateral
    assert v.vpp.collateral_ueur(v.members[0]) == 5_000_000 - (MAX_WH - MAX_WH // 10) * 300_000 // 1000


def test_vpp_a_committed_day_above_the_meters_range_is_refused(backend):
    v = make_vpp(backend=backend)
    day = [[0, 0, 0] for _ in range(24)]
    day[5][1] = MAX_WH + 1
    with pytest.raises(ChainRevert, match="vpp: declaration above the meter's range"):
        v.vpp._tx("commit_declarations", 0, 24, pack_declarations(day), sender=v.operator)
    day[5][1] = MAX_WH
    v.vpp.commit_declarations(0, day, sender=v.operator)


def test_vpp_a_price_above_the_maximum_is_refused(backend):
    v = make_vpp(backend=backend)
    for price in (2**20 * 1000, 2**255, 2**256 - 1):  # 2**255: the period never settled
        with pytest.raises(ChainRevert, match="vpp: price above the maximum"):
            v.vpp.publish_price(0, price, sender=v.buyer)
    v.vpp.declare(0, [MAX_WH, 0, 0], sender=v.operator)
    v.at_period_end(0)
    v.vpp.submit_readings([sign_reading(k, v.vpp.domain_separator, 0, MAX_WH, 0) for k in v.meter_keys],
                          sender=v.operator)
    v.vpp.settle(0, sender=v.operator)
    assert v.vpp.period_settled(0)
