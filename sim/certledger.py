"""The Certificates contract's state rebuilt from its decoded events alone, in chain order, and the
no-double-counting checks on it.

This is an audit: the contract is the source of truth, and tests compare this replay with what the contract
returns. A replay that finds a debit larger than the holder's balance at that point of the chain, a mint above
its cap or its metered energy, or live + retired != minted for an id reports it in ``violations``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

CONTRACT = "Certificates"
ZERO = "0x" + "00" * 20


@dataclass
class CertState:
    balances: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    retired_by: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    minted: dict[int, int] = field(default_factory=dict)
    metered: dict[int, int] = field(default_factory=dict)
    caps: dict[int, int] = field(default_factory=dict)
    weather_hash: dict[int, str] = field(default_factory=dict)
    retired: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    consumed: dict[tuple[str, int], int] = field(default_factory=dict)
    claimed: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    violations: list[str] = field(default_factory=list)

    @property
    def total_minted(self) -> int:
        return sum(self.minted.values())

    @property
    def total_retired(self) -> int:
        return sum(self.retired.values())

    def live_by_id(self) -> dict[int, int]:
        """Sum of the holders' balances per id [Wh]."""
        out: dict[int, int] = defaultdict(int)
        for (_, id_), wh in self.balances.items():
            out[id_] += wh
        return out


def _apply(s: CertState, event: str, a: dict) -> None:
    if event == "CapPosted":
        s.caps[a["id"]], s.weather_hash[a["id"]] = a["cap_wh"], a["weather_hash"]
    elif event == "Issued":
        id_ = a["id"]
        if id_ in s.minted:
            s.violations.append(f"id {id_}: minted twice")
        if a["amount_wh"] > min(s.caps.get(id_, -1), a["metered_wh"]):
            s.violations.append(f"id {id_}: minted {a['amount_wh']} Wh above min(cap, metered)")
        s.minted[id_], s.metered[id_] = a["amount_wh"], a["metered_wh"]
    elif event == "ConsumptionRecorded":
        s.consumed[(a["consumer"], a["period"])] = a["energy_wh"]
    elif event == "TransferSingle":
        id_, wh = a["id"], a["amount_wh"]
        if a["sender"] != ZERO:
            if wh > s.balances[(a["sender"], id_)]:
                s.violations.append(f"id {id_}: {a['sender']} moved {wh} Wh it did not hold")
            s.balances[(a["sender"], id_)] -= wh
        if a["receiver"] != ZERO:
            s.balances[(a["receiver"], id_)] += wh
    elif event == "Retired":
        id_, key = a["id"], (a["beneficiary"], a["consumption_interval"])
        s.retired[id_] += a["amount_wh"]
        s.retired_by[(a["holder"], id_)] += a["amount_wh"]
        s.claimed[key] += a["amount_wh"]
        if s.claimed[key] > s.consumed.get(key, -1):
            s.violations.append(f"{key}: claims above metered consumption")


def replay(ledger: pd.DataFrame) -> CertState:
    """Rebuild the Certificates state from a ledger (``ledger.parquet`` or ``sim.summary.ledger_frame``)."""
    s = CertState()
    rows = ledger[ledger.contract == CONTRACT]
    for event, args in zip(rows.event, rows.args):
        _apply(s, event, json.loads(args))
    live = s.live_by_id()
    for id_, minted in s.minted.items():
        if live.get(id_, 0) + s.retired.get(id_, 0) != minted:
            s.violations.append(f"id {id_}: live + retired != minted")
    if s.total_retired > s.total_minted:
        s.violations.append("more retired than minted")
    return s
