"""``gridledger cosim SCENARIO --csv FILE [--out DIR] [--force]`` (also ``python -m sim.cosim``): the shipped
mosaik scenario, mosaik-csv feeding measured PV into gridledger's meters (``sim.cosim.world.run_csv_world``).
Importing this module imports neither mosaik nor pandas (``gridledger --help`` stays fast)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "run a scenario as a mosaik simulator, mosaik-csv feeding measured PV into its meters"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="scenario", help="a gridledger scenario file (TOML)")
    parser.add_argument("--csv", required=True,
                        help="measured PV: time, {prosumer id}_p_kw [kW, mean over the step] (mosaik-csv reads it)")
    parser.add_argument("--out", help="the results folder (as gridledger run --out; default: none written)")
    parser.add_argument("--force", action="store_true", help="replace a complete results folder at --out")


def run(args: argparse.Namespace) -> int:
    """Run the world; 2 with one line ``error: …`` for input the run cannot take (a CSV missing or without a
    prosumer's column, a value mosaik-csv hands that the meters refuse)."""
    from sim.cosim.world import run_csv_world

    if not Path(args.csv).is_file():
        print(f"error: --csv {args.csv!r}: no such file; expected a CSV of time, {{prosumer id}}_p_kw columns",
              file=sys.stderr)
        return 2
    try:
        result = run_csv_world(args.file, args.csv, out=args.out, force=args.force)
    except ValueError as exc:  # FeedError and the simulator's refusals name file, entity, field and what was expected
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ledger = result["ledger"]
    print(f"mosaik run: {ledger['settled_periods']} periods settled on chain, block {ledger['block_number']}, "
          f"EuroToken supply {ledger['supply_eur']:.2f} EUR" + (f"; results in {args.out}" if args.out else ""))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.cosim", description=HELP)
    add_arguments(parser)
    return run(parser.parse_args(argv))
