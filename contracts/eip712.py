"""EIP-712 typed data in the domain (name "gridledger", version "1", chainId, verifyingContract):

- ``Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)`` — electricity meter readings;
- ``ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality)`` — a meter's run of
  consecutive readings under one signature (EIP-712 arrays: keccak256 of the elements' 32-byte words);
- ``Delay(address outlet,uint256 event_id,uint256 start_min,uint256 delay_min,uint256 shifted_wh,uint8 appliance)``
  — smart outlets' delay reports;
- ``HeatReading(address meter,address consumer,uint256 period,uint256 heat_wh,uint256 volume_ml,
  uint256 vt_supply_mlmc,uint256 vt_return_mlmc,uint8 quality)`` — district heat, with the meter's flow-weighted
  temperature registers (volume [ml] times temperature [milli-degC], summed over the period).

The digest is the one the contracts compute; tests check it against eth-account's ``encode_typed_data``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import coincurve
import eth_abi
from eth_keys import keys
from eth_utils import is_checksum_address, keccak

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")

DOMAIN_NAME = "gridledger"
DOMAIN_VERSION = "1"
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
READING_TYPEHASH = keccak(text="Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)")
READING_BATCH_TYPEHASH = keccak(
    text="ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality)"
)
DELAY_TYPEHASH = keccak(
    text="Delay(address outlet,uint256 event_id,uint256 start_min,uint256 delay_min,uint256 shifted_wh,uint8 appliance)"
)
HEAT_READING_TYPE = (
    "HeatReading(address meter,address consumer,uint256 period,uint256 heat_wh,uint256 volume_ml,"
    "uint256 vt_supply_mlmc,uint256 vt_return_mlmc,uint8 quality)"
)
HEAT_READING_TYPEHASH = keccak(text=HEAT_READING_TYPE)
QUALITY_MEASURED = 0
QUALITY_ESTIMATED = 1


@dataclass(frozen=True)
class SignedReading:
    """A reading as the contract takes it: energy in Wh for settlement period ``period``."""

    meter: str
    period: int
    energy_wh: int
    quality: int
    v: int
    r: bytes
    s: bytes

    def as_tuple(self) -> tuple:
        return (self.meter, self.period, self.energy_wh, self.quality, self.v, self.r, self.s)


def domain_separator(chain_id: int, verifying_contract: str) -> bytes:
    return keccak(
        eth_abi.encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPEHASH, keccak(text=DOMAIN_NAME), keccak(text=DOMAIN_VERSION), chain_id, verifying_contract],
        )
    )


def _word(x: int) -> bytes:
    return x.to_bytes(32, "big")


def reading_digest(domain_sep: bytes, meter: str, period: int, energy_wh: int, quality: int) -> bytes:
    """keccak256("\\x19\\x01" ‖ domain ‖ hashStruct(Reading)); the struct's ABI words written directly."""
    struct_hash = keccak(READING_TYPEHASH + bytes(12) + bytes.fromhex(meter[2:]) + _word(period) + _word(energy_wh)
                         + _word(quality))
    return keccak(b"\x19\x01" + domain_sep + struct_hash)


def sign_reading(key: keys.PrivateKey, domain_sep: bytes, period: int, energy_wh: int, quality: int,
                 meter: str | None = None) -> SignedReading:
    """Sign a reading with the meter's key (low-s, v in {27, 28}); ``meter`` is the key's address if known."""
    meter = meter or key.public_key.to_checksum_address()
    return SignedReading(meter, period, energy_wh, quality,
                         *_vrs(key, reading_digest(domain_sep, meter, period, energy_wh, quality)))


@dataclass(frozen=True)
class SignedHeatReading:
    """A heat meter's reading for one settlement period, as ``HeatEfficiency`` takes it."""

    meter: str
    consumer: str
    period: int
    heat_wh: int
    volume_ml: int
    vt_supply_mlmc: int  # sum over the period of volume [ml] x supply temperature [milli-degC]
    vt_return_mlmc: int
    quality: int
    v: int
    r: bytes
    s: bytes

    def fields(self) -> tuple:
        return (self.meter, self.consumer, self.period, self.heat_wh, self.volume_ml, self.vt_supply_mlmc,
                self.vt_return_mlmc, self.quality)

    def as_tuple(self) -> tuple:
        return (*self.fields(), self.v, self.r, self.s)


HEAT_READING_ABI = ["address", "address", "uint256", "uint256", "uint256", "uint256", "uint256", "uint8"]


def heat_reading_digest(domain_sep: bytes, *fields) -> bytes:
    """Digest of ``HeatReading`` for ``fields`` = (meter, consumer, period, heat_wh, volume_ml, vt_supply_mlmc,
    vt_return_mlmc, quality)."""
    return typed_digest(domain_sep, HEAT_READING_TYPEHASH, HEAT_READING_ABI, list(fields))


def sign_heat_reading(key: keys.PrivateKey, domain_sep: bytes, consumer: str, period: int, heat_wh: int,
                      volume_ml: int, vt_supply_mlmc: int, vt_return_mlmc: int, quality: int) -> SignedHeatReading:
    """Sign a heat reading with the meter's key (low-s, v in {27, 28})."""
    fields = (_address(key), consumer, period, heat_wh, volume_ml, vt_supply_mlmc,
              vt_return_mlmc, quality)
    return SignedHeatReading(*fields, *_vrs(key, heat_reading_digest(domain_sep, *fields)))


@dataclass(frozen=True)
class SignedReadingBatch:
    """A meter's readings of periods ``first_period``, ``first_period + 1``, ... under one signature [Wh]."""

    meter: str
    first_period: int
    energy_wh: tuple[int, ...]
    quality: tuple[int, ...]
    v: int
    r: bytes
    s: bytes

    def as_tuple(self) -> tuple:
        return (self.meter, self.first_period, list(self.energy_wh), list(self.quality), self.v, self.r, self.s)

    def readings(self) -> list[tuple[int, int, int]]:
        """(period, energy_wh, quality) of every value."""
        return [(self.first_period + i, e, q) for i, (e, q) in enumerate(zip(self.energy_wh, self.quality))]


def reading_batch_digest(domain_sep: bytes, meter: str, first_period: int, energy_wh: list[int],
                         quality: list[int]) -> bytes:
    """EIP-712 digest of a ReadingBatch: arrays hash as keccak256 of their elements' 32-byte words."""
    energy_hash = keccak(b"".join(_word(e) for e in energy_wh))
    quality_hash = keccak(b"".join(_word(q) for q in quality))
    struct_hash = keccak(READING_BATCH_TYPEHASH + bytes(12) + bytes.fromhex(meter[2:]) + _word(first_period)
                         + energy_hash + quality_hash)
    return keccak(b"\x19\x01" + domain_sep + struct_hash)


def sign_reading_batch(key: keys.PrivateKey, domain_sep: bytes, first_period: int, energy_wh: list[int],
                       quality: list[int], meter: str | None = None) -> SignedReadingBatch:
    """Sign a meter's consecutive readings with one signature (the meter's key)."""
    if len(energy_wh) != len(quality):
        raise ValueError(f"reading batch: {len(energy_wh)} values but {len(quality)} quality flags")
    meter = meter or key.public_key.to_checksum_address()
    v, r, s = _vrs(key, reading_batch_digest(domain_sep, meter, first_period, energy_wh, quality))
    return SignedReadingBatch(meter, first_period, tuple(energy_wh), tuple(quality), v, r, s)


def typed_digest(domain_sep: bytes, typehash: bytes, abi_types: list[str], values: list) -> bytes:
    """EIP-712 digest of a flat struct: keccak(0x1901 . domain separator . keccak(typehash . encoded fields))."""
    words = _static_words(abi_types, values)
    encoded = typehash + words if words is not None else eth_abi.encode(["bytes32", *abi_types], [typehash, *values])
    return keccak(b"\x19\x01" + domain_sep + keccak(encoded))


def _static_words(abi_types: list[str], values: list) -> bytes | None:
    """The ABI words of a flat struct of addresses and uintN written directly (what ``eth_abi.encode`` gives), or
    None for anything else, or any value out of its type's range, so that eth_abi encodes it (and refuses it)."""
    out = []
    for t, v in zip(abi_types, values, strict=True):
        if t == "address" and isinstance(v, str) and _is_address_text(v):
            out.append(bytes(12) + bytes.fromhex(v[2:]))
        elif t.startswith("uint") and type(v) is int and 0 <= v < 1 << int(t[4:] or 256):
            out.append(v.to_bytes(32, "big"))
        else:
            return None
    return b"".join(out)


@functools.lru_cache(maxsize=4096)
def _is_address_text(v: str) -> bool:
    """``v`` is an address as eth_abi's ``is_address`` takes one: 0x and 40 hex digits, one case or checksummed."""
    return len(v) == 42 and v[:2] in ("0x", "0X") and all(c in HEX_DIGITS for c in v[2:]) \
        and (v[2:] in (v[2:].lower(), v[2:].upper()) or is_checksum_address(v))


def _vrs(key: keys.PrivateKey, digest: bytes) -> tuple[int, bytes, bytes]:
    """Signature of ``digest`` as the contracts take it: low-s, v in {27, 28}. libsecp256k1 through coincurve
    directly (RFC 6979 nonces: the same signature eth-keys gives, ~2.5x faster without its wrapping)."""
    secret = key.to_bytes()  # the cache's key: a PrivateKey hashes through keccak on every lookup
    signer = _SIGNERS.get(secret)
    if signer is None:
        signer = _SIGNERS[secret] = coincurve.PrivateKey(secret)
    sig = signer.sign_recoverable(digest, hasher=None)
    return sig[64] + 27, sig[:32], sig[32:64]


_SIGNERS: dict[bytes, coincurve.PrivateKey] = {}
_ADDRESSES: dict[bytes, str] = {}


def _address(key: keys.PrivateKey) -> str:
    """The key's checksum address (computed once per key)."""
    secret = key.to_bytes()
    address = _ADDRESSES.get(secret)
    if address is None:
        address = _ADDRESSES[secret] = key.public_key.to_checksum_address()
    return address


@dataclass(frozen=True)
class SignedDelay:
    """An outlet's report of one delay: during DR event ``event_id`` it held its appliance (code ``appliance``)
    for ``delay_min`` minutes from minute ``start_min`` (minutes from the contract's t0), moving ``shifted_wh``."""

    outlet: str
    event_id: int
    start_min: int
    delay_min: int
    shifted_wh: int
    appliance: int
    v: int
    r: bytes
    s: bytes

    def as_tuple(self) -> tuple:
        return (self.outlet, self.event_id, self.start_min, self.delay_min, self.shifted_wh, self.appliance,
                self.v, self.r, self.s)


def delay_digest(domain_sep: bytes, outlet: str, event_id: int, start_min: int, delay_min: int, shifted_wh: int,
                 appliance: int) -> bytes:
    return typed_digest(domain_sep, DELAY_TYPEHASH, ["address", "uint256", "uint256", "uint256", "uint256", "uint8"],
                        [outlet, event_id, start_min, delay_min, shifted_wh, appliance])


def sign_delay(key: keys.PrivateKey, domain_sep: bytes, event_id: int, start_min: int, delay_min: int,
               shifted_wh: int, appliance: int) -> SignedDelay:
    """Sign a delay report with the outlet's key."""
    outlet = _address(key)
    digest = delay_digest(domain_sep, outlet, event_id, start_min, delay_min, shifted_wh, appliance)
    return SignedDelay(outlet, event_id, start_min, delay_min, shifted_wh, appliance, *_vrs(key, digest))


def key_for(seed: int, label: str) -> keys.PrivateKey:
    """A deterministic secp256k1 key for ``label`` in run ``seed`` (simulation only, never for real funds)."""
    return keys.PrivateKey(keccak(b"gridledger/" + seed.to_bytes(8, "big") + b"/" + label.encode()))


__all__ = [
    "SignedReading",
    "SignedReadingBatch",
    "reading_batch_digest",
    "sign_reading_batch",
    "SignedDelay",
    "delay_digest",
    "sign_delay",
    "SignedHeatReading",
    "heat_reading_digest",
    "sign_heat_reading",
    "typed_digest",
    "domain_separator",
    "reading_digest",
    "sign_reading",
    "key_for",
    "QUALITY_MEASURED",
    "QUALITY_ESTIMATED",
]
