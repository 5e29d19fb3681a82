"""Certificates' ``record_consumption_days``: a consumer meter's run of up to 24 intervals under one EIP-712
ReadingBatch signature records the same consumption (state and ``ConsumptionRecorded`` events) as
``record_consumption`` of the same values signed one by one, and refuses every bad batch with its reason:
forged, tampered, replayed, out of range, unknown quality, unsigned values, too long or empty, not over, not a
registered meter, high-s. Both backends.

Reference: the per-reading entry point of the same contract (tests/contracts/test_certificates.py), fed the same
values; the ReadingBatch digest is the one VppSettlement verifies (tests/contracts/test_vpp*.py) and which
tests/contracts/test_eip712*.py checks against eth-account's EIP-712 encoder."""

from __future__ import annotations

import pytest

from contracts.certificates import BULK_DAY_BATCHES
from contracts.chain import ChainRevert
from contracts.eip712 import SignedReadingBatch, key_for, sign_reading_batch
from contracts.vpp import day_batch_tuple
from tests.contracts.conftest import CONSUMER_MAX_WH, make_certs

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
N_PERIODS = 96


def _values(i: int, first: int, n: int) -> tuple[list[int], list[int]]:
    """Consumer ``i``'s energy [Wh] and quality flags of periods first .. first + n - 1 (every 7th estimated)."""
    return ([(1000 + 37 * p + 500 * i) % CONSUMER_MAX_WH for p in range(first, first + n)],
            [int(p % 7 == 3) for p in range(first, first + n)])


def _batch(c, i: int, first: int, n: int, key=None, energy=None, quality=None) -> SignedReadingBatch:
    e, q = _values(i, first, n)
    return sign_reading_batch(key or c.consumer_keys[i], c.certs.domain_separator, first,
                              e if energy is None else energy, q if quality is None else quality,
                              meter=c.consumer_keys[i].public_key.to_checksum_address())


def _recorded(c) -> list[tuple]:
    return sorted(tuple(sorted(e.args.items())) for e in c.chain.events if e.event == "ConsumptionRecorded")


def _usage(c) -> list[tuple[int, int, int]]:
    return [(c.certs.call("consumption_recorded", a, p), c.certs.consumed_wh(a, p), c.certs.claimed_wh(a, p))
            for a in c.consumers for p in range(N_PERIODS)]


@pytest.fixture(params=["py-evm", "revm"])
def certs(request):
    c = make_certs(backend=request.param, n_periods=N_PERIODS)
    c.at_period_end(N_PERIODS - 1)
    return c


def test_day_batches_record_what_single_readings_record(certs):
    """Two days of both consumers (one day of consumer 1 in runs of 24, 10 and 14 values) as day batches: the same
    state and events as the same values signed reading by reading; several batches share a transaction."""
    ref = make_certs(backend=certs.chain.backend_name, n_periods=N_PERIODS)
    ref.at_period_end(N_PERIODS - 1)
    runs = [(0, 0, 24), (0, 24, 24), (1, 0, 24), (1, 24, 10), (1, 34, 14)]
    readings = []
    for i, first, n in runs:
        e, q = _values(i, first, n)
        readings += [ref.consumption(i, first + k, e[k], q[k]) for k in range(n)]
    assert ref.certs.record_consumption(readings, sender=ref.issuer) == []
    before = certs.chain.n_transactions
    assert certs.certs.record_consumption_days([_batch(certs, i, f, n) for i, f, n in runs], sender=certs.issuer) == []
    assert certs.chain.n_transactions - before == 1
    assert _usage(certs) == _usage(ref)
    assert _recorded(certs) == _recorded(ref)
    assert len(_recorded(certs)) == 96


def test_a_full_transaction_of_day_batches_fits_the_gas_limit(certs):
    """``BULK_DAY_BATCHES`` full days in one transaction (a fresh slot per value): within 12 Mgas."""
    c = make_certs(backend=certs.chain.backend_name, n_periods=24 * BULK_DAY_BATCHES)
    c.at_period_end(24 * BULK_DAY_BATCHES - 1)
    batches = [_batch(c, d % 2, 24 * d, 24) for d in range(BULK_DAY_BATCHES)]
    receipt = c.certs._tx("record_consumption_days", [day_batch_tuple(b) for b in batches], sender=c.issuer)
    assert receipt.gas_used <= 12_000_000


def _refused(c, bad, reason):
    """``bad`` amid good batches: refused alone with ``reason``, the good ones recorded, nothing of ``bad``."""
    good = [_batch(c, 0, 0, 24), _batch(c, 1, 24, 24)]
    assert c.certs.record_consumption_days([good[0], bad, good[1]], sender=c.issuer) == [(bad, reason)]
    with pytest.raises(ChainRevert, match=reason):
        c.certs._tx("record_consumption_days", [day_batch_tuple(bad)], sender=c.issuer)
    assert [c.certs.consumed_wh(c.consumers[0], p) for p in range(24)] == _values(0, 0, 24)[0]
    assert [c.certs.consumed_wh(c.consumers[1], p) for p in range(24, 48)] == _values(1, 24, 24)[0]


def test_forged_batch_is_refused(certs):
    """Signed by a key that is not the meter's, in the meter's name."""
    _refused(certs, _batch(certs, 0, 48, 24, key=key_for(9, "forger")), "certs: bad signature")


def test_tampered_value_is_refused(certs):
    """A value changed after signing: the signature no longer matches."""
    b = _batch(certs, 1, 48, 24)
    b = SignedReadingBatch(b.meter, b.first_period, (b.energy_wh[0] + 1, *b.energy_wh[1:]), b.quality, b.v, b.r, b.s)
    _refused(certs, b, "certs: bad signature")


def test_replayed_batch_and_overlap_are_refused(certs):
    first = _batch(certs, 0, 0, 24)
    _refused(certs, first, "certs: consumption already recorded")  # recorded by the good batch of the same run
    overlap = _batch(certs, 1, 40, 24)  # periods 40..63: 40..47 recorded by the good batch
    assert certs.certs.record_consumption_days([overlap], sender=certs.issuer) == [
        (overlap, "certs: consumption already recorded")]
    assert certs.certs.consumed_wh(certs.consumers[1], 50) == 0  # nothing of the refused batch


def test_out_of_range_value_is_refused(certs):
    e, q = _values(0, 48, 24)
    e[17] = CONSUMER_MAX_WH + 1
    _refused(certs, _batch(certs, 0, 48, 24, energy=e), "certs: reading out of range")


def test_unknown_quality_flag_is_refused(certs):
    e, q = _values(0, 48, 24)
    q[3] = 2
    _refused(certs, _batch(certs, 0, 48, 24, quality=q), "certs: unknown quality flag")


def test_unsigned_values_beyond_n_values_are_refused(certs):
    b = _batch(certs, 0, 48, 10)
    t = list(day_batch_tuple(b))
    t[3] = t[3][:10] + [5] + [0] * 13  # an 11th value the signature does not cover
    with pytest.raises(ChainRevert, match="certs: values beyond the batch's n_values"):
        certs.certs._tx("record_consumption_days", [tuple(t)], sender=certs.issuer)


@pytest.mark.parametrize("n", [0, 25])
def test_batch_length_is_bounded(certs, n):
    t = list(day_batch_tuple(_batch(certs, 0, 48, 1)))
    t[2] = n
    with pytest.raises(ChainRevert, match="certs: a day batch holds 1 to 24 values"):
        certs.certs._tx("record_consumption_days", [tuple(t)], sender=certs.issuer)


def test_intervals_beyond_the_horizon_or_not_over_are_refused(certs):
    _refused(certs, _batch(certs, 0, N_PERIODS - 10, 11), "certs: interval out of range")
    c = make_certs(backend=certs.chain.backend_name, n_periods=N_PERIODS)
    c.at_period_end(30)
    with pytest.raises(ChainRevert, match="certs: interval not over"):
        c.certs._tx("record_consumption_days", [day_batch_tuple(_batch(c, 0, 24, 8))], sender=c.issuer)


def test_unregistered_meter_and_non_address_are_refused(certs):
    stranger = key_for(9, "stranger-meter")
    b = sign_reading_batch(stranger, certs.certs.domain_separator, 48, *_values(0, 48, 24))
    _refused(certs, b, "certs: unregistered consumption meter")
    t = list(day_batch_tuple(_batch(certs, 0, 48, 24)))
    t[0] |= 1 << 160
    with pytest.raises(ChainRevert, match="certs: meter is not an address"):
        certs.certs._tx("record_consumption_days", [tuple(t)], sender=certs.issuer)


def test_high_s_twin_is_refused(certs):
    """The malleable twin (n - s, v flipped) of a valid signature recovers the meter but is refused."""
    b = _batch(certs, 0, 48, 24)
    s = SECP256K1_N - int.from_bytes(b.s, "big")
    twin = SignedReadingBatch(b.meter, b.first_period, b.energy_wh, b.quality, 55 - b.v, b.r, s.to_bytes(32, "big"))
    _refused(certs, twin, "certs: high-s signature")


def test_only_the_registered_meters_sign_not_the_sender(certs):
    """Anyone may relay a batch (as record_consumption): the meter's signature is the authority. A batch signed by
    consumer 0's meter in consumer 1's meter's name is forged."""
    b = sign_reading_batch(certs.consumer_keys[0], certs.certs.domain_separator, 48, *_values(1, 48, 24),
                           meter=certs.consumer_keys[1].public_key.to_checksum_address())
    assert certs.certs.record_consumption_days([b], sender=certs.consumers[0]) == [(b, "certs: bad signature")]
    ok = _batch(certs, 1, 48, 24)
    assert certs.certs.record_consumption_days([ok], sender=certs.consumers[0]) == []
