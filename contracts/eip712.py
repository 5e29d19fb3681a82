"""EIP-712 typed data for meter readings, in the domain (name "gridledger", version "1", chainId,
verifyingContract):

- ``Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)`` — electricity;
- ``HeatReading(address meter,address consumer,uint256 period,uint256 heat_wh,uint256 volume_ml,
  uint256 vt_supply_mlmc,uint256 vt_return_mlmc,uint8 quality)`` — district heat, with the meter's flow-weighted
  temperature registers (volume [ml] times temperature [milli-degC], summed over the period).

The digest is the one the contracts compute; tests check it against eth-account's ``encode_typed_data``.
"""

from __future__ import annotations

from dataclasses import dataclass

import eth_abi
from eth_keys import keys
from eth_utils import keccak

DOMAIN_NAME = "gridledger"
DOMAIN_VERSION = "1"
DOMAIN_TYPEHASH = keccak(text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
READING_TYPEHASH = keccak(text="Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)")
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


def typed_digest(domain_sep: bytes, typehash: bytes, abi_types: list[str], values: list) -> bytes:
    """EIP-712 digest of a struct of static fields: keccak(0x1901 ‖ domain ‖ keccak(typehash ‖ fields))."""
    struct_hash = keccak(eth_abi.encode(["bytes32", *abi_types], [typehash, *values]))
    return keccak(b"\x19\x01" + domain_sep + struct_hash)


def _vrs(key: keys.PrivateKey, digest: bytes) -> tuple[int, bytes, bytes]:
    """Sign ``digest`` (eth-keys signs low-s); v in {27, 28}."""
    sig = key.sign_msg_hash(digest)
    return sig.v + 27, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")


def reading_digest(domain_sep: bytes, meter: str, period: int, energy_wh: int, quality: int) -> bytes:
    return typed_digest(domain_sep, READING_TYPEHASH, ["address", "uint256", "uint256", "uint8"],
                        [meter, period, energy_wh, quality])


def sign_reading(key: keys.PrivateKey, domain_sep: bytes, period: int, energy_wh: int, quality: int) -> SignedReading:
    """Sign a reading with the meter's key (low-s, v in {27, 28})."""
    meter = key.public_key.to_checksum_address()
    return SignedReading(meter, period, energy_wh, quality, *_vrs(key, reading_digest(domain_sep, meter, period,
                                                                                       energy_wh, quality)))


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
    fields = (key.public_key.to_checksum_address(), consumer, period, heat_wh, volume_ml, vt_supply_mlmc,
              vt_return_mlmc, quality)
    return SignedHeatReading(*fields, *_vrs(key, heat_reading_digest(domain_sep, *fields)))


def key_for(seed: int, label: str) -> keys.PrivateKey:
    """A deterministic secp256k1 key for ``label`` in run ``seed`` (simulation only, never for real funds)."""
    return keys.PrivateKey(keccak(b"gridledger/" + seed.to_bytes(8, "big") + b"/" + label.encode()))


__all__ = [
    "SignedReading",
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
