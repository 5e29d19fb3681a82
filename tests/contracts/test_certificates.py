"""Certificates: the positive path (cap, mint, partial transfer, retirement) and each attack reverting with its
reason string."""

from __future__ import annotations

import pytest
from eth_keys import keys

from contracts.certificates import (
    CapPost,
    Certificates,
    MintRequest,
    Retirement,
    Transfer,
    cert_id,
    split_id,
)
from contracts.chain import ChainRevert
from contracts.eip712 import sign_reading
from tests.contracts.conftest import GENESIS_S, PERIOD_S, T0_S, make_certs

PV, WIND = 1, 2
HASH = bytes.fromhex("ab" * 32)


def _cap(c, device, period, cap_wh, weather_hash=HASH):
    assert c.certs.post_caps([CapPost(device, period, cap_wh, weather_hash)], sender=c.oracle) == []


def _mint_one(c, device, period, amount, metered, quality=0, key=None, sender=None):
    """Mint through the single-item path so that a revert raises with its reason."""
    r = c.reading(device, period, metered, quality, key=key)
    return c.certs._tx("mint", [MintRequest(device, amount, r).as_tuple()], sender=sender or c.issuer)


def _minted(c, device=PV, period=0, metered=4000, cap=5000):
    c.at_period_end(period)
    _cap(c, device, period, cap)
    _mint_one(c, device, period, min(metered, cap), metered)
    return cert_id(device, period)


def _consumed(c, i, period, wh):
    assert c.certs.record_consumption([c.consumption(i, period, wh)], sender=c.issuer) == []


def test_id_is_device_and_interval(c):
    assert c.certs.call("cert_id", WIND, 17) == cert_id(WIND, 17) == (2 << 128) | 17
    assert split_id(cert_id(WIND, 17)) == (WIND, 17)


def test_mint_transfer_partially_and_retire(c):
    id_ = _minted(c, PV, 0, metered=4000, cap=5000)
    ev = c.chain.events
    issued = next(e.args for e in ev if e.event == "Issued")
    assert issued["id"] == id_ and issued["amount_wh"] == 4000 and issued["metered_wh"] == 4000
    assert issued["cap_wh"] == 5000 and issued["owner"] == c.producers[0]
    assert issued["meter"] == c.device_keys[0].public_key.to_checksum_address()
    mint_tx = [e.args for e in ev if e.event == "TransferSingle"][-1]
    assert mint_tx["sender"] == "0x" + "00" * 20 and mint_tx["receiver"] == c.producers[0]
    assert c.certs.balance_of(c.producers[0], id_) == 4000

    c.certs.transfer(c.producers[0], c.consumers[0], id_, 1500, sender=c.producers[0])
    assert (c.certs.balance_of(c.producers[0], id_), c.certs.balance_of(c.consumers[0], id_)) == (2500, 1500)

    _consumed(c, 0, 0, 1200)
    receipt = c.certs.retire(id_, 1000, c.consumers[0], 0, sender=c.consumers[0])
    retired = next(e.args for e in receipt.events if e.event == "Retired")
    assert retired == {"id": id_, "holder": c.consumers[0], "beneficiary": c.consumers[0], "amount_wh": 1000,
                       "consumption_interval": 0}
    assert c.certs.balance_of(c.consumers[0], id_) == 500
    assert c.certs.retired_wh(id_) == 1000 and c.certs.claimed_wh(c.consumers[0], 0) == 1000
    live = sum(c.certs.balance_of(a, id_) for a in (*c.producers, *c.consumers))
    assert live + c.certs.retired_wh(id_) == c.certs.minted_wh(id_) == c.certs.call("total_minted_wh")


def test_mint_is_min_of_metered_and_cap(c):
    c.at_period_end(0)
    _cap(c, WIND, 0, 700)
    _mint_one(c, WIND, 0, 700, 810)  # metered above the weather cap: the cap binds
    assert c.certs.balance_of(c.producers[1], cert_id(WIND, 0)) == 700


def test_double_mint_reverts(c):
    _minted(c, PV, 0)
    with pytest.raises(ChainRevert, match="certs: already minted for this device and interval"):
        _mint_one(c, PV, 0, 4000, 4000)
    assert c.certs.minted_wh(cert_id(PV, 0)) == 4000


def test_over_cap_mint_reverts(c):
    c.at_period_end(0)
    _cap(c, PV, 0, 3000)
    with pytest.raises(ChainRevert, match="certs: mint above weather cap"):
        _mint_one(c, PV, 0, 3001, 4000)


def test_mint_above_metered_or_not_the_rule_reverts(c):
    c.at_period_end(0)
    _cap(c, PV, 0, 5000)
    with pytest.raises(ChainRevert, match="certs: mint above metered energy"):
        _mint_one(c, PV, 0, 4001, 4000)
    with pytest.raises(ChainRevert, match=r"certs: amount must be min\(metered, cap\)"):
        _mint_one(c, PV, 0, 3999, 4000)


def test_estimated_interval_cannot_be_minted(c):
    c.at_period_end(0)
    _cap(c, PV, 0, 5000)
    with pytest.raises(ChainRevert, match="certs: estimated interval cannot be minted"):
        _mint_one(c, PV, 0, 4000, 4000, quality=1)
    with pytest.raises(ChainRevert, match="certs: unknown quality flag"):
        _mint_one(c, PV, 0, 4000, 4000, quality=2)


def test_mint_by_non_issuer_reverts(c):
    c.at_period_end(0)
    _cap(c, PV, 0, 5000)
    for intruder in (c.producers[0], c.oracle):
        with pytest.raises(ChainRevert, match="certs: caller is not the issuer"):
            _mint_one(c, PV, 0, 4000, 4000, sender=intruder)


def test_forged_or_foreign_readings_revert(c):
    c.at_period_end(0)
    _cap(c, PV, 0, 5000)
    forger = keys.PrivateKey(b"\x07" * 32)
    forged = c.reading(PV, 0, 4000, key=forger)
    forged = type(forged)(c.device_keys[0].public_key.to_checksum_address(), *forged.as_tuple()[1:])
    with pytest.raises(ChainRevert, match="certs: bad signature"):
        c.certs._tx("mint", [MintRequest(PV, 4000, forged).as_tuple()], sender=c.issuer)
    honest = c.reading(PV, 0, 400)
    tampered = type(honest)(honest.meter, 0, 4000, *honest.as_tuple()[3:])
    with pytest.raises(ChainRevert, match="certs: bad signature"):
        c.certs._tx("mint", [MintRequest(PV, 4000, tampered).as_tuple()], sender=c.issuer)
    wind_reading = c.reading(WIND, 0, 4000)
    with pytest.raises(ChainRevert, match="certs: reading is not from the device's meter"):
        c.certs._tx("mint", [MintRequest(PV, 4000, wind_reading).as_tuple()], sender=c.issuer)


def test_mint_needs_a_posted_cap_and_night_caps_mint_nothing(c):
    c.at_period_end(1)
    with pytest.raises(ChainRevert, match="certs: no weather cap for this interval"):
        _mint_one(c, PV, 0, 100, 100)
    _cap(c, PV, 1, 0)  # night: the sun allowed nothing
    with pytest.raises(ChainRevert, match="certs: mint above weather cap"):
        _mint_one(c, PV, 1, 1, 1)
    with pytest.raises(ChainRevert, match="certs: nothing to mint"):
        _mint_one(c, PV, 1, 0, 0)
    assert c.certs.call("total_minted_wh") == 0


def test_oracle_posts_once_after_the_interval(c):
    c.at_period_end(0, offset_s=-1)  # interval 0 still running
    with pytest.raises(ChainRevert, match="certs: interval not over"):
        c.certs._tx("post_caps", [CapPost(PV, 0, 1, HASH).as_tuple()], sender=c.oracle)
    c.at_period_end(0)
    with pytest.raises(ChainRevert, match="certs: caller is not the oracle"):
        c.certs._tx("post_caps", [CapPost(PV, 0, 1, HASH).as_tuple()], sender=c.issuer)
    _cap(c, PV, 0, 1000)
    refused = c.certs.post_caps([CapPost(PV, 0, 9999, HASH), CapPost(9, 0, 1, HASH)], sender=c.oracle)
    assert [reason for _, reason in refused] == ["certs: cap already posted", "certs: unknown device"]
    assert c.certs.cap_wh(cert_id(PV, 0)) == 1000
    assert c.certs.call("weather_hash", cert_id(PV, 0)) == HASH


def test_double_retire_and_transfer_after_retire_revert(c):
    id_ = _minted(c, PV, 0, metered=4000)
    c.certs.transfer(c.producers[0], c.consumers[0], id_, 1000, sender=c.producers[0])
    _consumed(c, 0, 0, 3000)
    c.certs.retire(id_, 1000, c.consumers[0], 0, sender=c.consumers[0])
    with pytest.raises(ChainRevert, match="certs: retired Wh cannot move or be retired again"):
        c.certs.retire(id_, 1000, c.consumers[0], 0, sender=c.consumers[0])
    with pytest.raises(ChainRevert, match="certs: retired Wh cannot move or be retired again"):
        c.certs.transfer(c.consumers[0], c.consumers[1], id_, 1, sender=c.consumers[0])
    assert c.certs.retired_wh(id_) == 1000 and c.certs.claimed_wh(c.consumers[0], 0) == 1000


def test_partial_retirement_leaves_the_rest_live(c):
    id_ = _minted(c, PV, 0, metered=4000)
    _consumed(c, 1, 0, 10_000)
    c.certs.set_retirer(c.producers[0], True, sender=c.consumers[1])  # consumer 1 lets its supplier retire for it
    c.certs.retire(id_, 1000, c.consumers[1], 0, sender=c.producers[0])
    c.certs.transfer(c.producers[0], c.consumers[1], id_, 3000, sender=c.producers[0])
    with pytest.raises(ChainRevert, match="certs: retired Wh cannot move or be retired again"):
        c.certs.retire(id_, 1, c.consumers[1], 0, sender=c.producers[0])
    assert c.certs.balance_of(c.consumers[1], id_) == 3000


def test_transfers_need_owner_or_approval_and_a_balance(c):
    id_ = _minted(c, PV, 0, metered=4000)
    with pytest.raises(ChainRevert, match="certs: caller is not owner nor approved"):
        c.certs.transfer(c.producers[0], c.consumers[0], id_, 10, sender=c.consumers[0])
    with pytest.raises(ChainRevert, match="certs: insufficient balance"):
        c.certs.transfer(c.producers[0], c.consumers[0], id_, 4001, sender=c.producers[0])
    with pytest.raises(ChainRevert, match="certs: transfer to the zero address"):
        c.certs.transfer(c.producers[0], "0x" + "00" * 20, id_, 1, sender=c.producers[0])
    c.certs.set_approval_for_all(c.issuer, True, sender=c.producers[0])
    refused = c.certs.transfer_many([Transfer(c.producers[0], c.consumers[0], id_, 100),
                                     Transfer(c.producers[0], c.consumers[1], id_, 5000),
                                     Transfer(c.producers[0], c.consumers[1], id_, 200)], sender=c.issuer)
    assert [reason for _, reason in refused] == ["certs: insufficient balance"]
    assert [c.certs.balance_of(a, id_) for a in (c.producers[0], *c.consumers)] == [3700, 100, 200]


def test_claims_are_bounded_by_the_beneficiarys_metered_consumption(c):
    id_ = _minted(c, PV, 0, metered=4000)
    c.certs.set_retirer(c.producers[0], True, sender=c.consumers[0])
    with pytest.raises(ChainRevert, match="certs: no metered consumption for that interval"):
        c.certs.retire(id_, 100, c.consumers[0], 0, sender=c.producers[0])
    with pytest.raises(ChainRevert, match="certs: beneficiary is not a registered consumer"):
        c.certs.retire(id_, 100, c.producers[0], 0, sender=c.producers[0])
    _consumed(c, 0, 0, 900)
    refused = c.certs.retire_many([Retirement(id_, 600, c.consumers[0], 0), Retirement(id_, 400, c.consumers[0], 0),
                                   Retirement(id_, 300, c.consumers[0], 0)], sender=c.producers[0])
    assert [reason for _, reason in refused] == ["certs: claim exceeds metered consumption"]
    assert c.certs.claimed_wh(c.consumers[0], 0) == 900 and c.certs.retired_wh(id_) == 900


def test_consumption_is_signed_and_recorded_once(c):
    c.at_period_end(0)
    good = c.consumption(0, 0, 500)
    stranger = sign_reading(keys.PrivateKey(b"\x09" * 32), c.certs.domain_separator, 0, 500, 0)
    early = c.consumption(1, 1, 500)
    refused = c.certs.record_consumption([good, good, stranger, early], sender=c.consumers[1])
    assert [reason for _, reason in refused] == ["certs: consumption already recorded",
                                                 "certs: unregistered consumption meter", "certs: interval not over"]
    assert c.certs.consumed_wh(c.consumers[0], 0) == 500


def test_interval_longer_than_an_hour_is_refused_at_deployment():
    base = make_certs()
    with pytest.raises(ChainRevert, match="certs: interval must be 1 s to 1 h"):
        Certificates.deploy(base.chain, issuer=base.issuer, oracle=base.oracle, t0_s=T0_S, period_s=7200,
                            n_periods=10)
    assert GENESIS_S < T0_S and PERIOD_S == 3600
