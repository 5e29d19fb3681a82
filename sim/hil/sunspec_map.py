"""SunSpec register maps from pysunspec2's own model definitions (the JSON models it ships), and the codec of one
SunSpec point: its registers <-> its value, with the scale factor and the 'not implemented' values.

A SunSpec device holds, from a base address (40000, 0 or 50000), the marker 'SunS' (0x5375 0x6E53), then its
models one after the other, each ``ID, L, L registers of points``, and an end marker ``0xFFFF, 0``. A point's
place in its model, its type, size, unit and scale-factor point come from the model definition; nothing here is
a hand-written register map. Traps handled here:

- scale factors: a ``sunssf`` point (int16, -10..10) gives ``value = raw x 10**sf``; it may change at run
  time, so a reader reads it with the value, every time;
- 'not implemented': int16/sunssf 0x8000, uint16/enum16/bitfield16/count 0xFFFF, acc16/acc32/acc64 0,
  int32 0x80000000, uint32 0xFFFFFFFF, 64-bit likewise, float NaN. An accumulator reading 0 is therefore 'not
  implemented', not zero energy (as pysunspec2 reads it);
- word order: SunSpec is big-endian throughout (most significant register first); acc32 and acc64 are unsigned.

References: SunSpec Alliance, *SunSpec Information Model Reference* and *SunSpec Modbus* specifications;
pysunspec2 1.3 (``sunspec2/models/json``, ``sunspec2/mb.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from sim.hil.registers import decode, encode

SUNS_MARKER = (0x5375, 0x6E53)  # 'SunS'
END_MODEL = (0xFFFF, 0)
BASE_ADDRESSES = (40000, 0, 50000)  # in the order SunSpec clients try them
SF_RANGE = range(-10, 11)

# SunSpec type -> the register codec's type (sim.hil.registers); strings are handled apart
CODEC_TYPE = {"int16": "int16", "uint16": "uint16", "count": "uint16", "acc16": "uint16", "enum16": "uint16",
              "bitfield16": "uint16", "pad": "uint16", "sunssf": "int16", "int32": "int32", "uint32": "uint32",
              "acc32": "uint32", "enum32": "uint32", "bitfield32": "uint32", "ipaddr": "uint32",
              "int64": "int64", "uint64": "uint64", "acc64": "uint64", "float32": "float32", "float64": "float64"}
# raw value meaning 'not implemented' (floats: NaN)
NOT_IMPLEMENTED = {"int16": -0x8000, "sunssf": -0x8000, "uint16": 0xFFFF, "count": 0xFFFF, "enum16": 0xFFFF,
                   "bitfield16": 0xFFFF, "acc16": 0, "acc32": 0, "acc64": 0, "int32": -0x80000000,
                   "uint32": 0xFFFFFFFF, "enum32": 0xFFFFFFFF, "bitfield32": 0xFFFFFFFF, "ipaddr": 0,
                   "int64": -0x8000000000000000, "uint64": 0xFFFFFFFFFFFFFFFF}
NUMERIC = set(CODEC_TYPE) - {"pad", "sunssf", "enum16", "enum32", "bitfield16", "bitfield32", "ipaddr"}


class SunSpecMapError(ValueError):
    """A model or point that pysunspec2's definitions do not have, or one this code cannot serve."""


@dataclass(frozen=True)
class PointDef:
    """One point of a model: ``offset`` registers from the model's ID register, ``size`` registers."""

    name: str
    offset: int
    size: int
    type: str
    units: str | None
    sf: str | int | None  # the scale-factor point's name, a fixed exponent, or None
    mandatory: bool


@dataclass(frozen=True)
class ModelDef:
    model_id: int
    name: str
    points: tuple[PointDef, ...]  # ID and L included

    @property
    def length(self) -> int:
        """L: registers after ID and L."""
        return sum(p.size for p in self.points) - 2

    def point(self, name: str) -> PointDef:
        for p in self.points:
            if p.name == name:
                return p
        raise SunSpecMapError(f"model {self.model_id} ({self.name}) has no point {name!r} "
                              f"(points: {', '.join(p.name for p in self.points[2:])})")

    def sf_point(self, p: PointDef) -> PointDef | None:
        return self.point(p.sf) if isinstance(p.sf, str) else None


@cache
def model_def(model_id: int) -> ModelDef:
    """The model's layout from pysunspec2's definition (top-level points and fixed groups, in order)."""
    from sunspec2 import device

    try:
        raw = device.get_model_def(model_id)
    except Exception as exc:  # pysunspec2 raises ModelDefinitionError for an unknown id
        raise SunSpecMapError(f"model {model_id}: pysunspec2 has no definition for it ({exc})") from None
    points: list[PointDef] = []

    def walk(group: dict, offset: int) -> int:
        if group.get("count") not in (None, 1):
            raise SunSpecMapError(f"model {model_id}: repeating group {group['name']!r} is not supported here")
        for p in group.get("points", []):
            size = int(p.get("size", 1))
            sf = p.get("sf")
            sf = int(sf) if isinstance(sf, str) and sf.lstrip("-").isdigit() else sf  # a fixed exponent
            points.append(PointDef(p["name"], offset, size, p["type"], p.get("units"), sf, p.get("mandatory") == "M"))
            offset += size
        for g in group.get("groups", []):
            offset = walk(g, offset)
        return offset

    walk(raw["group"], 0)
    return ModelDef(model_id, raw["group"]["name"], tuple(points))


def has_model(model_id: int) -> bool:
    try:
        model_def(model_id)
    except SunSpecMapError:
        return False
    return True


# codec --------------------------------------------------------------------------------------------------------
def encode_raw(p: PointDef, raw: int | float | str | None) -> list[int]:
    """The point's registers holding ``raw`` (the unscaled register value; None: 'not implemented')."""
    if p.type == "string":
        data = (raw or "").encode()[: 2 * p.size].ljust(2 * p.size, b"\0")
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
    if p.type not in CODEC_TYPE:
        return [0] * p.size if raw is None else _unsupported(p)
    if raw is None:
        if p.type.startswith("float"):
            return [0x7FC0, 0] if p.type == "float32" else [0x7FF8, 0, 0, 0]
        raw = NOT_IMPLEMENTED.get(p.type, 0)
    return encode(raw, CODEC_TYPE[p.type])


def _unsupported(p: PointDef):
    raise SunSpecMapError(f"point {p.name!r}: type {p.type!r} cannot be given a value here")


def decode_raw(p: PointDef, words: list[int]) -> int | float | str | None:
    """The unscaled value of the point's registers, None when they hold the 'not implemented' value."""
    if p.type == "string":
        text = b"".join(w.to_bytes(2, "big") for w in words).split(b"\0")[0].decode(errors="replace")
        return text or None
    if p.type not in CODEC_TYPE:
        return None
    if p.type.startswith("float"):
        value = _float(words, p.type)
        return None if math.isnan(value) else value
    value = int(decode(words, CODEC_TYPE[p.type]))
    return None if value == NOT_IMPLEMENTED.get(p.type) else value


def _float(words: list[int], type_: str) -> float:
    import struct

    return struct.unpack(">f" if type_ == "float32" else ">d", b"".join(w.to_bytes(2, "big") for w in words))[0]


def scaled(raw: float, sf: int) -> float:
    """``raw x 10**sf``, rounded to the scale's decimals as pysunspec2 does (``Point.get_value(computed=True)``)."""
    if sf not in SF_RANGE:
        raise SunSpecMapError(f"scale factor {sf} outside -10..10")
    return round(raw * math.pow(10, sf), -sf) if sf else raw


def raw_of(value: float, sf: int, *, floor: bool = False) -> int:
    """The register value carrying the engineering ``value`` at scale ``sf`` (an accumulator counts whole steps:
    ``floor``)."""
    x = value / math.pow(10, sf)
    return math.floor(x + 1e-9) if floor else round(x)
