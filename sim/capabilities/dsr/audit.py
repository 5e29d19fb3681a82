"""Audit of micro-DSR from a results folder: who was delayed when, by how much, for which DR event — rebuilt
from the ledger's contract events alone — checked event by event and against the contract's counters.

Checks on every ``DelayLogged`` event (each failure names the event: block, log index, transaction):
the outlet was registered (``OutletRegistered``) to that customer and appliance; the DR event exists
(``DrEventCreated``) and the delay lies inside it; once per outlet and event; within the customer's
registered limits (per event, per local day, no-delay hours) and the outlet's rated power; tokens =
shifted Wh x tokens per kWh, minted to the customer in the same transaction; and the hash chain: the
event's ``head`` is keccak(previous head, outlet, customer, event id, appliance, start, delay, shifted Wh),
so an edited event breaks the chain exactly there.
Then every customer's delay minutes, DR events, delays, shifted Wh and token balance (replayed from the
``Transfer`` events) are recomputed and compared with the counters read from the contract at the end of the
run (``summary.json``: ``dsr.on_chain``, which the chain does not outlive), as are the totals, the token
supply (= tokens per kWh x total shifted Wh = sum of balances) and the last head. Every data file's sha256 is
checked against the one the manifest recorded when the run wrote it (``readings.parquet``, which holds only the
households' meters that nothing settles, has no other record to be checked against).
What the audit cannot see: a forgery that edits the ledger, recomputes the heads (keccak, no secret), rewrites
``dsr.on_chain`` in the summary and the manifest's hashes to agree; that needs re-running the scenario (issue 22).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import eth_abi
import numpy as np
import pandas as pd
from eth_utils import keccak

from contracts.flex import FLEX_UNITS_PER_TOKEN
from sim.results.folder import changed_files
from sim.results.summary import event_args

CONTRACT = "FlexDelays"
ZERO = "0x0000000000000000000000000000000000000000"
MINUTES_PER_DAY = 1440
HEAD_TYPES = ["bytes32", "address", "address", "uint256", "uint8", "uint256", "uint256", "uint256"]


@dataclass
class Rebuilt:
    config: dict
    outlets: pd.DataFrame
    events: pd.DataFrame
    delays: pd.DataFrame
    balances: dict[str, int]
    violations: list[str] = field(default_factory=list)
    head: str = "0x" + "00" * 32


def _frame(ledger: pd.DataFrame, event: str, columns: list[str]) -> pd.DataFrame:
    df = event_args(ledger, CONTRACT, event) if len(ledger) else pd.DataFrame()
    if df.empty:
        return pd.DataFrame(columns=columns)
    rows = ledger.loc[df.index]
    return df.assign(block=rows.block.to_numpy(), log_index=rows.log_index.to_numpy(), tx_hash=rows.tx_hash.to_numpy())


def name_of(row) -> str:
    return (f"DelayLogged at block {row.block} log {row.log_index} (tx {str(row.tx_hash)[:12]}…, "
            f"outlet {row.outlet[:10]}…, DR event {row.event_id})")


def _hours(local_min: int, delay_min: int) -> range:
    return range(local_min // 60, (local_min + delay_min - 1) // 60 + 1)


def rebuild(ledger: pd.DataFrame) -> Rebuilt:
    """Who-when-what from the ledger's FlexDelays events, with every per-event check (see the module doc)."""
    cfg = _frame(ledger, "Configured", ["t0", "day_offset_min", "tokens_per_kwh"])
    config = cfg.iloc[0].to_dict() if len(cfg) else {"t0": 0, "day_offset_min": 0, "tokens_per_kwh": 0}
    outlets = _frame(ledger, "OutletRegistered", ["outlet", "customer", "appliance", "max_w", "max_delay_per_event_min",
                                                  "max_delay_per_day_min", "no_delay_hours"])
    events = _frame(ledger, "DrEventCreated", ["event_id", "start_min", "duration_min", "requested_w"])
    delays = _frame(ledger, "DelayLogged", ["outlet", "customer", "event_id", "appliance", "start_min", "delay_min",
                                            "shifted_wh", "tokens", "head", "block", "log_index", "tx_hash"])
    transfers = _frame(ledger, "Transfer", ["sender", "receiver", "value", "block", "log_index", "tx_hash"])
    out = Rebuilt(config, outlets, events, delays, {})
    reg = {r.outlet: r for r in outlets.itertuples()}
    evs = {r.event_id: r for r in events.itertuples()}
    mints = {(r.tx_hash, r.log_index): r for r in transfers.itertuples() if r.sender == ZERO}
    day_used: dict[tuple[str, int], int] = {}
    seen: set[tuple[int, str]] = set()
    head = bytes(32)
    tpk = int(config["tokens_per_kwh"])
    for d in delays.itertuples():
        bad = []
        spec, ev = reg.get(d.outlet), evs.get(d.event_id)
        local = int(config["day_offset_min"]) + d.start_min
        if spec is None:
            bad.append("outlet not registered")
        else:
            if spec.customer != d.customer or spec.appliance != d.appliance:
                bad.append("customer or appliance differs from the registration")
            if d.delay_min > spec.max_delay_per_event_min:
                bad.append(f"delay {d.delay_min} min above the per-event limit {spec.max_delay_per_event_min}")
            key = (d.outlet, local // MINUTES_PER_DAY)
            day_used[key] = day_used.get(key, 0) + d.delay_min
            if day_used[key] > spec.max_delay_per_day_min:
                bad.append(f"{day_used[key]} min on its day, above the daily limit {spec.max_delay_per_day_min}")
            if any((spec.no_delay_hours >> (h % 24)) & 1 for h in _hours(local, d.delay_min)):
                bad.append("delay in a no-delay hour")
            if d.shifted_wh * 60 > spec.max_w * d.delay_min:
                bad.append("shifted energy above the outlet's rated power")
        if ev is None:
            bad.append("no such DR event")
        elif not (ev.start_min <= d.start_min and d.start_min + d.delay_min <= ev.start_min + ev.duration_min):
            bad.append("delay outside its DR event")
        if (d.event_id, d.outlet) in seen:
            bad.append("second delay of this outlet for this DR event (replay)")
        seen.add((d.event_id, d.outlet))
        if d.tokens != d.shifted_wh * tpk:
            bad.append(f"tokens {d.tokens} != shifted Wh x tokens per kWh = {d.shifted_wh * tpk}")
        mint = mints.get((d.tx_hash, d.log_index + 1))
        if mint is None or mint.receiver != d.customer or mint.value != d.tokens:
            bad.append("no matching token mint to the customer")
        expect = keccak(eth_abi.encode(HEAD_TYPES, [head, d.outlet, d.customer, d.event_id, d.appliance, d.start_min,
                                                    d.delay_min, d.shifted_wh]))
        if "0x" + expect.hex() != d.head:
            bad.append("hash chain broken: the event's fields do not give its logged head")
        head = bytes.fromhex(d.head[2:])
        out.violations += [f"{name_of(d)}: {b}" for b in bad]
    out.head = "0x" + head.hex()
    for t in transfers.itertuples():
        if t.sender != ZERO:
            out.balances[t.sender] = out.balances.get(t.sender, 0) - t.value
        out.balances[t.receiver] = out.balances.get(t.receiver, 0) + t.value
    return out


def customer_totals(rb: Rebuilt) -> pd.DataFrame:
    """Per customer address: delay_min, events, delays, shifted_wh, tokens (balance) from the ledger."""
    d = rb.delays
    customers = sorted(set(rb.outlets.customer) | set(d.customer) | set(rb.balances) - {ZERO})
    g = d.groupby("customer") if len(d) else None
    rows = []
    for c in customers:
        mine = g.get_group(c) if g is not None and c in g.groups else d.iloc[:0]
        rows.append({"customer": c, "delay_min": int(mine.delay_min.sum()), "events": int(mine.event_id.nunique()),
                     "delays": len(mine), "shifted_wh": int(mine.shifted_wh.sum()), "tokens": rb.balances.get(c, 0)})
    return pd.DataFrame(rows, columns=["customer", "delay_min", "events", "delays", "shifted_wh", "tokens"]
                        ).set_index("customer")


def jain(x) -> float:
    """Jain's fairness index (sum x)^2 / (n sum x^2): 1 when all equal, 1/n when one takes all (1 if all zero)."""
    x = np.asarray(x, dtype=float)
    sq = float((x**2).sum())
    return float(x.sum() ** 2 / (len(x) * sq)) if len(x) and sq > 0 else 1.0


def fairness_table(rb: Rebuilt, names: dict[str, str], n_days: float) -> pd.DataFrame:
    """Delay minutes per customer, per kWh of flexibility offered (rated kW x daily delay limit x days, summed
    over the customer's outlets, from the registrations); Jain's indices in ``attrs``."""
    tot = customer_totals(rb)
    o = rb.outlets
    offered = (o.max_w / 1000.0 * o.max_delay_per_day_min / 60.0 * n_days).groupby(o.customer).sum() if len(o) \
        else pd.Series(dtype=float)
    n_out = o.groupby("customer").size() if len(o) else pd.Series(dtype=int)
    rows = []
    for c in offered.index:
        t = tot.loc[c] if c in tot.index else {"delay_min": 0, "events": 0, "shifted_wh": 0, "tokens": 0}
        rows.append({"customer": names.get(c, c), "outlets": int(n_out.get(c, 0)), "delay_min": int(t["delay_min"]),
                     "events": int(t["events"]), "shifted_kwh": t["shifted_wh"] / 1000,
                     "tokens": t["tokens"] / FLEX_UNITS_PER_TOKEN, "offered_kwh": float(offered[c]),
                     "delay_min_per_kwh_offered": t["delay_min"] / offered[c] if offered[c] else 0.0})
    table = pd.DataFrame(rows)
    table.attrs["jain_delay_min"] = jain(table.delay_min) if len(table) else 1.0
    table.attrs["jain_per_kwh_offered"] = jain(table.delay_min_per_kwh_offered) if len(table) else 1.0
    return table


def on_chain_units(final: dict, customer_ids: dict[str, str]) -> dict:
    """The contract's counters for summary.json's ``dsr.on_chain``: token amounts as the contract holds them, in
    base units (``tokens_units``, ``total_supply_units``: thousandths of a FLEX token), next to whole tokens
    (``tokens``), so that no field named ``tokens`` is ever in base units."""
    totals = dict(final.get("totals", {}))
    if "total_supply" in totals:
        totals["total_supply_units"] = totals.pop("total_supply")
        totals["tokens_total"] = totals["total_supply_units"] / FLEX_UNITS_PER_TOKEN
    customers = {}
    for address, v in final.get("customers", {}).items():
        v = dict(v)
        v["tokens_units"] = v.pop("tokens")
        customers[customer_ids[address]] = {"address": address, **v, "tokens": v["tokens_units"] / FLEX_UNITS_PER_TOKEN}
    return {"totals": totals, "customers": customers}


def compare(rb: Rebuilt, on_chain: dict) -> list[str]:
    """Mismatches between the ledger's recomputation and the contract's counters (``dsr.on_chain``)."""
    problems = []
    tot = customer_totals(rb)
    by_addr = {v["address"]: (cid, v) for cid, v in on_chain.get("customers", {}).items()}
    d = rb.delays
    for addr, (cid, chain) in by_addr.items():
        mine = tot.loc[addr] if addr in tot.index else pd.Series(0, index=tot.columns)
        for col, key in (("delay_min", "delay_min"), ("events", "events"), ("delays", "delays"),
                         ("shifted_wh", "shifted_wh"), ("tokens", "tokens_units")):
            if int(mine[col]) != int(chain[key]):
                evs = [name_of(r) for r in d[d.customer == addr].itertuples()] if len(d) else []
                problems.append(f"customer {cid}: {key} from the ledger {int(mine[col])} != contract {chain[key]}; "
                                f"its events: " + ("; ".join(evs) or "none"))
    t = on_chain.get("totals", {})
    tpk = int(rb.config["tokens_per_kwh"])
    recomputed = {"total_delay_min": int(d.delay_min.sum()) if len(d) else 0,
                  "total_shifted_wh": int(d.shifted_wh.sum()) if len(d) else 0, "n_delays": len(d),
                  "n_events": len(rb.events), "n_outlets": len(rb.outlets),
                  "total_supply_units": sum(v for a, v in rb.balances.items() if a != ZERO), "log_head": rb.head}
    for key, value in recomputed.items():
        if key in t and t[key] != value:
            problems.append(f"{key}: ledger gives {value}, contract holds {t[key]}")
    if t and t.get("total_supply_units") != tpk * t.get("total_shifted_wh", -1):
        problems.append("token supply != tokens per kWh x total shifted Wh on chain")
    return problems


def audit_folder(folder: str | Path) -> tuple[bool, pd.DataFrame, list[str]]:
    """Audit a results folder: (passed, fairness table, problems naming events or customers)."""
    folder = Path(folder)
    ledger = pd.read_parquet(folder / "ledger.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    if "dsr" not in summary:
        raise ValueError(f"{folder}: this run has no [dsr] capability to audit")
    on_chain = summary["dsr"]["on_chain"]
    rb = rebuild(ledger)
    names = {v["address"]: cid for cid, v in on_chain.get("customers", {}).items()}
    n_days = summary["run"]["steps"] * summary["run"]["step_s"] / 86_400
    table = fairness_table(rb, names, n_days)
    problems = changed_files(folder) + rb.violations + compare(rb, on_chain)
    return not problems, table, problems
