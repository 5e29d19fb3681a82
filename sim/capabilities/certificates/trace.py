"""Provenance of a certificate, from a results folder alone: its retirements (claims), the transfers that
brought it there, its mint, the meter reading it was minted from (whose EIP-712 signature is checked against
the device's registered meter), and the oracle's weather cap and weather record hash, which are recomputed
from the site's weather stored in ``timeseries.parquet`` through the same model.

Reads ``ledger.parquet`` (decoded contract events), ``readings.parquet`` (VEE outcome of the reading),
``timeseries.parquet`` (the weather record), ``manifest.json`` (the scenario: site parameters, time zone) and
``summary.json`` (chain id, contract address, account labels).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from eth_keys import keys

from contracts.certificates import cert_id, split_id
from contracts.eip712 import QUALITY_MEASURED, domain_separator, reading_digest
from grid_models.weather import RECORD_FIELDS, record_hash
from sim.capabilities.certificates.ledger import ZERO
from sim.capabilities.certificates.spec import CertificatesSpec
from sim.files.weather import read_weather
from sim.inputs import run_times
from sim.results.summary import event_args
from sim.schema import ScenarioError
from sim.sections import RunSpec, SiteSpec
from sim.sites.generation import energy_wh, potential_kw


class TraceError(LookupError):
    """The certificate cannot be found in the results folder."""


@dataclass(frozen=True)
class RunSections:
    """The sections of a run's scenario a trace reads (from the results folder's ``manifest.json``)."""

    run: RunSpec
    site: SiteSpec
    certificates: CertificatesSpec
    weather_file: dict | None = None  # the manifest's weather block (file, sha256, …) when the weather was a file


def run_scenario_of(folder: Path) -> RunSections:
    """The validated sections a results folder was run with (from ``manifest.json``)."""
    m = json.loads((folder / "manifest.json").read_text())
    s = m["scenario"]
    return RunSections(*(model.model_validate_json(json.dumps(s[name])) for model, name in
                         ((RunSpec, "run"), (SiteSpec, "site"), (CertificatesSpec, "certificates"))),
                       weather_file=m.get("weather"))


@dataclass
class Trace:
    id: int
    site: str
    interval_start_utc: str
    interval_end_utc: str
    device: dict
    issued: dict
    reading: dict
    weather: dict
    transfers: list[dict] = field(default_factory=list)
    retirements: list[dict] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return all((self.reading["signature_ok"], self.weather["hash_matches"], self.weather["cap_matches"]))


def parse_certificate(text: str, folder: Path) -> int:
    """A certificate id: decimal, ``0x`` hex, or ``SITE@UTC-START`` (e.g. ``wind-geest@2025-04-08T11:00``)."""
    if "@" not in text:
        return int(text, 0)
    site, when = text.split("@", 1)
    devices = event_args(pd.read_parquet(folder / "ledger.parquet"), "Certificates", "DeviceRegistered")
    match = devices[devices.name == site] if len(devices) else devices
    if match.empty:
        raise TraceError(f"no device named {site!r}; devices: {', '.join(devices.get('name', []))}")
    scenario = run_scenario_of(folder)
    start = pd.Timestamp(when)
    start = start.tz_localize("UTC") if start.tzinfo is None else start
    period = int((start - run_times(scenario.run, scenario.site)[0]).total_seconds() // scenario.run.settlement_s)
    return cert_id(int(match.device_id.iloc[0]), period)


def trace(folder: str | Path, certificate: int) -> Trace:
    folder = Path(folder)
    ledger = pd.read_parquet(folder / "ledger.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    scenario = run_scenario_of(folder)
    labels = {a: label for label, a in summary["chain"]["accounts"].items()}
    name = lambda a: f"{labels.get(a, '?')} ({a})"  # noqa: E731

    def events(event: str) -> pd.DataFrame:
        df = event_args(ledger, "Certificates", event)
        return df[df.id == certificate] if "id" in df else df

    issued = events("Issued")
    if issued.empty:
        hint = event_args(ledger, "Certificates", "Retired")
        examples = ", ".join(str(i) for i in hint.id.head(3)) if len(hint) else "none"
        raise TraceError(f"certificate {certificate} was never minted in {folder} (retired ids include: {examples})")
    iss = issued.iloc[0].to_dict()
    device_id, period = split_id(certificate)
    devices = event_args(ledger, "Certificates", "DeviceRegistered")
    dev = devices[devices.device_id == device_id].iloc[0].to_dict()
    site = next(s for s in scenario.certificates.sites if s.name == dev["name"])
    period_s = scenario.run.settlement_s

    # the weather record, from the stored timeseries, and the cap through the site's model
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ts = ts[ts.entity == site.name]
    times = pd.DatetimeIndex(sorted(ts.time.unique()))
    t_start = times[0] + pd.Timedelta(seconds=period * period_s)
    steps = times[(times >= t_start) & (times < t_start + pd.Timedelta(seconds=period_s))]
    wide = ts[ts.time.isin(steps)].pivot(index="time", columns="quantity", values="value").loc[steps]
    record = {k: wide[k].to_numpy() for k in RECORD_FIELDS}
    wfile = scenario.weather_file
    recomputed_hash = record_hash(site.name, t_start.isoformat(), record, wfile["sha256"] if wfile else None)
    step_s = int((times[1] - times[0]).total_seconds()) if len(times) > 1 else period_s
    recomputed_cap = int(np.floor(energy_wh(potential_kw(site, steps.tz_convert(scenario.site.tz), record), step_s)))
    cap = events("CapPosted").iloc[0].to_dict()
    on_chain_hash = cap["weather_hash"].removeprefix("0x")

    # the reading: signature against the device's meter, VEE outcome from readings.parquet
    address = summary["chain"]["contracts"]["Certificates"]
    digest = reading_digest(domain_separator(summary["chain"]["chain_id"], address), iss["meter"], period,
                            iss["metered_wh"], QUALITY_MEASURED)
    sig = keys.Signature(vrs=(iss["v"] - 27, int(iss["r"], 16), int(iss["s"], 16)))
    signer = sig.recover_public_key_from_msg_hash(digest).to_checksum_address()
    readings = pd.read_parquet(folder / "readings.parquet")
    vee = readings[(readings.meter == f"meter/{site.name}") & (readings.period == period)]

    consumption = event_args(ledger, "Certificates", "ConsumptionRecorded")
    moves = events("TransferSingle")
    retired = events("Retired")
    retirements = []
    for r in retired.itertuples():
        used = consumption[(consumption.consumer == r.beneficiary) & (consumption.period == r.consumption_interval)]
        retirements.append({
            "block": int(ledger.loc[r.Index, "block"]), "tx": ledger.loc[r.Index, "tx_hash"],
            "holder": name(r.holder), "beneficiary": name(r.beneficiary), "amount_wh": int(r.amount_wh),
            "consumption_interval": int(r.consumption_interval), "same_hour": int(r.consumption_interval) == period,
            "consumed_wh": int(used.energy_wh.iloc[0]) if len(used) else None,
            "consumption_quality": int(used.quality.iloc[0]) if len(used) else None,
        })
    transfers = [{"block": int(ledger.loc[m.Index, "block"]), "operator": name(m.operator), "from": name(m.sender),
                  "to": name(m.receiver), "amount_wh": int(m.amount_wh)}
                 for m in moves.itertuples() if m.sender != ZERO and m.receiver != ZERO]
    t_end = t_start + pd.Timedelta(seconds=period_s)
    return Trace(
        id=certificate, site=site.name, interval_start_utc=t_start.isoformat(), interval_end_utc=t_end.isoformat(),
        device={"device_id": device_id, "name": dev["name"], "technology": dev["technology"],
                "lat": dev["latitude_e6"] / 1e6, "lon": dev["longitude_e6"] / 1e6,
                "nameplate_kw": dev["nameplate_w"] / 1000, "owner": name(dev["owner"]), "meter": dev["meter"]},
        issued={"block": int(ledger.loc[issued.index[0], "block"]), "amount_wh": int(iss["amount_wh"]),
                "metered_wh": int(iss["metered_wh"]), "cap_wh": int(iss["cap_wh"]), "owner": name(iss["owner"]),
                "issued_at_utc": pd.Timestamp(int(iss["issued_at"]), unit="s", tz="UTC").isoformat()},
        reading={"meter": iss["meter"], "period": period, "energy_wh": int(iss["metered_wh"]),
                 "quality": "measured", "signer": signer, "signature_ok": signer == dev["meter"] == iss["meter"],
                 "vee_rule": vee.rule.iloc[0] if len(vee) else None,
                 "raw_wh": float(vee.raw_wh.iloc[0]) if len(vee) else None},
        weather={"cap_wh": int(cap["cap_wh"]), "weather_hash": on_chain_hash, "recomputed_hash": recomputed_hash,
                 "hash_matches": recomputed_hash == on_chain_hash, "recomputed_cap_wh": recomputed_cap,
                 "cap_matches": recomputed_cap == int(cap["cap_wh"]), "steps": len(steps),
                 "record": {k: [float(x) for x in v] for k, v in record.items()},
                 **({"file": file_rows(wfile, scenario.site, t_start, period_s)} if wfile else {})},
        transfers=transfers, retirements=retirements,
    )


def file_rows(wfile: dict, site: SiteSpec, start: pd.Timestamp, period_s: int) -> dict:
    """The weather file's rows the interval's record was averaged from (the file as the manifest names it, read
    again and checked against its sha256)."""
    out = {"file": wfile["file"], "sha256": wfile["sha256"], "rows": [], "problem": None}
    try:
        wf = read_weather(wfile["file"], wfile["format"], coerce_year=wfile["coerce_year"], tz=site.tz,
                          stamp=wfile.get("stamp", "start"))
    except ScenarioError as exc:
        out["problem"] = f"the file cannot be read again: {exc}"
        return out
    if wf.sha256 != wfile["sha256"]:
        out["problem"] = f"the file has changed since the run (sha256 now {wf.sha256})"
        return out
    out["rows"] = wf.rows_for(start, start + pd.Timedelta(seconds=period_s))
    return out


def format_trace(t: Trace) -> str:
    d, i, r, w = t.device, t.issued, t.reading, t.weather
    ok = lambda b: "match" if b else "MISMATCH"  # noqa: E731
    lines = [f"certificate {t.id} (0x{t.id:x}): site {t.site}, interval {t.interval_start_utc} to "
             f"{t.interval_end_utc}"]
    lines.append(f"retirements ({len(t.retirements)}):" if t.retirements else "retirements: none (still live)")
    for x in t.retirements:
        used = (f"; beneficiary's metered consumption there {x['consumed_wh']} Wh"
                f"{' (estimated)' if x['consumption_quality'] else ''}" if x["consumed_wh"] is not None else "")
        lines.append(f"  block {x['block']} tx {x['tx'][:18]}…: {x['holder']} retired {x['amount_wh']} Wh for "
                     f"{x['beneficiary']} against consumption interval {x['consumption_interval']}"
                     f"{' (same hour: 24/7 match)' if x['same_hour'] else ' (another interval)'}{used}")
    lines.append(f"transfers ({len(t.transfers)}):")
    for x in t.transfers:
        lines.append(f"  block {x['block']}: {x['amount_wh']} Wh {x['from']} -> {x['to']} (by {x['operator']})")
    lines += [
        f"mint: block {i['block']} at {i['issued_at_utc']}: {i['amount_wh']} Wh to {i['owner']} = "
        f"min(metered {i['metered_wh']} Wh, cap {i['cap_wh']} Wh)",
        f"device {d['device_id']}: {d['name']}, {d['technology']}, {d['lat']:.4f} N {d['lon']:.4f} E, nameplate "
        f"{d['nameplate_kw']:g} kW, owner {d['owner']}, meter {d['meter']}",
        f"meter reading: meter {r['meter']}, interval {r['period']}, {r['energy_wh']} Wh, {r['quality']} "
        f"(VEE: {r['vee_rule']}, raw {r['raw_wh']} Wh); EIP-712 signature recovers {r['signer']}: "
        f"{ok(r['signature_ok'])} with the device's registered meter",
        f"weather record: oracle cap {w['cap_wh']} Wh, weather record sha256 {w['weather_hash']}",
        f"  recomputed from timeseries.parquet ({t.site}, {w['steps']} steps of {', '.join(RECORD_FIELDS)}): "
        f"{w['recomputed_hash']}: {ok(w['hash_matches'])}",
        f"  cap recomputed from that record through the site's model: {w['recomputed_cap_wh']} Wh: "
        f"{ok(w['cap_matches'])}",
    ]
    if "file" in w:
        f = w["file"]
        lines.append(f"  weather file {f['file']} sha256 {f['sha256']} (in the record hash)"
                     + (f": {f['problem']}" if f["problem"] else f"; the interval's rows ({len(f['rows'])}):"))
        for row in f["rows"]:
            values = ", ".join(f"{k} {row[k]:g}" for k in row if k not in ("line", "start_utc", "share"))
            lines.append(f"    line {row['line']} (interval from {row['start_utc']}, {row['share']:.0%} of the "
                         f"interval): {values}")
    return "\n".join(lines)
