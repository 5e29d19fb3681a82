"""The micro-DSR's command (``gridledger audit RESULTS``) and its line after ``gridledger run``."""

from __future__ import annotations

import sys
from pathlib import Path


def run_line(d: dict, name: str) -> str:
    line = (f"{name}: {d['dr_events']} DR events, {d['delays']} delays "
            f"({d['delay_min']} min, {d['shifted_kwh']:.1f} kWh shifted, {d.get('tokens_total', 0):.1f} FLEX tokens), "
            f"transformer peak "
            f"{d['trafo_loading_max_percent']:.1f} %, {d['minutes_above_threshold']} min above "
            f"{d['threshold_trafo_percent']:g} %")
    if "openadr" in d:
        o = d["openadr"]
        line += (f"; OpenADR: {o['events_published']} events through the VTN (VEN opted in to {o['opt_in']}), "
                 f"{o['delays_reported']} delays reported, "
                 f"{'equal to' if o['reports_match_chain'] else 'DIFFERENT from'} the chain's delay log")
    return line


def _cmd_audit(args) -> int:
    from sim.capabilities.dsr.audit import audit_folder
    from sim.results.folder import complete

    folder = Path(args.results_dir)
    if not complete(folder):
        return 2
    try:
        passed, table, problems = audit_folder(folder)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.width", 140):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print(f"Jain's index of delay minutes: {table.attrs['jain_delay_min']:.3f}; "
          f"of delay minutes per kWh offered: {table.attrs['jain_per_kwh_offered']:.3f}")
    for line in problems:
        print(f"MISMATCH: {line}")
    print(f"audit {'passed' if passed else 'FAILED'}: {len(problems)} problem(s); ledger rebuilt from the contract's "
          f"events and checked against its counters")
    return 0 if passed else 1


def add_commands(sub) -> None:
    a = sub.add_parser("audit", help="rebuild the micro-DSR delays from the ledger, check them against the "
                                     "contract's counters, print the fairness table (exit 1 on a mismatch)")
    a.add_argument("results_dir")
    a.set_defaults(func=_cmd_audit)
