"""Every contract path that takes a meter's or a device's EIP-712 signed record (all through the signed_reading
module) refuses, with the contract's own reason: a record signed by another key, a signature that recovers no
address (r = s = 0: the zero address never matches a registered signer), the high-s twin of the genuine
signature and a bad v; the genuine record is accepted afterwards. Both backends."""

from __future__ import annotations

import dataclasses

import pytest
from eth_keys import keys

from contracts.certificates import CapPost, MintRequest
from contracts.chain import ChainRevert
from contracts.eip712 import sign_reading, sign_reading_batch
from contracts.vpp import day_batch_tuple
from tests.contracts.conftest import make_certs, make_heat, make_vpp
from tests.contracts.flex_fixtures import make_flex
from tests.contracts.insurance_setup import make_insurance

FORGER = keys.PrivateKey(b"\x07" * 32)
CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
DAY = 24


def _address(key) -> str:
    return key.public_key.to_checksum_address()


def _vpp_readings(backend):
    v = make_vpp(backend=backend)
    v.at_period_end(0)
    meter = _address(v.meter_keys[0])
    genuine = sign_reading(v.meter_keys[0], v.vpp.domain_separator, 0, 500, 0)
    forged = sign_reading(FORGER, v.vpp.domain_separator, 0, 500, 0, meter=meter)
    return "vpp", genuine, forged, lambda r: v.vpp._tx("submit_readings", [r.as_tuple()], sender=v.operator)


def _vpp_batches(backend):
    v = make_vpp(backend=backend)
    v.at_period_end(1)
    meter = _address(v.meter_keys[0])
    genuine = sign_reading_batch(v.meter_keys[0], v.vpp.domain_separator, 0, [500, 600], [0, 1], meter=meter)
    forged = sign_reading_batch(FORGER, v.vpp.domain_separator, 0, [500, 600], [0, 1], meter=meter)
    return "vpp", genuine, forged, lambda b: v.vpp._tx("submit_reading_batches", [b.as_tuple()], sender=v.operator)


def _vpp_day(backend):
    v = make_vpp(backend=backend)
    declared = [[1000, 1000, 1000]] * DAY
    v.vpp.commit_declarations(0, declared, sender=v.operator)
    v.at_period_end(DAY - 1)
    batches = [sign_reading_batch(k, v.vpp.domain_separator, 0, [900] * DAY, [0] * DAY, meter=_address(k))
               for k in v.meter_keys]
    forged = sign_reading_batch(FORGER, v.vpp.domain_separator, 0, [900] * DAY, [0] * DAY,
                                meter=_address(v.meter_keys[1]))
    return "vpp", batches[1], forged, lambda b: v.vpp.settle_day(0, declared, [batches[0], b, batches[2]],
                                                                 sender=v.operator)


def _certs_mint(backend):
    c = make_certs(backend=backend)
    c.at_period_end(0)
    assert c.certs.post_caps([CapPost(1, 0, 5000, b"\xab" * 32)], sender=c.oracle) == []
    genuine = c.reading(1, 0, 4000)
    forged = sign_reading(FORGER, c.certs.domain_separator, 0, 4000, 0, meter=_address(c.device_keys[0]))
    return "certs", genuine, forged, lambda r: c.certs._tx("mint", [MintRequest(1, 4000, r).as_tuple()],
                                                           sender=c.issuer)


def _certs_consumption(backend):
    c = make_certs(backend=backend)
    c.at_period_end(0)
    genuine = c.consumption(0, 0, 1200)
    forged = sign_reading(FORGER, c.certs.domain_separator, 0, 1200, 0, meter=_address(c.consumer_keys[0]))
    return "certs", genuine, forged, lambda r: c.certs._tx("record_consumption", [r.as_tuple()], sender=c.issuer)


def _certs_consumption_days(backend):
    c = make_certs(backend=backend)
    c.at_period_end(DAY - 1)
    meter = _address(c.consumer_keys[0])
    genuine = sign_reading_batch(c.consumer_keys[0], c.certs.domain_separator, 0, [1200] * DAY, [0] * DAY,
                                 meter=meter)
    forged = sign_reading_batch(FORGER, c.certs.domain_separator, 0, [1200] * DAY, [0] * DAY, meter=meter)
    return "certs", genuine, forged, lambda b: c.certs._tx("record_consumption_days", [day_batch_tuple(b)],
                                                           sender=c.issuer)


def _heat(backend):
    h = make_heat(backend=backend)
    h.at_period_end(0)
    genuine = h.sign(0, 0, 200, 80.0, 30.0)
    forged = dataclasses.replace(h.sign(0, 0, 200, 80.0, 30.0, key=FORGER), meter=_address(h.meter_keys[0]))
    return "heat", genuine, forged, lambda r: h.heat._tx("submit_readings", [r.as_tuple()], sender=h.operator)


def _flex(backend):
    f = make_flex(backend)
    e = f.event(600)
    f.at_minute(700)
    genuine = f.delay(0, e, 600, 30, 1000)
    forged = dataclasses.replace(f.delay(0, e, 600, 30, 1000, key=FORGER), outlet=_address(f.outlet_keys[0]))
    return "flex", genuine, forged, lambda d: f.flex._tx("report_delays", [d.as_tuple()], sender=f.stranger)


def _insurance(backend):
    s = make_insurance(backend)
    s.at_period_end(0)
    genuine = sign_reading(s.meter_keys[0], s.ins.domain_separator, 0, 100, 0)
    forged = sign_reading(FORGER, s.ins.domain_separator, 0, 100, 0, meter=_address(s.meter_keys[0]))
    return "insurance", genuine, forged, lambda r: s.ins._tx("submit_readings", [r.as_tuple()], sender=s.insurer)


# path -> its set-up, and whether a bad v has its own reason ("bad signature v") or shares the high-s one
PATHS = {
    "VppSettlement.submit_readings": (_vpp_readings, False),
    "VppSettlement.submit_reading_batches": (_vpp_batches, False),
    "VppSettlement.settle_day": (_vpp_day, False),
    "Certificates.mint": (_certs_mint, True),
    "Certificates.record_consumption": (_certs_consumption, True),
    "Certificates.record_consumption_days": (_certs_consumption_days, True),
    "HeatEfficiency.submit_readings": (_heat, True),
    "FlexDelays.report_delays": (_flex, True),
    "MutualInsurance.submit_readings": (_insurance, False),
}


@pytest.mark.parametrize("path", PATHS)
def test_signature_checks_refuse_forged_unrecoverable_high_s_and_bad_v(path, backend):
    setup, own_bad_v_reason = PATHS[path]
    prefix, genuine, forged, submit = setup(backend)
    high_s = dataclasses.replace(genuine, v=55 - genuine.v,
                                 s=(CURVE_ORDER - int.from_bytes(genuine.s, "big")).to_bytes(32, "big"))
    cases = {
        "forged": (forged, "bad signature"),
        "unrecoverable": (dataclasses.replace(genuine, r=bytes(32), s=bytes(32)), "bad signature"),
        "high_s": (high_s, "high-s signature"),
        "bad_v": (dataclasses.replace(genuine, v=29), "bad signature v" if own_bad_v_reason else "high-s signature"),
    }
    for case, (record, reason) in cases.items():
        with pytest.raises(ChainRevert) as refused:
            submit(record)
        assert refused.value.reason == f"{prefix}: {reason}", case
    submit(genuine)  # the genuine record still lands


def test_a_batch_claiming_the_zero_address_is_refused_as_before(backend):
    """submit_reading_batches checks the signature before the meter's registration: a batch claiming meter 0
    with a refused form (high s, bad v) reverts for its form, with a canonical signature that recovers no one
    for the unregistered meter, and without values it changes nothing (the zero address recovers from such a
    signature)."""
    v = make_vpp(backend=backend)
    v.at_period_end(1)
    zero = "0x" + "00" * 20
    b = sign_reading_batch(v.meter_keys[0], v.vpp.domain_separator, 0, [500, 600], [0, 0], meter=zero)
    high_s = dataclasses.replace(b, v=55 - b.v, s=(CURVE_ORDER - int.from_bytes(b.s, "big")).to_bytes(32, "big"))
    unrecoverable = dataclasses.replace(b, r=bytes(32), s=bytes(32))
    cases = [(high_s, "vpp: high-s signature"), (dataclasses.replace(b, v=29), "vpp: high-s signature"),
             (dataclasses.replace(high_s, energy_wh=(), quality=()), "vpp: high-s signature"),
             (unrecoverable, "vpp: unregistered meter")]
    for batch, reason in cases:
        with pytest.raises(ChainRevert) as refused:
            v.vpp._tx("submit_reading_batches", [batch.as_tuple()], sender=v.operator)
        assert refused.value.reason == reason
    empty = dataclasses.replace(unrecoverable, energy_wh=(), quality=())
    v.vpp._tx("submit_reading_batches", [empty.as_tuple()], sender=v.operator)
    assert v.vpp.call("readings_accepted") == 0
