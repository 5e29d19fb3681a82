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

from contracts.certificates import split_id
from sim.results.summary import event_args

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
    """Rebuild the Certificates state from a ledger (``ledger.parquet`` or ``sim.results.summary.ledger_frame``)."""
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


def _args(ledger: pd.DataFrame, event: str) -> pd.DataFrame:
    return event_args(ledger, CONTRACT, event)


def site_totals(ledger: pd.DataFrame) -> pd.DataFrame:
    """Per device (index: name): device_id, technology, nameplate_kw, cap_wh (all posted intervals), minted_wh,
    metered_wh and cap_wh_minted (over the minted intervals), intervals minted and with a zero cap."""
    devices = _args(ledger, "DeviceRegistered").set_index("device_id")
    caps, issued = _args(ledger, "CapPosted"), _args(ledger, "Issued")
    out = pd.DataFrame({"name": devices.name, "technology": devices.technology,
                        "nameplate_kw": devices.nameplate_w / 1000})
    by = lambda df, col, how="sum": (getattr(df.groupby("device_id")[col], how)() if len(df)  # noqa: E731
                                     else pd.Series(dtype=float))
    out["cap_wh"] = by(caps, "cap_wh")
    out["intervals_cap_zero"] = by(caps.assign(zero=caps.get("cap_wh", pd.Series(dtype=int)) == 0), "zero")
    out["minted_wh"] = by(issued, "amount_wh")
    out["metered_wh"] = by(issued, "metered_wh")
    out["cap_wh_minted"] = by(issued, "cap_wh")
    out["intervals_minted"] = by(issued, "amount_wh", "count")
    return out.fillna(0).rename_axis("device_id").reset_index().set_index("name")


def consumer_scores(ledger: pd.DataFrame) -> pd.DataFrame:
    """Per consumer (index: name): consumed_wh (signed consumption readings), matched_wh (retired for it
    against the certificate's own interval: 24/7 matching), ``hourly_cfe_score`` = matched / consumed, and
    ``annual_matching_score`` = min(1, all certificates minted / all consumption): what volumetric (annual)
    matching shows when each consumer is attributed the certificates pro rata to its consumption."""
    consumers = _args(ledger, "ConsumerRegistered").set_index("consumer")
    used, retired = _args(ledger, "ConsumptionRecorded"), _args(ledger, "Retired")
    consumed = used.groupby("consumer").energy_wh.sum() if len(used) else pd.Series(dtype=float)
    if len(retired):
        same = retired[[split_id(i)[1] == c for i, c in zip(retired.id, retired.consumption_interval)]]
        matched = same.groupby("beneficiary").amount_wh.sum()
    else:
        matched = pd.Series(dtype=float)
    out = pd.DataFrame({"name": consumers.name})
    out["consumed_wh"] = consumed.reindex(out.index, fill_value=0)
    out["matched_wh"] = matched.reindex(out.index, fill_value=0)
    out["hourly_cfe_score"] = (out.matched_wh / out.consumed_wh.where(out.consumed_wh > 0)).fillna(0.0)
    minted = _args(ledger, "Issued")
    total_minted = float(minted.amount_wh.sum()) if len(minted) else 0.0
    total_consumed = float(out.consumed_wh.sum())
    out["annual_matching_score"] = min(1.0, total_minted / total_consumed) if total_consumed else 0.0
    return out.reset_index().set_index("name")
