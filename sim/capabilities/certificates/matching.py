"""Hourly matching statement per consumer, in the manner of EnergyTag's GC matching: for each hour (certificate
interval) the consumer's metered consumption, the certificates cancelled for it against that hour (by device), and
the hour's score = matched / consumption; totals: consumption, matched, unmatched, and the consumer's hourly
matching score = Σ matched / Σ consumption (the same as Σ min(consumption, matched) / Σ consumption, since the
contract never lets a claim exceed the hour's metered consumption).

Consumption and claims are the contract's own: ``consumed_wh(consumer, interval)`` and
``claimed_wh(consumer, interval)`` read on the replayed chain; the ledger's ``ConsumptionRecorded`` and ``Retired``
events say which hours exist and which devices the matched Wh came from, and must sum to the contract's figures
(``ChainMismatch`` otherwise). Energy in Wh; times UTC.

References: EnergyTag, *Granular Certificate Matching Standard* (4 March 2024), energytag.org/resources; the
hourly score is Google's "CFE score" (24/7 Carbon-Free Energy: Methodologies and Metrics, 2021) for one consumer.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pandas as pd

from contracts.certificates import split_id
from sim.capabilities.certificates.energytag import ChainMismatch, _utc, registry_of
from sim.capabilities.certificates.onchain import CONTRACT, ChainView, chain_view
from sim.results.summary import event_args


def _score(matched_wh: int, consumed_wh: int) -> float | None:
    return matched_wh / consumed_wh if consumed_wh else None


def statement(folder: str | Path, view: ChainView | None = None) -> dict:
    """The hourly matching statement of every registered consumer of the results folder ``folder``."""
    folder = Path(folder)
    own = view is None
    view = view or chain_view(folder)
    try:
        return _statement(pd.read_parquet(folder / "ledger.parquet"), view)
    finally:
        if own:
            view.close()


def _statement(ledger: pd.DataFrame, view: ChainView) -> dict:
    reg = registry_of(view)
    consumers = event_args(ledger, CONTRACT, "ConsumerRegistered")
    devices = event_args(ledger, CONTRACT, "DeviceRegistered").set_index("device_id").name.to_dict()
    used = event_args(ledger, CONTRACT, "ConsumptionRecorded")
    retired = event_args(ledger, CONTRACT, "Retired")
    hours: dict[str, dict[int, int]] = defaultdict(dict)  # consumer -> period -> quality
    for u in used.itertuples():
        hours[u.consumer][int(u.period)] = int(u.quality)
    sources: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in retired.itertuples():
        device_id, period = split_id(int(r.id))
        sources[(r.beneficiary, int(r.consumption_interval))][devices[device_id]] += int(r.amount_wh)
    pairs = [(c, p) for c in consumers.consumer for p in sorted(hours[c])]
    consumed, claimed = view.per_pair("consumed_wh", pairs), view.per_pair("claimed_wh", pairs)
    out = []
    for c in consumers.itertuples():
        rows = []
        for p in sorted(hours[c.consumer]):
            by_device = dict(sorted(sources.get((c.consumer, p), {}).items()))
            matched = claimed[(c.consumer, p)]
            if sum(by_device.values()) != matched:
                raise ChainMismatch(f"consumer {c.name}, interval {p}: the ledger's Retired events give "
                                    f"{sum(by_device.values())} Wh, the contract's claimed_wh {matched} Wh")
            start, end = _utc(reg.t0, reg.period_s, p)
            rows.append({"interval": p, "start_utc": start.isoformat(), "end_utc": end.isoformat(),
                         "consumption_wh": consumed[(c.consumer, p)], "estimated": bool(hours[c.consumer][p]),
                         "matched_wh": matched, "score": _score(matched, consumed[(c.consumer, p)]),
                         "matched_by_device_wh": by_device})
        unrecorded = sum(wh for (b, p), src in sources.items() if b == c.consumer and p not in hours[c.consumer]
                         for wh in src.values())
        if unrecorded:
            raise ChainMismatch(f"consumer {c.name}: {unrecorded} Wh retired against hours without recorded "
                                "consumption in the ledger")
        consumption = sum(r["consumption_wh"] for r in rows)
        matched = sum(r["matched_wh"] for r in rows)
        out.append({"consumer": c.name, "account": c.consumer, "hours": rows, "totals": {
            "hours": len(rows), "hours_fully_matched": sum(r["matched_wh"] == r["consumption_wh"] > 0 for r in rows),
            "hours_estimated": sum(r["estimated"] for r in rows), "consumption_wh": consumption,
            "matched_wh": matched, "unmatched_wh": consumption - matched,
            "hourly_matching_score": _score(matched, consumption)}})
    consumption = sum(s["totals"]["consumption_wh"] for s in out)
    matched = sum(s["totals"]["matched_wh"] for s in out)
    return {"registry": reg.model_dump(), "interval_s": reg.period_s, "consumers": out,
            "totals": {"consumers": len(out), "consumption_wh": consumption, "matched_wh": matched,
                       "unmatched_wh": consumption - matched, "hourly_matching_score": _score(matched, consumption),
                       "contract_retired_wh": view.totals()["retired_wh"]}}


def format_statement(s: dict) -> str:
    """The statement's totals as a table, one line per consumer [kWh]."""
    lines = [f"{'consumer':<14} {'hours':>5} {'full':>5} {'consumed kWh':>13} {'matched kWh':>12} {'score':>6}"]
    for c in s["consumers"]:
        t = c["totals"]
        score = "-" if t["hourly_matching_score"] is None else f"{t['hourly_matching_score']:.3f}"
        lines.append(f"{c['consumer']:<14} {t['hours']:>5} {t['hours_fully_matched']:>5} "
                     f"{t['consumption_wh'] / 1000:>13.3f} {t['matched_wh'] / 1000:>12.3f} {score:>6}")
    t = s["totals"]
    score = "-" if t["hourly_matching_score"] is None else f"{t['hourly_matching_score']:.3f}"
    lines.append(f"{'all':<14} {'':>5} {'':>5} {t['consumption_wh'] / 1000:>13.3f} {t['matched_wh'] / 1000:>12.3f} "
                 f"{score:>6}")
    lines.append(f"matched Wh = the contract's total_retired_wh ({t['contract_retired_wh']} Wh): "
                 + ("yes" if t["matched_wh"] == t["contract_retired_wh"] else "NO"))
    return "\n".join(lines)
