"""Register encoding against hand-computed values: byte order, word order, scale, units."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.hil.registers import (
    TYPES,
    DecodeError,
    decode,
    encode,
    round_trip,
    to_twin_unit,
)

# 123456789 = 0x075BCD15
ORDERS = [
    ("big", "big", [0x075B, 0xCD15]),        # ABCD: Modbus's own order
    ("big", "little", [0xCD15, 0x075B]),     # CDAB: word swap, common on meters
    ("little", "big", [0x5B07, 0x15CD]),     # BADC: byte swap
    ("little", "little", [0x15CD, 0x5B07]),  # DCBA
]


@pytest.mark.parametrize("byte_order,word_order,registers", ORDERS)
def test_uint32_in_each_order(byte_order, word_order, registers):
    assert encode(123456789, "uint32", byte_order=byte_order, word_order=word_order) == registers
    assert decode(registers, "uint32", byte_order=byte_order, word_order=word_order) == 123456789


def test_signed_float_and_scaled_values_by_hand():
    assert encode(-2, "int16") == [0xFFFE] and decode([0xFFFE], "int16") == -2
    assert decode([0xFFFE], "uint16") == 65534
    assert encode(-100000, "int32") == [0xFFFE, 0x7960]  # -100000 = 0xFFFE7960
    assert encode(1.5, "float32") == [0x3FC0, 0x0000]  # 1.5 = 0x3FC00000
    assert encode(1.5, "float32", word_order="little") == [0x0000, 0x3FC0]
    assert decode([0x4049, 0x0FDB], "float32") == pytest.approx(math.pi, rel=1e-7)
    assert encode(1.0, "float64") == [0x3FF0, 0, 0, 0]
    assert encode(2**40 + 5, "uint64") == [0x0000, 0x0100, 0x0000, 0x0005]
    assert decode([12345], "uint16", scale=0.1) == pytest.approx(1234.5)  # a register in 0.1 W steps
    assert encode(1234.5, "uint16", scale=0.1) == [12345]
    assert decode([0, 250], "uint32", scale=0.01) == pytest.approx(2.5)  # 2.5 kWh in 10 Wh steps
    assert to_twin_unit(2.5, "kWh") == 2500.0 and to_twin_unit(3.0, "kW") == 3000.0


def test_bad_registers_are_decode_errors_not_numbers():
    with pytest.raises(DecodeError, match="needs 2 registers"):
        decode([1], "uint32")
    with pytest.raises(DecodeError, match="not a finite number"):
        decode([0x7FC0, 0x0000], "float32")  # NaN
    with pytest.raises(DecodeError, match="16 bits"):
        decode([70000], "uint16")
    with pytest.raises(ValueError, match="does not fit a uint16"):
        encode(70000, "uint16")


def test_round_trip_is_what_a_device_reads_back():
    assert round_trip(1234.56, "uint16", "W", scale=0.1) == pytest.approx(1234.6)
    assert round_trip(2.0, "bool", "1") == 1.0
    assert round_trip(1500.0, "int32", "kW", scale=0.001) == 1500.0  # 1.5 kW in W steps


@given(st.sampled_from(sorted(TYPES)), st.sampled_from(["big", "little"]), st.sampled_from(["big", "little"]),
       st.integers(min_value=0, max_value=2**64 - 1))
def test_every_type_and_order_round_trips(type_, byte_order, word_order, seed):
    code, n = TYPES[type_]
    raw = seed.to_bytes(8, "big")[-2 * n:]
    value = struct.unpack(f">{code}", raw)[0]
    if code in "fd" and not math.isfinite(value):
        return
    registers = encode(value, type_, byte_order=byte_order, word_order=word_order)
    assert len(registers) == n
    back = decode(registers, type_, byte_order=byte_order, word_order=word_order)
    assert back == value or (value != value and back != back)
