"""Certificates: every state-changing function from every role that must not call it, and every argument and
signed field at its bounds, refused with its reason (tests/contracts/bounds.py); the maxima themselves accepted."""

from __future__ import annotations

import pytest
from hypothesis import given

from contracts.certificates import CapPost, MintRequest, Retirement, Transfer, cert_id
from contracts.eip712 import key_for, sign_reading, sign_reading_batch
from contracts.vpp import day_batch_tuple
from tests.contracts.bounds import (
    BACKENDS,
    FAST,
    HUGE,
    ZERO,
    Refusal,
    World,
    above,
    beyond,
    cases,
    refused,
    roles,
    row_tests,
)
from tests.contracts.conftest import CONSUMER_MAX_WH, PERIOD_S, make_certs

N_PERIODS = 48
PV, WIND = 1, 2
PV_RANGE_WH = (500_000 * PERIOD_S * 11 + 72_000) // 36_000  # pv-1: 500 kW, its meter's range per interval
WIND_RANGE_WH = (800_000 * PERIOD_S * 11 + 72_000) // 36_000  # wind-1: 800 kW
MAX_RANGE, MAX_NAMEPLATE = 10**12, 10**12
LAT, LON = 90_000_000, 180_000_000
HASH = b"\x01" * 32
NOT_ISSUER = "certs: caller is not the issuer"
BOUGHT = 1000  # Wh of PV interval 0 with consumer 0


@pytest.fixture(scope="module", params=BACKENDS)
def world(request) -> World:
    """Two devices, two consumers; PV interval 0 capped, minted (4000 Wh), 1000 Wh with consumer 0, which consumed
    1000 Wh in intervals 0 and 1; wind interval 0 capped at 1 Wh, not minted; chain time after interval 1. Roles: issuer, oracle, producer (owner of pv-1),
    consumer, other (the second consumer), stranger."""
    c = make_certs(backend=request.param)
    stranger = c.chain.new_account(key_for(0, "stranger"))
    c.at_period_end(1)
    c.certs.post_caps([CapPost(PV, 0, 5000, HASH), CapPost(WIND, 0, 1, HASH)], sender=c.oracle)
    c.certs._tx("mint", [MintRequest(PV, 4000, c.reading(PV, 0, 4000)).as_tuple()], sender=c.issuer)
    c.certs.transfer(c.producers[0], c.consumers[0], cert_id(PV, 0), BOUGHT, sender=c.producers[0])
    c.certs.record_consumption([c.consumption(0, p, 1000) for p in (0, 1)], sender=c.issuer)
    return World(c.chain, {"certs": c.certs.contract},
                 {"issuer": c.issuer, "oracle": c.oracle, "producer": c.producers[0], "consumer": c.consumers[0],
                  "other": c.consumers[1], "stranger": stranger}, {"c": c})


def _device(w, **f):
    d = dict(owner=w.roles["stranger"], meter=w.roles["stranger"], name="x", technology="pv", lat=0, lon=0,
             nameplate=1000) | f
    return tuple(d.values())


def _consumer(w, **f):
    return tuple((dict(consumer=w.roles["stranger"], meter=w.roles["stranger"], name="x", max_wh=1) | f).values())


def _cap(w, **f):
    return ([tuple((dict(device=WIND, period=1, cap=1, hash=HASH) | f).values())],)


def _mint(w, device=WIND, amount=1, key_device=WIND, **f):
    """A mint of the wind device's interval 1 (no cap posted: most range refusals come first), ``f`` replacing
    the reading's fields, signed by ``key_device``'s meter."""
    c = w.ctx["c"]
    r = dict(period=1, energy_wh=1, quality=0) | f
    reading = sign_reading(c.device_keys[key_device - 1], c.certs.domain_separator, r["period"], r["energy_wh"],
                           r["quality"])
    return ([MintRequest(device, amount, reading).as_tuple()],)


def _consumption(w, **f):
    c = w.ctx["c"]
    r = dict(period=2, energy_wh=1, quality=0) | f
    return ([sign_reading(c.consumer_keys[1], c.certs.domain_separator, r["period"], r["energy_wh"],
                          r["quality"]).as_tuple()],)


def _days(w, consumer=1, first=1, energy=(1,), quality=(0,), **f):
    """``record_consumption_days`` of one batch of consumer ``consumer``'s meter (by default interval 1, 1 Wh,
    measured), signed; ``f`` replaces fields of the DayBatch after signing (meter, n_values, energy_wh, v)."""
    c = w.ctx["c"]
    b = day_batch_tuple(sign_reading_batch(c.consumer_keys[consumer], c.certs.domain_separator, first,
                                           list(energy), list(quality)))
    fields = dict(zip(("meter", "first_period", "n_values", "energy_wh", "quality", "v", "r", "s"), b)) | f
    return ([tuple(fields.values())],)


def _retire(w, **f):
    x = dict(id=cert_id(PV, 0), amount=1, beneficiary=w.roles["consumer"], interval=0) | f
    return tuple(x.values())


def _transfer(w, **f):
    x = dict(owner=w.roles["consumer"], receiver=w.roles["other"], id=cert_id(PV, 0), amount=1, data=b"") | f
    return tuple(x.values())


def _many(args):
    """``safeTransferFrom`` arguments as one ``transfer_many`` row."""
    return ([Transfer(*args[:4]).as_tuple()],)


def _sale(w, **f):
    """``sell_and_retire`` of one sale: by default the consumer's own 1000 Wh of PV 0, sold to and claimed for
    itself (it is both owner and beneficiary, so the roles pass and the amounts are what is checked)."""
    x = dict(owner=w.roles["consumer"], receiver=w.roles["consumer"], id=cert_id(PV, 0), amount=1) | f
    return ([Transfer(*x.values()).as_tuple()],)


def _each(fn, label, values, build, reason, role):
    return cases("certs", fn, label, values, build, reason, role)


OUTSIDERS = ["producer", "consumer", "oracle", "stranger"]
ROWS = [
    # register_device / register_consumer: the issuer's; addresses, location, nameplate and range bounded
    *roles("certs", "register_device", _device, OUTSIDERS, NOT_ISSUER),
    *_each("register_device", "owner", [ZERO], lambda w, x: _device(w, owner=x), "certs: zero address", "issuer"),
    *_each("register_device", "meter", [ZERO], lambda w, x: _device(w, meter=x), "certs: zero address", "issuer"),
    *_each("register_device", "lat", [LAT + 1, -LAT - 1, 2**255 - 1, -(2**255)], lambda w, x: _device(w, lat=x),
           "certs: location out of range", "issuer"),
    *_each("register_device", "lon", [LON + 1, -LON - 1, 2**255 - 1, -(2**255)], lambda w, x: _device(w, lon=x),
           "certs: location out of range", "issuer"),
    *_each("register_device", "nameplate", [0, *beyond(MAX_NAMEPLATE)], lambda w, x: _device(w, nameplate=x),
           "certs: nameplate out of range", "issuer"),
    *_each("register_device", "meter-of-consumer", ["consumer-meter"],
           lambda w, x: _device(w, meter=w.ctx["c"].consumer_keys[0].public_key.to_checksum_address()),
           "certs: meter already registered", "issuer"),
    *roles("certs", "register_consumer", _consumer, OUTSIDERS, NOT_ISSUER),
    *_each("register_consumer", "consumer", [ZERO], lambda w, x: _consumer(w, consumer=x), "certs: zero address",
           "issuer"),
    *_each("register_consumer", "meter", [ZERO], lambda w, x: _consumer(w, meter=x), "certs: zero address", "issuer"),
    *_each("register_consumer", "max_wh", [0, *beyond(MAX_RANGE)], lambda w, x: _consumer(w, max_wh=x),
           "certs: meter range out of bounds", "issuer"),
    *_each("register_consumer", "again", ["consumer"], lambda w, x: _consumer(w, consumer=w.roles[x]),
           "certs: consumer already registered", "issuer"),
    # post_caps: the oracle's; a known device, an interval in range and over, a weather hash, once (any cap: a mint
    # is bounded by the metered reading, itself bounded by the nameplate)
    *roles("certs", "post_caps", _cap, ["issuer", "producer", "consumer", "stranger"], "certs: caller is not the oracle"),
    *_each("post_caps", "device", [0, 3, *HUGE], lambda w, x: _cap(w, device=x), "certs: unknown device", "oracle"),
    *_each("post_caps", "period", beyond(N_PERIODS - 1), lambda w, x: _cap(w, period=x),
           "certs: interval out of range", "oracle"),
    *_each("post_caps", "period", [2], lambda w, x: _cap(w, period=x), "certs: interval not over", "oracle"),
    *_each("post_caps", "hash", [b"\x00" * 32], lambda w, x: _cap(w, hash=x), "certs: empty weather hash", "oracle"),
    *_each("post_caps", "again", [0], lambda w, x: _cap(w, period=x), "certs: cap already posted", "oracle"),
    # mint: the issuer's; device known, reading from its meter, interval in range, capped, measured, within the
    # device's range, amount = min(metered, cap) > 0
    *roles("certs", "mint", _mint, OUTSIDERS, NOT_ISSUER),
    *_each("mint", "device", [0, 3, *HUGE], lambda w, x: _mint(w, device=x), "certs: unknown device", "issuer"),
    *_each("mint", "meter", ["pv-meter"], lambda w, x: _mint(w, key_device=PV),
           "certs: reading is not from the device's meter", "issuer"),
    *_each("mint", "period", beyond(N_PERIODS - 1, 2**128, (WIND << 128) | 1),
           lambda w, x: _mint(w, period=x), "certs: interval out of range", "issuer"),
    *_each("mint", "uncapped", [1], lambda w, x: _mint(w, period=x), "certs: no weather cap for this interval",
           "issuer"),
    *_each("mint", "again", [0], lambda w, x: _mint(w, device=PV, key_device=PV, period=x),
           "certs: already minted for this device and interval", "issuer"),
    # the checks behind the cap, on the wind device's interval 0 (capped at 1 Wh)
    *_each("mint", "quality", [1], lambda w, x: _mint(w, period=0, quality=x),
           "certs: estimated interval cannot be minted", "issuer"),
    *_each("mint", "quality", [2, 255], lambda w, x: _mint(w, period=0, quality=x), "certs: unknown quality flag",
           "issuer"),
    *_each("mint", "energy_wh", beyond(WIND_RANGE_WH), lambda w, x: _mint(w, period=0, energy_wh=x),
           "certs: reading above the device's range", "issuer"),
    *_each("mint", "amount", [0], lambda w, x: _mint(w, period=0, amount=x, energy_wh=0), "certs: nothing to mint",
           "issuer"),
    *_each("mint", "amount", [2, *HUGE], lambda w, x: _mint(w, period=0, amount=x), "certs: mint above weather cap",
           "issuer"),
    # record_consumption: anyone posts (the consumer meter's signature is the authority); every field bounded
    *_each("record_consumption", "period", beyond(N_PERIODS - 1), lambda w, x: _consumption(w, period=x),
           "certs: interval out of range", "stranger"),
    *_each("record_consumption", "period", [3], lambda w, x: _consumption(w, period=x), "certs: interval not over",
           "stranger"),
    *_each("record_consumption", "quality", [2, 255], lambda w, x: _consumption(w, period=1, quality=x),
           "certs: unknown quality flag", "stranger"),
    *_each("record_consumption", "energy_wh", beyond(CONSUMER_MAX_WH), lambda w, x: _consumption(w, period=1,
                                                                                               energy_wh=x),
           "certs: reading out of range", "stranger"),
    *_each("record_consumption", "again", [0], lambda w, x: (
        [sign_reading(w.ctx["c"].consumer_keys[0], w.ctx["c"].certs.domain_separator, x, 1000, 0).as_tuple()],),
        "certs: consumption already recorded", "stranger"),
    # record_consumption_days: anyone posts (the meter's one signature over its run is the authority); every field
    # bounded, as record_consumption's, and the batch's own: a meter's address, 1 to 24 values, none unsigned
    *_each("record_consumption_days", "meter", [1 << 160, *HUGE], lambda w, x: _days(w, meter=x),
           "certs: meter is not an address", "stranger"),
    *_each("record_consumption_days", "meter", ["stranger"], lambda w, x: _days(w, meter=int(w.roles[x], 16)),
           "certs: unregistered consumption meter", "stranger"),
    *_each("record_consumption_days", "n_values", [0, 25, *HUGE], lambda w, x: _days(w, n_values=x),
           "certs: a day batch holds 1 to 24 values", "stranger"),
    *_each("record_consumption_days", "first_period", beyond(N_PERIODS - 1), lambda w, x: _days(w, first=x),
           "certs: interval out of range", "stranger"),
    *_each("record_consumption_days", "last_period", [N_PERIODS], lambda w, x: _days(
        w, first=x - 1, energy=(1, 1), quality=(0, 0)), "certs: interval out of range", "stranger"),
    *_each("record_consumption_days", "last_period", [2], lambda w, x: _days(
        w, first=x - 1, energy=(1, 1), quality=(0, 0)), "certs: interval not over", "stranger"),
    *_each("record_consumption_days", "unsigned", [1, *HUGE], lambda w, x: _days(w, energy_wh=[1, x] + [0] * 22),
           "certs: values beyond the batch's n_values", "stranger"),
    *_each("record_consumption_days", "v", [0, 29, *HUGE], lambda w, x: _days(w, v=x), "certs: bad signature v",
           "stranger"),
    *_each("record_consumption_days", "energy_wh", [2], lambda w, x: _days(w, energy_wh=[x] + [0] * 23),
           "certs: bad signature", "stranger"),
    *_each("record_consumption_days", "quality", [2, 255, *HUGE], lambda w, x: _days(w, quality=(x,)),
           "certs: unknown quality flag", "stranger"),
    *_each("record_consumption_days", "energy_wh", beyond(CONSUMER_MAX_WH), lambda w, x: _days(w, energy=(x,)),
           "certs: reading out of range", "stranger"),
    *_each("record_consumption_days", "again", [0], lambda w, x: _days(w, consumer=0, first=x),
           "certs: consumption already recorded", "stranger"),
    # setApprovalForAll, set_retirer: the caller's own; set_retirer only for a registered consumer
    *_each("setApprovalForAll", "operator", [ZERO], lambda w, x: (x, True), "certs: zero address", "producer"),
    *_each("setApprovalForAll", "operator", ["self"], lambda w, x: (w.roles["producer"], True),
           "certs: approval to caller", "producer"),
    *roles("certs", "set_retirer", lambda w: (w.roles["other"], True), ["issuer", "oracle", "producer", "stranger"],
           "certs: caller is not a registered consumer"),
    *_each("set_retirer", "retirer", [ZERO], lambda w, x: (x, True), "certs: zero address", "consumer"),
    *_each("set_retirer", "retirer", ["self"], lambda w, x: (w.roles["consumer"], True), "certs: approval to caller",
           "consumer"),
    # safeTransferFrom / transfer_many: the owner's or its approved operator's; a receiver; 0 < amount <= balance
    *roles("certs", "safeTransferFrom", _transfer, ["other", "producer", "issuer", "stranger"],
           "certs: caller is not owner nor approved"),
    *_each("safeTransferFrom", "receiver", [ZERO], lambda w, x: _transfer(w, receiver=x),
           "certs: transfer to the zero address", "consumer"),
    *_each("safeTransferFrom", "amount", [0], lambda w, x: _transfer(w, amount=x), "certs: zero amount", "consumer"),
    *_each("safeTransferFrom", "amount", beyond(BOUGHT), lambda w, x: _transfer(w, amount=x),
           "certs: insufficient balance", "consumer"),
    *_each("safeTransferFrom", "id", [0, cert_id(WIND, 0), *HUGE], lambda w, x: _transfer(w, id=x),
           "certs: insufficient balance", "consumer"),
    *roles("certs", "transfer_many", lambda w: _many(_transfer(w)), ["other", "producer", "issuer", "stranger"],
           "certs: caller is not owner nor approved"),
    *_each("transfer_many", "amount", [0], lambda w, x: _many(_transfer(w, amount=x)), "certs: zero amount",
           "consumer"),
    *_each("transfer_many", "amount", beyond(BOUGHT), lambda w, x: _many(_transfer(w, amount=x)),
           "certs: insufficient balance", "consumer"),
    # retire / retire_many: by the beneficiary or a retirer it approved; against the certificate's own interval;
    # 0 < amount <= balance; within the beneficiary's metered consumption
    *roles("certs", "retire", _retire, ["other", "producer", "issuer", "oracle", "stranger"],
           "certs: caller is neither the beneficiary nor approved by it"),
    *_each("retire", "beneficiary", [ZERO], lambda w, x: _retire(w, beneficiary=x),
           "certs: caller is neither the beneficiary nor approved by it", "consumer"),
    *_each("retire", "interval", [1, N_PERIODS, *HUGE], lambda w, x: _retire(w, interval=x),
           "certs: consumption interval is not the certificate's interval", "consumer"),
    *_each("retire", "amount", [0], lambda w, x: _retire(w, amount=x), "certs: zero amount", "consumer"),
    *_each("retire", "amount", beyond(BOUGHT), lambda w, x: _retire(w, amount=x), "certs: insufficient balance",
           "consumer"),
    *_each("retire", "id", [cert_id(WIND, 0), cert_id(PV, 1)], lambda w, x: _retire(w, id=x, interval=x & (2**128 - 1)),
           "certs: insufficient balance", "consumer"),
    *_each("retire", "id", HUGE, lambda w, x: _retire(w, id=x, interval=x & (2**128 - 1)),
           "certs: insufficient balance", "consumer"),
    *roles("certs", "retire_many", lambda w: ([Retirement(*_retire(w)).as_tuple()],),
           ["other", "producer", "stranger"], "certs: caller is neither the beneficiary nor approved by it"),
    *_each("retire_many", "interval", [1, *HUGE], lambda w, x: ([Retirement(*_retire(w, interval=x)).as_tuple()],),
           "certs: consumption interval is not the certificate's interval", "consumer"),
    *_each("retire_many", "amount", [0], lambda w, x: ([Retirement(*_retire(w, amount=x)).as_tuple()],),
           "certs: zero amount", "consumer"),
    *_each("retire_many", "amount", beyond(BOUGHT), lambda w, x: ([Retirement(*_retire(w, amount=x)).as_tuple()],),
           "certs: insufficient balance", "consumer"),
    # sell_and_retire: by the holder's approved operator (or the holder) that the buyer also approved as its
    # retirer (or the buyer); 0 < amount <= balance; the buyer a registered consumer
    *roles("certs", "sell_and_retire", lambda w: _sale(w, owner=w.roles["producer"]),
           ["other", "issuer", "oracle", "stranger"], "certs: caller is not owner nor approved"),
    *roles("certs", "sell_and_retire", lambda w: _sale(w, owner=w.roles["producer"]), ["producer"],
           "certs: caller is neither the beneficiary nor approved by it"),
    *_each("sell_and_retire", "receiver", [ZERO, "stranger"], lambda w, x: _sale(w, receiver=w.roles.get(x, x)),
           "certs: caller is neither the beneficiary nor approved by it", "consumer"),
    *_each("sell_and_retire", "amount", [0], lambda w, x: _sale(w, amount=x), "certs: zero amount", "consumer"),
    *_each("sell_and_retire", "amount", beyond(BOUGHT), lambda w, x: _sale(w, amount=x),
           "certs: insufficient balance", "consumer"),
    *_each("sell_and_retire", "id", [cert_id(WIND, 0), cert_id(PV, 1), *HUGE], lambda w, x: _sale(w, id=x),
           "certs: insufficient balance", "consumer"),
]


test_refused_with_its_reason, test_every_state_changing_function_is_covered = row_tests(ROWS, "Certificates")


@FAST
@given(energy_wh=above(CONSUMER_MAX_WH), interval=above(0))
def test_any_consumption_beyond_the_range_or_other_interval_is_refused(world, energy_wh, interval):
    refused(world, Refusal("energy", "certs", "record_consumption", lambda w: _consumption(w, period=1,
                                                                                         energy_wh=energy_wh),
                           "stranger", "certs: reading out of range"))
    refused(world, Refusal("interval", "certs", "retire", lambda w: _retire(w, interval=interval), "consumer",
                           "certs: consumption interval is not the certificate's interval"))


def test_the_maxima_are_accepted(backend):
    c = make_certs(backend=backend)
    stranger = c.chain.new_account(key_for(0, "stranger"))
    c.certs.register_device(stranger, stranger, "edge", "pv", 90.0, -180.0, MAX_NAMEPLATE, sender=c.issuer)
    c.certs.register_consumer(c.issuer, c.oracle, "edge", MAX_RANGE, sender=c.issuer)
    c.at_period_end(0)
    # pv-1 reads its whole range; the cap binds the mint
    c.certs.post_caps([CapPost(PV, 0, 2**256 - 1, HASH)], sender=c.oracle)
    c.certs._tx("mint", [MintRequest(PV, PV_RANGE_WH, c.reading(PV, 0, PV_RANGE_WH)).as_tuple()], sender=c.issuer)
    assert c.certs.minted_wh(cert_id(PV, 0)) == PV_RANGE_WH
    assert c.certs.record_consumption([c.consumption(0, 0, CONSUMER_MAX_WH)], sender=c.issuer) == []
    # a consumer's approved retirer claims for it, against the certificate's interval
    c.certs.set_retirer(c.producers[0], True, sender=c.consumers[0])
    c.certs.retire(cert_id(PV, 0), CONSUMER_MAX_WH, c.consumers[0], 0, sender=c.producers[0])
    assert c.certs.claimed_wh(c.consumers[0], 0) == CONSUMER_MAX_WH
