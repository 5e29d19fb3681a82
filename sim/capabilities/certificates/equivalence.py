"""Whether two runs of one scenario settled their certificates alike: the bulk path (``[certificates] settlement =
"bulk"``) against the per-action reference (``"per_action"``). For the accuracy test and the benchmarks.

What must be equal: the Certificates events as a multiset (mints, caps, consumption, every transfer and burn,
every claim), but for what the paths do differently by design (the burn's ``operator``: the exchange in bulk, the
consumer per action; ``Issued.issued_at``: a day's end in bulk, the interval's settlement per action; the
consumers' ``RetirerApproved`` of the exchange, bulk only); the balances, mints and retirements replayed from the
ledger; the summary's certificate figures (totals, hourly CFE and annual matching scores per consumer and in all,
per-site figures, refusals); and the readings log (every meter's interval with the same status and reason).
"""

from __future__ import annotations

import json
from collections import Counter

import pandas as pd

from sim.capabilities.certificates.ledger import CONTRACT, replay

BY_DESIGN = {"TransferSingle": ("operator",), "Issued": ("issued_at",)}  # arguments that differ by design
BULK_ONLY = ("RetirerApproved",)


def certificate_events(ledger: pd.DataFrame) -> Counter:
    """The Certificates events of a ledger as a multiset of (event, arguments but those differing by design)."""
    rows = ledger[(ledger.contract == CONTRACT) & ~ledger.event.isin(BULK_ONLY)]
    out: Counter = Counter()
    for event, args in zip(rows.event, rows.args):
        a = {k: v for k, v in json.loads(args).items() if k not in BY_DESIGN.get(event, ())}
        out[(event, json.dumps(a, sort_keys=True))] += 1
    return out


def settlement_differences(bulk_ledger: pd.DataFrame, bulk_summary: dict, ref_ledger: pd.DataFrame,
                           ref_summary: dict, bulk_readings: pd.DataFrame | None = None,
                           ref_readings: pd.DataFrame | None = None) -> list[str]:
    """Every difference between a bulk run and its per-action reference (an empty list: none)."""
    out = []
    a, b = certificate_events(bulk_ledger), certificate_events(ref_ledger)
    for name, extra in (("bulk", a - b), ("per_action", b - a)):
        kinds = Counter(event for event, _ in extra.elements())
        if kinds:
            out.append(f"events only in the {name} run: {dict(kinds)}, e.g. {next(iter(extra))}")
    sa, sb = replay(bulk_ledger), replay(ref_ledger)
    for what in ("balances", "minted", "retired", "retired_by", "claimed", "consumed", "violations"):
        x, y = getattr(sa, what), getattr(sb, what)
        if isinstance(x, dict):
            x, y = {k: v for k, v in x.items() if v}, {k: v for k, v in y.items() if v}
        if x != y:
            out.append(f"replayed {what} differ ({len(x)} against {len(y)} entries)")
    ca, cb = bulk_summary.get("certificates", {}), ref_summary.get("certificates", {})
    for key in sorted(set(ca) | set(cb)):
        if ca.get(key) != cb.get(key):
            out.append(f"summary certificates.{key}: {ca.get(key)!r} in bulk, {cb.get(key)!r} per action")
    if bulk_readings is not None and ref_readings is not None:
        cols = ["meter", "period", "energy_wh", "quality", "status", "reason"]
        ra = bulk_readings[cols].sort_values(["meter", "period"]).reset_index(drop=True)
        rb = ref_readings[cols].sort_values(["meter", "period"]).reset_index(drop=True)
        if not ra.equals(rb):
            out.append("readings logs differ")
    return out
