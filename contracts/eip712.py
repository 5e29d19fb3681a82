"""EIP-712 typed data for meter readings: ``Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)``
in the domain (name "gridledger", version "1", chainId, verifyingContract).

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
    sig = key.sign_msg_hash(reading_digest(domain_sep, meter, period, energy_wh, quality))
    return SignedReading(
        meter, period, energy_wh, quality, sig.v + 27, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big")
    )


def key_for(seed: int, label: str) -> keys.PrivateKey:
    """A deterministic secp256k1 key for ``label`` in run ``seed`` (simulation only, never for real funds)."""
    return keys.PrivateKey(keccak(b"gridledger/" + seed.to_bytes(8, "big") + b"/" + label.encode()))


__all__ = [
    "SignedReading",
    "domain_separator",
    "reading_digest",
    "sign_reading",
    "key_for",
    "QUALITY_MEASURED",
    "QUALITY_ESTIMATED",
]
