"""Integer allocation shared by several capabilities (VPP shares, certificate trades, heat substation states)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Non-negative integers proportional to ``weights`` summing to exactly ``total`` (Hamilton's method:
    floors, then one more unit each to the largest remainders; ties to the earliest)."""
    w = np.asarray(weights, dtype=float)
    exact = w / w.sum() * total
    out = np.floor(exact).astype(int)
    order = np.argsort(-(exact - out), kind="stable")
    out[order[: total - out.sum()]] += 1
    return [int(x) for x in out]
