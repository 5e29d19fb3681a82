"""``sign_reading`` signs through libsecp256k1 directly (``contracts.eip712._vrs``): the signature is the one
eth-keys' own ``sign_msg_hash`` gives (RFC 6979 nonces, low s), and eth-keys recovers the meter from it."""

from __future__ import annotations

import pytest
from eth_keys import keys

from contracts.eip712 import key_for, reading_digest, sign_reading


@pytest.mark.parametrize("seed", range(8))
def test_sign_reading_equals_eth_keys(seed):
    key = key_for(seed, f"meter/{seed}")
    domain = bytes(range(32))
    meter = key.public_key.to_checksum_address()
    period, energy_wh, quality = 1000 + seed, 12_345 * seed, seed % 2
    signed = sign_reading(key, domain, period, energy_wh, quality, meter=meter)
    digest = reading_digest(domain, meter, period, energy_wh, quality)
    ref = key.sign_msg_hash(digest)
    assert (signed.v, signed.r, signed.s) == (ref.v + 27, ref.r.to_bytes(32, "big"), ref.s.to_bytes(32, "big"))
    recovered = keys.Signature(vrs=(signed.v - 27, int.from_bytes(signed.r, "big"),
                                    int.from_bytes(signed.s, "big"))).recover_public_key_from_msg_hash(digest)
    assert recovered.to_checksum_address() == meter
