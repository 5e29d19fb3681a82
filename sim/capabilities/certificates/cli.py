"""The certificates' command: ``gridledger trace RESULTS CERTIFICATE``."""

from __future__ import annotations

import sys
from pathlib import Path

from sim.results.folder import complete


def _cmd_trace(args) -> int:
    from sim.capabilities.certificates.trace import (
        TraceError,
        format_trace,
        parse_certificate,
        trace,
    )

    folder = Path(args.results_dir)
    if not complete(folder):
        return 2
    try:
        t = trace(folder, parse_certificate(args.certificate, folder))
    except (TraceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_trace(t))
    return 0 if t.verified else 1


def add_commands(sub) -> None:
    tr = sub.add_parser("trace", help="provenance of a certificate: retirement, transfers, mint, meter reading, "
                                      "weather")
    tr.add_argument("results_dir")
    tr.add_argument("certificate", help="certificate id (decimal or 0x hex) or SITE@UTC-START, e.g. "
                                        "wind-geest@2025-04-08T11:00")
    tr.set_defaults(func=_cmd_trace)
