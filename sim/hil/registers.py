"""Modbus register encoding: a point's value <-> the 16-bit registers (or one coil) that carry it.

Modbus itself only defines 16-bit registers and single bits; devices put wider values across several
registers in an order of their own. A point is described by its ``type`` (``uint16`` … ``float64``, or
``bool`` for a coil), ``byte_order`` (the order of the two bytes inside each register; Modbus says ``big``)
and ``word_order`` (the order of the registers; ``big`` = most significant register first, the "ABCD" of
device manuals; ``little`` = "CDAB"; both ``little`` = "DCBA"), and ``scale`` (engineering value =
raw x scale), then converted from the device's ``unit`` into the twin's (Wh, W, s).

Pure functions, no pymodbus: the bridge and the device simulator share them, so a value the simulator
encodes is decoded by the bridge through the same, separately tested code.
"""

from __future__ import annotations

import math
import struct

# type -> (struct code, number of registers)
TYPES: dict[str, tuple[str, int]] = {
    "uint16": ("H", 1), "int16": ("h", 1),
    "uint32": ("I", 2), "int32": ("i", 2),
    "uint64": ("Q", 4), "int64": ("q", 4),
    "float32": ("f", 2), "float64": ("d", 4),
}
COIL_TYPE = "bool"

# unit a device may use -> (twin unit, factor to the twin unit)
UNITS: dict[str, tuple[str, float]] = {
    "Wh": ("Wh", 1.0), "kWh": ("Wh", 1000.0), "MWh": ("Wh", 1e6),
    "W": ("W", 1.0), "kW": ("W", 1000.0),
    "s": ("s", 1.0), "min": ("s", 60.0),
    "1": ("1", 1.0),
}


class DecodeError(ValueError):
    """Registers that do not hold a usable value (wrong count, not a finite number)."""


def register_count(type_: str) -> int:
    """How many 16-bit registers (or coils) a point of this type occupies."""
    return 1 if type_ == COIL_TYPE else TYPES[type_][1]


def _ordered(raw: bytes, byte_order: str, word_order: str) -> bytes:
    """Reorder big-endian bytes into the device's layout (the operation is its own inverse)."""
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if byte_order == "little":
        words = [w[::-1] for w in words]
    if word_order == "little":
        words.reverse()
    return b"".join(words)


def decode(registers: list[int], type_: str, *, scale: float = 1.0, byte_order: str = "big",
           word_order: str = "big") -> float:
    """Engineering value of a point (raw x scale) from its registers, in the device's unit."""
    if type_ == COIL_TYPE:
        raise DecodeError("a coil is read as a bit, not decoded from registers")
    code, n = TYPES[type_]
    if len(registers) != n or any(not 0 <= r <= 0xFFFF for r in registers):
        raise DecodeError(f"{type_} needs {n} registers of 16 bits, got {registers!r}")
    raw = _ordered(b"".join(r.to_bytes(2, "big") for r in registers), byte_order, word_order)
    value = struct.unpack(f">{code}", raw)[0]
    if not math.isfinite(value):
        raise DecodeError(f"{type_} registers {registers!r} hold {value}, not a finite number")
    return value if scale == 1 else value * scale  # keeps 64-bit integers exact


def encode(value: float, type_: str, *, scale: float = 1.0, byte_order: str = "big",
           word_order: str = "big") -> list[int]:
    """Registers that carry the engineering ``value`` (in the device's unit); integers are rounded."""
    code, _ = TYPES[type_]
    raw_value = value if scale == 1 else value / scale
    if code not in "fd":
        raw_value = round(raw_value)  # an int stays exact
    try:
        raw = struct.pack(f">{code}", raw_value)
    except struct.error as exc:
        raise ValueError(f"{value} (raw {raw_value}) does not fit a {type_}: {exc}") from None
    raw = _ordered(raw, byte_order, word_order)
    return [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]


def to_twin_unit(value: float, unit: str) -> float:
    """A value in the device's unit converted into the twin's (kWh -> Wh, kW -> W, min -> s)."""
    return value * UNITS[unit][1]


def from_twin_unit(value: float, unit: str) -> float:
    return value / UNITS[unit][1]


def round_trip(value: float, type_: str, unit: str, *, scale: float = 1.0) -> float:
    """What a device holding ``value`` (twin unit) reads back as, after encoding into its registers; a coil
    holds 0 or 1. Read-back checks compare against this, not against the unrounded command."""
    if type_ == COIL_TYPE:
        return float(bool(value))
    regs = encode(from_twin_unit(value, unit), type_, scale=scale)
    return to_twin_unit(decode(regs, type_, scale=scale), unit)
