"""VppSettlement.submit_reading_batches: one EIP-712 signature over a meter's run of consecutive readings; every
value is covered by it, and each value passes the checks of a single reading."""

from __future__ import annotations

import dataclasses

import pytest
from eth_keys import keys

from contracts.chain import ChainRevert
from contracts.eip712 import reading_batch_digest, sign_reading, sign_reading_batch
from tests.contracts.conftest import MAX_WH, make_vpp
from tests.contracts.typed_data import eth_account_digest


def _batch(v, i, first, values, quality=None, key=None):
    return sign_reading_batch(key or v.meter_keys[i], v.vpp.domain_separator, first, values,
                              quality or [0] * len(values), meter=v.meter_keys[i].public_key.to_checksum_address())


def _post(v, batches):
    return v.vpp._tx("submit_reading_batches", [b.as_tuple() for b in batches], sender=v.operator)


def test_batch_digest_matches_eth_account_typed_data(v):
    meter = v.meter_keys[0].public_key.to_checksum_address()
    expected = eth_account_digest("ReadingBatch",
                                  "address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality",
                                  {"meter": meter, "first_period": 3, "energy_wh": [10, 0, 4321], "quality": [0, 1, 0]},
                                  chain_id=v.chain.chain_id, contract=v.vpp.address)
    assert reading_batch_digest(v.vpp.domain_separator, meter, 3, [10, 0, 4321], [0, 1, 0]) == expected


def _declare_and_close(v, periods):
    for p in range(periods):
        v.vpp.declare(p, [1000, 1000, 1000], sender=v.operator)
    v.at_period_end(periods - 1)


def test_batches_record_the_same_as_single_readings(backend):
    """Same values through batches on one chain and single signed readings on another: same events, same
    settlement, same balances."""
    values = {0: [900, 1100, 0], 1: [1200, 50, 700], 2: [1000, 999, 1001]}  # meter -> periods 0..2
    a, b = make_vpp(backend=backend), make_vpp(backend=backend)
    for x in (a, b):
        _declare_and_close(x, 3)
    _post(a, [_batch(a, i, 0, values[i], [0, 1, 0]) for i in range(3)])
    singles = [sign_reading(b.meter_keys[i], b.vpp.domain_separator, p, values[i][p], [0, 1, 0][p])
               for p in range(3) for i in range(3)]
    assert b.vpp.submit_readings(singles, sender=b.operator) == []
    for x in (a, b):
        for p in range(3):
            x.vpp.settle(p, sender=x.operator)
    assert a.vpp.call("readings_accepted") == 9

    def settled(x):
        return [(e.event, e.args) for e in x.chain.events if e.event in ("PeriodSettled", "Payout", "Penalty")]

    def accepted(x):
        return sorted((e.args["period"], e.args["meter"], e.args["energy_wh"], e.args["quality"])
                      for e in x.chain.events if e.event == "ReadingAccepted")

    assert settled(a) == settled(b) and accepted(a) == accepted(b)
    assert [a.token.balance_of(m) for m in a.members] == [b.token.balance_of(m) for m in b.members]


def test_tampered_value_in_a_batch_reverts(v):
    _declare_and_close(v, 2)
    good = _batch(v, 0, 0, [500, 600])
    for tampered in (dataclasses.replace(good, energy_wh=(500, 601)), dataclasses.replace(good, quality=(0, 1)),
                     dataclasses.replace(good, first_period=1)):
        with pytest.raises(ChainRevert, match="vpp: bad signature"):
            _post(v, [tampered])
    forged = _batch(v, 0, 0, [500, 600], key=keys.PrivateKey(b"\x07" * 32))  # claims meter 0, another key
    with pytest.raises(ChainRevert, match="vpp: bad signature"):
        _post(v, [forged])
    _post(v, [good])
    assert v.vpp.delivered_wh(1, v.members[0]) == 600


def test_batch_checks_every_value(v):
    _declare_and_close(v, 2)
    with pytest.raises(ChainRevert, match="vpp: reading out of range"):
        _post(v, [_batch(v, 0, 0, [500, MAX_WH + 1])])
    with pytest.raises(ChainRevert, match="vpp: period not over"):
        _post(v, [_batch(v, 0, 0, [1, 2, 3])])  # period 2 has not ended
    with pytest.raises(ChainRevert, match="vpp: unknown quality flag"):
        _post(v, [_batch(v, 0, 0, [1, 2], [0, 2])])
    bad = _batch(v, 0, 0, [1, 2])
    with pytest.raises(ChainRevert, match="vpp: one quality flag per value"):
        _post(v, [dataclasses.replace(bad, quality=(0,))])
    _post(v, [_batch(v, 1, 1, [7])])
    with pytest.raises(ChainRevert, match="vpp: reading already recorded"):  # nor by a batch over it
        _post(v, [_batch(v, 1, 0, [5, 7])])
    assert v.vpp.call("readings_accepted") == 1


def test_high_s_batch_reverts(v):
    _declare_and_close(v, 1)
    b = _batch(v, 0, 0, [100])
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    malleable = dataclasses.replace(b, v=55 - b.v, s=(order - int.from_bytes(b.s, "big")).to_bytes(32, "big"))
    with pytest.raises(ChainRevert, match="vpp: high-s signature"):
        _post(v, [malleable])


def test_wrapper_refuses_bad_batches_and_lands_the_others(v):
    _declare_and_close(v, 2)
    bad = dataclasses.replace(_batch(v, 1, 0, [5, 6]), energy_wh=(5, 7))
    refused = v.vpp.submit_reading_batches([_batch(v, 0, 0, [1, 2]), bad, _batch(v, 2, 0, [3, 4])],
                                           sender=v.operator)
    assert [(r.batch, r.reason) for r in refused] == [(bad, "vpp: bad signature")]
    assert v.vpp.call("readings_accepted") == 4
