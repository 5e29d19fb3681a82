"""Whether a certificates run's results folder still says what the run wrote: the checks ``gridledger trace``
makes on the whole folder before it answers for one certificate. Each check ties two records that a forger must
change together; a problem names the record (file, meter, period, certificate id).

1. ``manifest.json``'s sha256 of each data file (an edit of one file alone);
2. the ledger replayed alone (``ledger.replay``): no debit above a balance, no claim above the beneficiary's
   posted consumption, per id live + retired = minted, no mint above min(cap, metered);
3. the ledger against the contract's own counters, read from the chain at the end of the run and kept in
   ``summary.json`` (``on_chain_totals``: total minted and retired), and the summary's per-consumer and per-site
   figures recomputed from the ledger;
4. every ``Issued`` event's EIP-712 signature against the device's registered meter;
5. ``readings.parquet``: one row per registered meter and interval (no row missing, none added), the rejected
   rows as many as the run's VEE counted, each accepted reading equal to what the ledger recorded (a device's
   ``Issued.metered_wh``, a consumer's ``ConsumptionRecorded``), nothing on chain that the log does not show
   accepted, and each measured (or register-derived) value equal to the meter's integration of the power
   stored in ``timeseries.parquet`` (floor of the running register, as ``sim.measurement.meters`` reads it).
   Only in a run where certificates is the one capability with meters: in a community run the insurance reads
   the same sites' meters into the same table, and check 5 is skipped.

What it cannot see: a forgery that rewrites every record consistently (the ledger, the summary's copy of the
contract's counters, the readings, the stored power and the manifest's hashes), since the meters' keys derive
from the run's seed (a simulation) and nothing in the folder is signed by a key the folder does not disclose;
an estimated reading that went nowhere (an estimated production interval mints nothing, and its value has no
second record). Catching those needs re-running the scenario (issue 22).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from eth_keys import keys

from contracts.eip712 import QUALITY_MEASURED, domain_separator, reading_digest
from sim.capabilities.certificates.ledger import consumer_scores, replay
from sim.results.folder import changed_files
from sim.results.summary import event_args

CONTRACT = "Certificates"
POWER = ("generation_kw", "load_kw")  # a site meter integrates its generation, a consumer's meter its load
OTHER_METERED = {"vpp", "insurance", "heat"}  # capabilities whose meters share readings.parquet
EXACT_RULES = ("measured", "register")  # VEE rules whose value is the meter's register difference itself


def _close(a: float, b: float) -> bool:
    return abs(float(a) - float(b)) < 5e-4  # the summary's kWh with 3 decimals of whole Wh


def check_ledger(ledger: pd.DataFrame, summary: dict) -> list[str]:
    """Checks 2 and 3 (the ledger alone, then against the contract's counters and the summary)."""
    state = replay(ledger)
    out = [f"ledger.parquet: {v}" for v in state.violations]
    cert = summary.get("certificates", {})
    chain = cert.get("on_chain_totals", {})
    for key, wh in (("minted_kwh", state.total_minted), ("retired_kwh", state.total_retired)):
        if key not in chain or not _close(chain[key], wh / 1000):
            out.append(f"ledger.parquet gives {key} {wh / 1000:.3f}, the contract held {chain.get(key)} at the end "
                       f"of the run (summary.json on_chain_totals)")
        if key not in cert or not _close(cert[key], wh / 1000):
            out.append(f"summary.json {key} {cert.get(key)} != {wh / 1000:.3f} from ledger.parquet")
    scores = consumer_scores(ledger)
    detail = cert.get("consumer_detail", {})
    if set(detail) != set(scores.index):
        out.append(f"summary.json consumers {sorted(detail)} != registered in ledger.parquet {sorted(scores.index)}")
    for name, row in scores.iterrows():
        d = detail.get(name, {})
        for col in ("consumed", "matched"):
            if not _close(d.get(f"{col}_kwh", -1), row[f"{col}_wh"] / 1000):
                out.append(f"consumer {name}: {col} {row[f'{col}_wh'] / 1000:.3f} kWh from ledger.parquet, "
                           f"{d.get(f'{col}_kwh')} in summary.json")
    return out


def check_signatures(ledger: pd.DataFrame, summary: dict) -> list[str]:
    """Check 4: each mint's reading was signed by its device's registered meter."""
    issued = event_args(ledger, CONTRACT, "Issued")
    if issued.empty:
        return []
    meters = event_args(ledger, CONTRACT, "DeviceRegistered").set_index("device_id").meter.to_dict()
    dom = domain_separator(summary["chain"]["chain_id"], summary["chain"]["contracts"][CONTRACT])
    out = []
    for i in issued.itertuples():
        digest = reading_digest(dom, i.meter, i.period, i.metered_wh, QUALITY_MEASURED)
        try:
            sig = keys.Signature(vrs=(i.v - 27, int(i.r, 16), int(i.s, 16)))
            signer = sig.recover_public_key_from_msg_hash(digest).to_checksum_address()
        except Exception:  # noqa: BLE001 - any malformed signature is a mismatch, never a traceback
            signer = None
        if signer is None or signer != i.meter or meters.get(i.device_id) != i.meter:
            out.append(f"certificate {i.id}: its Issued reading ({i.metered_wh} Wh, interval {i.period}) is not "
                       f"signed by device {i.device_id}'s registered meter")
    return out


def _meter_energy(ts: pd.DataFrame, entity: str, step_s: int, steps_per_period: int) -> np.ndarray | None:
    """Each interval's energy as the meter reads it from the stored power: floor of the running register [Wh]."""
    q = ts[(ts.entity == entity) & ts.quantity.isin(POWER)].sort_values("time")
    if q.empty or len(q) % steps_per_period:
        return None
    register = np.floor(np.cumsum(q.value.to_numpy(dtype=float) * step_s / 3.6)[steps_per_period - 1::steps_per_period])
    return np.diff(np.concatenate([[0.0], register]))


def check_readings(readings: pd.DataFrame, ledger: pd.DataFrame, ts: pd.DataFrame, summary: dict) -> list[str]:
    """Check 5: readings.parquet against the registered meters, the ledger and the stored power."""
    run = summary["run"]
    n, per = int(run["periods"]), int(run["settlement_s"]) // int(run["step_s"])
    devices = event_args(ledger, CONTRACT, "DeviceRegistered")
    consumers = event_args(ledger, CONTRACT, "ConsumerRegistered")
    meters = {f"meter/{d.name}": ("device", d.device_id) for d in devices.itertuples()}
    meters |= {f"meter/{c.name}": ("consumer", c.consumer) for c in consumers.itertuples()}
    out = []
    rejected = readings[readings.status == "rejected_vee"]
    if len(rejected) != int(summary.get("vee", {}).get("rejected", len(rejected))):
        out.append(f"readings.parquet: {len(rejected)} rows rejected by VEE, the run counted "
                   f"{summary['vee']['rejected']}")
    rows = readings[readings.status != "rejected_vee"]
    counts = rows.groupby(["meter", "period"]).size()
    for (meter, period), k in counts[counts > 1].items():
        out.append(f"readings.parquet: {k} rows for {meter} interval {period} (one expected): a row added")
    for meter in sorted(set(rows.meter) - set(meters)):
        out.append(f"readings.parquet: rows for {meter}, which no device or consumer registered")
    have = set(counts.index)
    for meter in sorted(meters):
        missing = [p for p in range(n) if (meter, p) not in have]
        if missing:
            out.append(f"readings.parquet: no row for {meter} interval(s) {missing[:10]}: deleted")
    extra = sorted({(m, int(p)) for m, p in have if not 0 <= p < n})
    out += [f"readings.parquet: {m} interval {p} is outside the run's {n} intervals" for m, p in extra]

    issued = event_args(ledger, CONTRACT, "Issued")
    used = event_args(ledger, CONTRACT, "ConsumptionRecorded")
    on_chain = {("device", int(i.device_id), int(i.period)): (int(i.metered_wh), 0) for i in issued.itertuples()}
    on_chain |= {("consumer", u.consumer, int(u.period)): (int(u.energy_wh), int(u.quality)) for u in used.itertuples()}
    seen = set()
    energy = {m: _meter_energy(ts, m.split("/", 1)[1], int(run["step_s"]), per) for m in meters}
    for r in rows.itertuples():
        if r.meter not in meters:
            continue
        kind, who = meters[r.meter]
        key = (kind, who, int(r.period))
        where = f"readings.parquet {r.meter} interval {r.period}"
        if r.status == "accepted":
            seen.add(key)
            if key not in on_chain:
                out.append(f"{where}: accepted, but the ledger has no such reading")
            elif on_chain[key][0] != r.energy_wh or (kind == "consumer" and on_chain[key][1] != r.quality):
                out.append(f"{where}: {r.energy_wh} Wh (quality {r.quality}), the ledger recorded "
                           f"{on_chain[key][0]} Wh (quality {on_chain[key][1]})")
        e = energy.get(r.meter)
        if e is not None and r.rule in EXACT_RULES and 0 <= r.period < len(e):
            if r.energy_wh != e[r.period] or (r.rule == "measured" and r.raw_wh != e[r.period]):
                out.append(f"{where}: {r.energy_wh} Wh (raw {r.raw_wh}), the meter's register over the stored "
                           f"power gives {e[r.period]:.0f} Wh")
    for key in sorted(set(on_chain) - seen, key=str):
        out.append(f"ledger.parquet: {key[0]} {key[1]} interval {key[2]} is on chain, but readings.parquet does "
                   f"not show it accepted")
    return out


def check_folder(folder: str | Path) -> list[str]:
    """Every problem found in a certificates results folder (an empty list: none found; see the module doc for
    what that does and does not prove)."""
    folder = Path(folder)
    out = changed_files(folder)
    ledger = pd.read_parquet(folder / "ledger.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    readings = pd.read_parquet(folder / "readings.parquet")
    ts = pd.read_parquet(folder / "timeseries.parquet")
    checks = [lambda: check_ledger(ledger, summary), lambda: check_signatures(ledger, summary)]
    if not set(summary) & OTHER_METERED:
        checks.append(lambda: check_readings(readings, ledger, ts, summary))
    for check in checks:
        try:
            out += check()
        except (KeyError, ValueError, TypeError, AttributeError) as exc:  # a file whose shape was changed
            out.append(f"the folder's records do not fit together: {type(exc).__name__}: {exc}")
    return out


__all__ = ["check_folder", "check_ledger", "check_readings", "check_signatures"]
