"""Certificates' bulk settlement (``sell_and_retire``, and a day's caps, consumption and mints in full batches):
the same state and events as the per-action path (transfer_many by the exchange, then retire_many by each
consumer), and every rule still refused in bulk with its reason, the bad item returned as refused and the good
ones landing. Both backends.

Reference: the per-action path of the same contract (``transfer_many`` + ``retire_many``, tests/contracts/
test_certificates.py), on a fresh chain with the same keys."""

from __future__ import annotations

import pytest

from contracts.certificates import BULK_READINGS, BULK_SALES, CapPost, MintRequest, Retirement, Transfer, cert_id
from contracts.chain import DEFAULT_GAS, ChainRevert
from contracts.eip712 import key_for, sign_reading
from tests.contracts.bounds import BACKENDS
from tests.contracts.conftest import make_certs

PV, WIND = 1, 2
HASH = bytes.fromhex("cd" * 32)
N_PERIODS = 48
ZERO = "0x" + "00" * 20
ID_MASK = 2**128 - 1


def _market(backend: str):
    """Two devices minted over 48 intervals (PV 3000 Wh, wind 700 Wh, each its cap), two consumers whose meters
    signed 1000 and 2500 Wh in each (consumer 1: 0 Wh in interval 5, nothing in the last); an exchange the producers approved and the
    consumers approved as their retirer."""
    c = make_certs(backend=backend)
    exchange = c.chain.new_account(key_for(0, "exchange"))
    c.at_period_end(N_PERIODS - 1)
    caps = [CapPost(d, p, cap, HASH) for p in range(N_PERIODS) for d, cap in ((PV, 3000), (WIND, 700))]
    assert c.certs.post_caps(caps, sender=c.oracle) == []
    mints = [MintRequest(d, wh, c.reading(d, p, wh)) for p in range(N_PERIODS) for d, wh in ((PV, 3000), (WIND, 700))]
    assert c.certs.mint(mints, sender=c.issuer) == []
    used = [c.consumption(i, p, 0 if (i, p) == (1, 5) else wh) for p in range(N_PERIODS)
            for i, wh in ((0, 1000), (1, 2500)) if (i, p) != (1, N_PERIODS - 1)]
    assert c.certs.record_consumption(used, sender=c.issuer) == []
    for producer in c.producers:
        c.certs.set_approval_for_all(exchange, True, sender=producer)
    c.certs.set_retirer_for(c.consumers, exchange)
    return c, exchange


class Markets:
    """``fresh()``: the market of ``_market`` as it was after its set-up: py-evm's built once and reverted to a
    snapshot, revm's built again (it has no snapshots; a fresh chain is cheap)."""

    def __init__(self, backend: str):
        self.backend, self.built, self.snap = backend, None, None

    def fresh(self):
        if self.backend == "revm":
            return _market("revm")
        if self.built is None:
            self.built = _market(self.backend)
        else:
            self.built[0].chain.revert(self.snap)
        self.snap = self.built[0].chain.snapshot()
        return self.built


@pytest.fixture(scope="module", params=BACKENDS)
def markets(request):
    return Markets(request.param)


@pytest.fixture
def market(markets):
    return markets.fresh()


def _sales(c) -> list[Transfer]:
    """Per interval: consumer 0 buys 600 Wh of PV and 400 of wind (its whole consumption), consumer 1 2000 of PV
    and 250 of wind (none where it signed 0 Wh or nothing); the producers keep the rest."""
    out = []
    for p in range(N_PERIODS):
        pv, wind = cert_id(PV, p), cert_id(WIND, p)
        out += [Transfer(c.producers[0], c.consumers[0], pv, 600), Transfer(c.producers[1], c.consumers[0], wind, 400)]
        if p not in (5, N_PERIODS - 1):
            out += [Transfer(c.producers[0], c.consumers[1], pv, 2000),
                    Transfer(c.producers[1], c.consumers[1], wind, 250)]
    return out


def _per_action(c, exchange, sales):
    """The reference: the exchange's transfers, then each consumer retires what it holds, per interval."""
    assert c.certs.transfer_many(sales, sender=exchange) == []
    for consumer in c.consumers:
        mine = [Retirement(s.id, s.amount_wh, consumer, s.id & ID_MASK) for s in sales if s.receiver == consumer]
        assert c.certs.retire_many(mine, sender=consumer) == []


def _state(c, sales):
    ids = sorted({s.id for s in sales})
    accounts = [*c.producers, *c.consumers]
    return {
        "balances": c.certs.balances([(a, i) for a in accounts for i in ids]),
        "retired": [c.certs.retired_wh(i) for i in ids],
        "retired_by": [c.certs.call("retired_by", a, i) for a in c.consumers for i in ids[:6]],
        "claimed": [c.certs.claimed_wh(a, p) for a in c.consumers for p in range(N_PERIODS)],
        "totals": (c.certs.call("total_minted_wh"), c.certs.call("total_retired_wh")),
    }


def _moves(c):
    """Every TransferSingle (but its operator) and Retired after the set-up, as a sorted list."""
    out = []
    for e in c.chain.events:
        if e.event in ("TransferSingle", "Retired") and not (e.event == "TransferSingle" and e.args["sender"] == ZERO):
            out.append((e.event, tuple(sorted((k, v) for k, v in e.args.items() if k != "operator"))))
    return sorted(out)


def test_bulk_equals_the_per_action_path(markets):
    c, exchange = markets.fresh()
    sales = _sales(c)
    _per_action(c, exchange, sales)
    ref_state, ref_moves = _state(c, sales), _moves(c)
    c, exchange = markets.fresh()
    assert len(sales) > BULK_SALES  # more than one bulk transaction
    before = c.chain.n_transactions
    assert c.certs.sell_and_retire(sales, sender=exchange) == []
    assert c.chain.n_transactions - before == -(-len(sales) // BULK_SALES)
    assert _state(c, sales) == ref_state
    assert _moves(c) == ref_moves
    burns = [e.args for e in c.chain.events if e.event == "TransferSingle" and e.args["receiver"] == ZERO]
    assert burns and all(b["operator"] == exchange for b in burns)  # the one difference: who burnt


def test_a_full_bulk_batch_fits_in_one_transaction(market):
    """BULK_SALES sales, each writing new slots, and BULK_READINGS readings, under a transaction's gas limit."""
    c, exchange = market
    backend = c.chain.backend_name
    receipt = c.certs._tx("sell_and_retire", [s.as_tuple() for s in _sales(c)[:BULK_SALES]], sender=exchange)
    assert receipt.gas_used < DEFAULT_GAS
    c2 = make_certs(backend=backend, n_periods=2 * BULK_READINGS)
    c2.at_period_end(2 * BULK_READINGS - 1)
    used = [c2.consumption(p % 2, p, 50_000) for p in range(BULK_READINGS)]
    assert c2.certs._tx("record_consumption", [r.as_tuple() for r in used], sender=c2.issuer).gas_used < DEFAULT_GAS
    caps = [CapPost(PV, p, 10**6, HASH) for p in range(BULK_READINGS)]
    assert c2.certs._tx("post_caps", [x.as_tuple() for x in caps], sender=c2.oracle).gas_used < DEFAULT_GAS
    mints = [MintRequest(PV, 5000, c2.reading(PV, p, 5000)) for p in range(BULK_READINGS)]
    assert c2.certs._tx("mint", [m.as_tuple() for m in mints], sender=c2.issuer).gas_used < DEFAULT_GAS


# refusals in bulk: each bad sale refused with its reason, the others land -------------------------------------------
def _one_bad(c, exchange, bad: Transfer, reason: str):
    good = _sales(c)[:10]
    before = c.certs.call("total_retired_wh")
    refused = c.certs.sell_and_retire(good[:5] + [bad] + good[5:], sender=exchange)
    assert refused == [(bad, reason)]
    assert c.certs.call("total_retired_wh") - before == sum(s.amount_wh for s in good)
    with pytest.raises(ChainRevert, match=reason):
        c.certs._tx("sell_and_retire", [bad.as_tuple()], sender=exchange)


def test_claim_beyond_signed_consumption_is_refused(market):
    c, exchange = market
    p = 7  # consumer 0 consumed 1000 Wh; 600 of PV and 400 of wind fill it
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[0], cert_id(PV, p), 1001),
             "certs: claim exceeds metered consumption")
    assert c.certs.sell_and_retire([Transfer(c.producers[0], c.consumers[0], cert_id(PV, p), 1000)],
                                   sender=exchange) == []
    refused = c.certs.sell_and_retire([Transfer(c.producers[1], c.consumers[0], cert_id(WIND, p), 1)], sender=exchange)
    assert refused[0][1] == "certs: claim exceeds metered consumption"


def test_claim_in_an_interval_without_consumption_is_refused(markets):
    c, exchange = markets.fresh()
    # consumer 1 signed 0 Wh in interval 5 and nothing in the last: no claim there
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[1], cert_id(PV, 5), 1),
             "certs: claim exceeds metered consumption")
    c, exchange = markets.fresh()
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[1], cert_id(PV, N_PERIODS - 1), 1),
             "certs: no metered consumption for that interval")


def test_wrong_roles_are_refused(market):
    c, exchange = market
    stranger = c.chain.new_account(key_for(0, "stranger"))
    sale = Transfer(c.producers[0], c.consumers[0], cert_id(PV, 0), 100)
    for who in (stranger, c.issuer, c.oracle, c.consumers[0]):  # not the producer's approved operator
        assert c.certs.sell_and_retire([sale], sender=who) == [(sale, "certs: caller is not owner nor approved")]
    # the producer itself may sell, but may not claim for the consumer
    assert c.certs.sell_and_retire([sale], sender=c.producers[0]) == [
        (sale, "certs: caller is neither the beneficiary nor approved by it")]
    # a consumer that revoked the exchange
    c.certs.set_retirer(exchange, False, sender=c.consumers[0])
    assert c.certs.sell_and_retire([sale], sender=exchange) == [
        (sale, "certs: caller is neither the beneficiary nor approved by it")]
    # a buyer that is no registered consumer, buying for itself
    c.certs.set_approval_for_all(stranger, True, sender=c.producers[0])
    to_self = Transfer(c.producers[0], stranger, cert_id(PV, 0), 100)
    assert c.certs.sell_and_retire([to_self], sender=stranger) == [
        (to_self, "certs: beneficiary is not a registered consumer")]
    assert c.certs.call("total_retired_wh") == 0


def test_amounts_and_retired_wh_never_move(markets):
    c, exchange = markets.fresh()
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[0], cert_id(PV, 9), 0), "certs: zero amount")
    c, exchange = markets.fresh()
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[0], cert_id(PV, 9), 3001),
             "certs: insufficient balance")
    c, exchange = markets.fresh()
    # the producer retires 2500 Wh of PV 20 for consumer 1 (which approved it); the 500 left cannot carry a 501 sale
    c.certs.set_retirer(c.producers[0], True, sender=c.consumers[1])
    c.certs.retire(cert_id(PV, 20), 2500, c.consumers[1], 20, sender=c.producers[0])
    _one_bad(c, exchange, Transfer(c.producers[0], c.consumers[0], cert_id(PV, 20), 501),
             "certs: retired Wh cannot move or be retired again")
    assert c.certs.balance_of(c.producers[0], cert_id(PV, 20)) == 500


# the day's readings in full batches: forged, replayed and out-of-range ones refused, the rest recorded -----------
def test_bulk_consumption_refuses_forged_replayed_and_out_of_range(backend):
    c = make_certs(backend=backend, n_periods=2 * BULK_READINGS)
    c.at_period_end(2 * BULK_READINGS - 1)
    good = [c.consumption(p % 2, p, 1000 + p) for p in range(BULK_READINGS + 20)]
    # signed by another key, in the name of consumer 1's meter
    forged = sign_reading(key_for(9, "forger"), c.certs.domain_separator, BULK_READINGS + 30, 7, 0)
    forged = type(forged)(good[-1].meter, *forged.as_tuple()[1:])
    too_big = c.consumption(0, BULK_READINGS + 40, 50_001)
    replay = good[10]
    batch = good[:BULK_READINGS] + [forged, replay] + good[BULK_READINGS:] + [too_big]  # bad ones in batch 2
    refused = c.certs.record_consumption(batch, sender=c.issuer)
    assert [(r.period, reason) for r, reason in refused] == [
        (BULK_READINGS + 30, "certs: bad signature"), (10, "certs: consumption already recorded"),
        (BULK_READINGS + 40, "certs: reading out of range")]
    assert [c.certs.consumed_wh(c.consumers[r.period % 2], r.period) for r in good] == [r.energy_wh for r in good]


def test_bulk_mint_refuses_forged_replayed_and_out_of_range(backend):
    c = make_certs(backend=backend, n_periods=2 * BULK_READINGS)
    c.at_period_end(2 * BULK_READINGS - 1)
    n = BULK_READINGS + 20
    assert c.certs.post_caps([CapPost(PV, p, 10**6, HASH) for p in range(n + 10)], sender=c.oracle) == []
    good = [MintRequest(PV, 4000, c.reading(PV, p, 4000)) for p in range(n)]
    forged = MintRequest(PV, 4000, c.reading(PV, n + 1, 4000, key=key_for(9, "forger")))
    forged = MintRequest(PV, 4000, type(forged.reading)(good[0].reading.meter, *forged.reading.as_tuple()[1:]))
    above_range = MintRequest(PV, 10**6, c.reading(PV, n + 2, 10**6))  # 500 kW over 1 h reads <= 550 002 Wh
    replay = good[7]
    refused = c.certs.mint(good[:BULK_READINGS] + [forged, replay, above_range] + good[BULK_READINGS:],
                           sender=c.issuer)
    assert [(m.reading.period, reason) for m, reason in refused] == [
        (n + 1, "certs: bad signature"), (7, "certs: already minted for this device and interval"),
        (n + 2, "certs: reading above the device's range")]
    assert c.certs.call("total_minted_wh") == 4000 * n
