"""The certificates' command: ``gridledger trace RESULTS CERTIFICATE``: the certificate's provenance, then the
whole folder's checks (``integrity.check_folder``); exit 1 on any mismatch, 2 if the folder or the certificate
cannot be read. And the certificates' line after ``gridledger run``."""

from __future__ import annotations

import sys
from pathlib import Path


def run_line(d: dict, name: str) -> str:
    problems = len(d["double_counting_violations"]) + (not d["ledger_matches_contract"])
    return (f"{name}: {d['sites']} sites, {d['minted_kwh']:.1f} kWh certified, {d['retired_kwh']:.1f} kWh retired "
            f"by {d['consumers']} consumers, hourly CFE score {d['hourly_cfe_score']:.2f} (annual matching "
            f"{d['annual_matching_score']:.2f}), "
            + ("ledger matches the contract, no double counting" if not problems else
               f"{problems} PROBLEM(S): double counting or ledger against the contract (summary.json)"))


def _cmd_trace(args) -> int:
    from sim.capabilities.certificates.integrity import check_folder
    from sim.capabilities.certificates.trace import (
        TraceError,
        format_trace,
        parse_certificate,
        trace,
    )
    from sim.results.folder import complete

    folder = Path(args.results_dir)
    if not complete(folder):
        return 2
    try:
        t = trace(folder, parse_certificate(args.certificate, folder))
    except (TraceError, ValueError, KeyError, IndexError) as exc:  # a certificate, or a folder, that does not read
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_trace(t))
    problems = check_folder(folder)
    for line in problems:
        print(f"MISMATCH (folder): {line}")
    print(f"folder checks: {len(problems)} problem(s) (ledger replayed and against the contract's counters, every "
          "mint's signature, readings against the ledger and the stored power)")
    return 0 if t.verified and not problems else 1


def add_commands(sub) -> None:
    tr = sub.add_parser("trace", help="provenance of a certificate: retirement, transfers, mint, meter reading, "
                                      "weather")
    tr.add_argument("results_dir")
    tr.add_argument("certificate", help="certificate id (decimal or 0x hex) or SITE@UTC-START, e.g. "
                                        "wind-geest@2025-04-08T11:00")
    tr.set_defaults(func=_cmd_trace)
