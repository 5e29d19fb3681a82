"""The certificates' commands: ``gridledger trace RESULTS CERTIFICATE``: the certificate's provenance, then the
whole folder's checks (``integrity.check_folder``); exit 1 on any mismatch, 2 if the folder or the certificate
cannot be read. ``gridledger certificates export|import|matching|schema``: EnergyTag GC bundles and the hourly
matching statement (``docs/energytag.md``). And the certificates' line after ``gridledger run``."""

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


def _cmd_export(args) -> int:
    from sim.capabilities.certificates.energytag import export_energytag, write_export

    folder = Path(args.results_dir)
    out = Path(args.out or f"{folder.resolve()}.energytag.json")
    try:
        doc = export_energytag(folder)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:  # no archive, a chain or ledger that disagrees
        print(f"error: {folder}: {exc}", file=sys.stderr)
        return 2
    write_export(doc, out)
    t = doc.totals
    print(f"{out}: {len(doc.bundles)} EnergyTag GC bundles, {t.issued_wh} Wh issued: {t.active_wh} Wh Active, "
          f"{t.cancelled_wh} Wh Cancelled (the contract's total_retired_wh on the replayed chain)")
    return 0


def _cmd_import(args) -> int:
    from sim.capabilities.certificates.energytag_import import EnergyTagImportError, import_energytag
    from sim.errors import ScenarioError

    try:
        certs = import_energytag(args.file, args.results_dir)
    except (EnergyTagImportError, ScenarioError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (OSError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    minted = sum(c.minted_wh for c in certs)
    retired = sum(sum(c.cancelled.values()) for c in certs)
    print(f"{args.file}: {len(certs)} certificates, {minted} Wh minted, {retired} Wh retired"
          + (f": every certificate as the contract on {args.results_dir}'s chain holds it" if args.results_dir
             else " (not checked against a chain: give RESULTS)"))
    return 0


def _cmd_matching(args) -> int:
    import json

    from sim.capabilities.certificates.matching import format_statement, statement

    try:
        s = statement(args.results_dir)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        print(f"error: {args.results_dir}: {exc}", file=sys.stderr)
        return 2
    if args.out:
        Path(args.out).write_text(json.dumps(s, indent=1) + "\n", encoding="utf-8")
    print(format_statement(s))
    return 0 if s["totals"]["matched_wh"] == s["totals"]["contract_retired_wh"] else 1


def _cmd_schema(args) -> int:
    import json

    from sim.capabilities.certificates.energytag_model import export_json_schema

    print(json.dumps(export_json_schema(), indent=1))
    return 0


def _add_certificates(sub) -> None:
    c = sub.add_parser("certificates", help="EnergyTag GC bundles of a run (export, import) and its hourly matching "
                                            "statement")
    cs = c.add_subparsers(dest="certificates_command", required=True)
    ex = cs.add_parser("export", help="write the run's certificates as EnergyTag GC bundles (JSON), amounts and "
                                      "statuses read from the replayed chain")
    ex.add_argument("results_dir")
    ex.add_argument("--format", choices=["energytag"], default="energytag")
    ex.add_argument("--out", help="output file (default: RESULTS.energytag.json beside the folder)")
    ex.set_defaults(func=_cmd_export)
    im = cs.add_parser("import", help="read an EnergyTag export back into certificates; refuse a tampered one")
    im.add_argument("file")
    im.add_argument("results_dir", nargs="?", help="the results folder whose chain the bundles must match")
    im.set_defaults(func=_cmd_import)
    ma = cs.add_parser("matching", help="hourly matching statement per consumer (consumption, matched, score)")
    ma.add_argument("results_dir")
    ma.add_argument("--out", help="write the whole statement (every hour) as JSON")
    ma.set_defaults(func=_cmd_matching)
    sc = cs.add_parser("schema", help="print the JSON Schema of an EnergyTag export")
    sc.set_defaults(func=_cmd_schema)


def add_commands(sub) -> None:
    _add_certificates(sub)
    tr = sub.add_parser("trace", help="provenance of a certificate: retirement, transfers, mint, meter reading, "
                                      "weather")
    tr.add_argument("results_dir")
    tr.add_argument("certificate", help="certificate id (decimal or 0x hex) or SITE@UTC-START, e.g. "
                                        "wind-geest@2025-04-08T11:00")
    tr.set_defaults(func=_cmd_trace)
