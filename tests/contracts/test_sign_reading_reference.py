"""``sign_reading`` signs through libsecp256k1 directly (``contracts.eip712._vrs``): the signature is the one
eth-keys' own ``sign_msg_hash`` gives (RFC 6979 nonces, low s), and eth-keys recovers the meter from it."""

from __future__ import annotations

import eth_abi
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


@pytest.mark.parametrize("values", [
    ["0x" + "ab" * 20, "0x" + "CD" * 20, 0, 2**256 - 1, 7, 123_456_789, 2**64, 255],
    ["0xcCBd987A010E3BbE072c1869aF7D4e7EB08Eb719", "0x" + "00" * 20, 1, 2, 3, 4, 5, 1],
])
def test_typed_digest_words_equal_eth_abi(values):
    """The heat reading's struct words written directly equal eth_abi's encoding (the reference)."""
    import eth_abi
    from eth_utils import keccak

    from contracts.eip712 import HEAT_READING_ABI, HEAT_READING_TYPEHASH, typed_digest

    domain = bytes(range(32))
    ref = keccak(b"\x19\x01" + domain + keccak(eth_abi.encode(["bytes32", *HEAT_READING_ABI],
                                                               [HEAT_READING_TYPEHASH, *values])))
    assert typed_digest(domain, HEAT_READING_TYPEHASH, HEAT_READING_ABI, values) == ref


@pytest.mark.parametrize("bad", [-1, 2**256, 256, True, "0x12"])
def test_typed_digest_out_of_range_is_refused_as_eth_abi_refuses(bad):
    """A value outside its type goes to eth_abi, which refuses it (the last field is a uint8, the first an address)."""
    from contracts.eip712 import HEAT_READING_ABI, HEAT_READING_TYPEHASH, typed_digest

    values = ["0x" + "ab" * 20, "0x" + "cd" * 20, 0, 0, 0, 0, 0, 0]
    if isinstance(bad, str):
        values[0] = bad
    else:
        values[-1] = bad
    with pytest.raises(Exception):  # noqa: B017, PT011 - eth_abi's own encoding errors
        typed_digest(bytes(32), HEAT_READING_TYPEHASH, HEAT_READING_ABI, values)


@pytest.mark.parametrize("form", ["checksum", "lower", "upper", "bad checksum", "space", "short"])
def test_the_direct_abi_words_of_an_address_are_eth_abis_or_left_to_it(form):
    """The direct encoding gives eth_abi's bytes or declines (None), so that eth_abi encodes or refuses: a string
    with a space is 42 characters but not an address (``bytes.fromhex`` would skip the space: 19 bytes)."""
    from contracts.eip712 import _static_words

    a = "0x8E2b18e7d9708aCb2928D4b5803924Ce49741C20"
    v = {"checksum": a, "lower": a.lower(), "upper": "0x" + a[2:].upper(), "bad checksum": a.replace("E2b", "e2b"),
         "space": a[:5] + " " + a[6:], "short": a[:-2]}[form]
    got = _static_words(["address"], [v])
    if form in ("space", "short", "bad checksum"):
        assert got is None
    else:
        assert got == eth_abi.encode(["address"], [v])
