"""The fast calldata encoder gives eth_abi's bytes for every function of every contract, and refuses bad values."""

from __future__ import annotations

import random

import eth_abi
import pytest
from eth_utils import to_checksum_address

from contracts.abi_fast import _split_tuple, encoder_for
from contracts.chain import _abi_type
from contracts.compiler import compile_contract
from contracts.lock import contract_names


def _value(t: str, rng: random.Random):
    if t.endswith("[]"):
        return [_value(t[:-2], rng) for _ in range(rng.choice([0, 1, 3]))]
    if t.endswith("]"):
        base, _, k = t[:-1].rpartition("[")
        return [_value(base, rng) for _ in range(int(k))]
    if t.startswith("("):
        return tuple(_value(c, rng) for c in _split_tuple(t))
    if t.startswith("uint"):
        bits = int(t[4:] or 256)
        return rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
    if t.startswith("int"):
        bits = int(t[3:] or 256)
        return rng.choice([0, -1, -(1 << (bits - 1)), (1 << (bits - 1)) - 1])
    if t == "address":
        return to_checksum_address(rng.getrandbits(160).to_bytes(20, "big"))
    if t == "bool":
        return rng.random() < 0.5
    if t == "bytes":
        return bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 31, 32, 33, 100])))
    if t.startswith("bytes"):
        return rng.getrandbits(8 * int(t[5:])).to_bytes(int(t[5:]), "big")
    raise AssertionError(t)


@pytest.mark.parametrize("name", contract_names())
def test_matches_eth_abi_for_every_function(name):
    rng = random.Random(name)
    n_fast = 0
    for item in compile_contract(name).abi:
        if item["type"] != "function":
            continue
        types = [_abi_type(i) for i in item["inputs"]]
        enc = encoder_for(types)
        if enc is None:
            continue
        n_fast += 1
        for _ in range(20):
            args = [_value(t, rng) for t in types]
            assert enc(args) == eth_abi.encode(types, args), (item["name"], args)
    assert n_fast > 0


def test_nested_dynamic_structs():
    types = ["(address,uint256,uint256[],uint8[],uint8,bytes32,bytes32)[]", "uint256"]
    args = [[("0x" + "11" * 20, 5, [1, 2, 3], [0, 1, 0], 27, b"\x01" * 32, b"\x02" * 32),
             ("0x" + "22" * 20, 9, [], [], 28, b"\x03" * 32, b"\x04" * 32)], 77]
    assert encoder_for(types)(args) == eth_abi.encode(types, args)


def test_fixed_arrays_static_and_dynamic():
    types = ["uint256[3]", "(uint256,uint8[2])[2]", "uint256[][2]", "(uint256,uint256[24],uint256[24],bytes32)[]"]
    args = [[1, 2, 3], [(4, [5, 6]), (7, [8, 9])], [[1], [2, 3]],
            [(1, list(range(24)), [0] * 24, b"\x05" * 32), (2, [7] * 24, [1] * 24, b"\x06" * 32)]]
    assert encoder_for(types)(args) == eth_abi.encode(types, args)


def test_dynamic_bytes_beside_structs():  # settle_day's arguments
    types = ["uint256", "bytes", "(address,uint256,uint256[],uint8[],uint8,bytes32,bytes32)[]"]
    for n in (0, 4, 32, 33, 400):
        args = [24, bytes(range(n % 256)) * (n // 256 + 1) if n else b"",
                [("0x" + "11" * 20, 5, [1, 2, 3], [0, 1, 0], 27, b"\x01" * 32, b"\x02" * 32)]]
        assert encoder_for(types)(args) == eth_abi.encode(types, args)


def test_refuses_what_eth_abi_refuses():
    enc = encoder_for(["uint8", "address"])
    for bad in ([256, "0x" + "11" * 20], [-1, "0x" + "11" * 20], [1, "0x1234"], [True, "0x" + "11" * 20]):
        with pytest.raises(ValueError):
            enc(bad)
    with pytest.raises(ValueError):
        encoder_for(["bytes"])([12])
    with pytest.raises(ValueError):
        encoder_for(["uint256[2]"])([[1, 2, 3]])
    assert encoder_for(["string"]) is None and encoder_for(["string[2]"]) is None
