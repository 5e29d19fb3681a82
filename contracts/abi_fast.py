"""ABI encoding of call arguments without eth_abi's per-value machinery, for the types the contracts take:
``uintN``, ``intN``, ``address``, ``bool``, ``bytes1..32``, ``bytes``, arrays ``T[]`` and ``T[k]`` and tuples
(structs). Any other type (``string``) returns None from ``encoder_for`` and the caller uses eth_abi. Tests
check the output against eth_abi byte for byte."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Encoder = Callable[[Any], bytes]


def _split_tuple(t: str) -> list[str]:
    """Top-level components of ``(a,b,(c,d)[])``."""
    parts, depth, start = [], 0, 1
    for i, ch in enumerate(t):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 1:
            parts.append(t[start:i])
            start = i + 1
    last = t[start : t.rindex(")")]
    if last:
        parts.append(last)
    return parts


def _node(t: str):
    """(dynamic, static size in bytes or None, encoder) for type ``t``, or None if not supported."""
    if t.endswith("[]"):
        inner = _node(t[:-2])
        if inner is None:
            return None
        enc = _tuple_encoder([inner], repeat=True)
        return True, None, lambda v: len(v).to_bytes(32, "big") + enc(v)
    if t.endswith("]"):  # T[k]: k elements in place, as a tuple of k T
        base, _, k = t[:-1].rpartition("[")
        inner = _node(base)
        if inner is None or not k.isdigit():
            return None
        dynamic, size, _ = inner
        return dynamic, None if dynamic else size * int(k), _tuple_encoder([inner] * int(k))
    if t.startswith("("):
        children = [_node(c) for c in _split_tuple(t)]
        if any(c is None for c in children):
            return None
        dynamic = any(c[0] for c in children)
        return dynamic, None if dynamic else sum(c[1] for c in children), _tuple_encoder(children)
    if t.startswith("uint"):
        bits = int(t[4:] or 256)

        def enc_uint(v, bits=bits):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v.bit_length() > bits:
                raise ValueError(f"{v!r} is not a uint{bits}")
            return v.to_bytes(32, "big")

        return False, 32, enc_uint
    if t.startswith("int"):
        bits = int(t[3:] or 256)

        def enc_int(v, bits=bits):
            if not isinstance(v, int) or isinstance(v, bool) or not -(1 << (bits - 1)) <= v < (1 << (bits - 1)):
                raise ValueError(f"{v!r} is not an int{bits}")
            return v.to_bytes(32, "big", signed=True)

        return False, 32, enc_int
    if t == "address":

        def enc_address(v):
            raw = bytes.fromhex(v[2:]) if isinstance(v, str) else bytes(v)
            if len(raw) != 20:
                raise ValueError(f"{v!r} is not an address")
            return bytes(12) + raw

        return False, 32, enc_address
    if t == "bool":
        return False, 32, lambda v: (1 if v else 0).to_bytes(32, "big")
    if t == "bytes":

        def enc_dynamic_bytes(v):
            if not isinstance(v, bytes | bytearray):
                raise ValueError(f"{v!r} is not bytes")
            raw = bytes(v)
            return len(raw).to_bytes(32, "big") + raw + bytes(-len(raw) % 32)

        return True, None, enc_dynamic_bytes
    if t.startswith("bytes") and t[5:].isdigit():
        size = int(t[5:])

        def enc_bytes(v, size=size):
            raw = bytes.fromhex(v[2:]) if isinstance(v, str) else bytes(v)
            if len(raw) > size:
                raise ValueError(f"{len(raw)} bytes do not fit bytes{size}")
            return raw + bytes(32 - len(raw))

        return False, 32, enc_bytes
    return None


def _tuple_encoder(children: list, repeat: bool = False) -> Encoder:
    """Head/tail encoding of a tuple; with ``repeat``, of a sequence of values of the one child type. Children
    all static (a reading, a batch of readings): the heads alone, one after the other."""
    if not any(dyn for dyn, _, _ in children):
        encoders = [e for _, _, e in children]
        if repeat:
            (one,) = encoders
            return lambda values: b"".join(map(one, values))

        def enc_static(values):
            if len(encoders) != len(values):
                raise ValueError(f"{len(values)} values for {len(encoders)} fields")
            return b"".join([e(v) for e, v in zip(encoders, values)])

        return enc_static

    def enc(values):
        kids = children * len(values) if repeat else children
        if len(kids) != len(values):
            raise ValueError(f"{len(values)} values for {len(kids)} fields")
        head_size = sum(32 if dyn else size for dyn, size, _ in kids)
        heads, tails, offset = [], [], head_size
        for (dyn, _, e), v in zip(kids, values):
            if dyn:
                body = e(v)
                heads.append(offset.to_bytes(32, "big"))
                tails.append(body)
                offset += len(body)
            else:
                heads.append(e(v))
        return b"".join(heads) + b"".join(tails)

    return enc


def encoder_for(types: list[str]) -> Encoder | None:
    """An encoder of an argument list of ``types`` (as ``eth_abi.encode(types, args)``), or None."""
    nodes = [_node(t) for t in types]
    if any(n is None for n in nodes):
        return None
    enc = _tuple_encoder(nodes)
    return lambda args: enc(list(args))
