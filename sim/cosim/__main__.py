"""``python -m sim.cosim SCENARIO --csv FILE [--out DIR] [--force]``: the shipped mosaik scenario (mosaik-csv
feeding measured PV into gridledger's meters), e.g. ``scenarios/mosaik/pv_day.toml --csv
scenarios/mosaik/measured_pv.csv``."""

from __future__ import annotations

import argparse

from sim.cosim.world import run_csv_world


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.cosim", description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="a gridledger scenario file (TOML)")
    parser.add_argument("--csv", required=True, help="measured PV: time, {prosumer id}_p_kw [kW] (mosaik-csv reads it)")
    parser.add_argument("--out", help="the results folder (as gridledger run --out)")
    parser.add_argument("--force", action="store_true", help="replace a complete results folder")
    args = parser.parse_args(argv)
    run = run_csv_world(args.scenario, args.csv, out=args.out, force=args.force)
    ledger = run["ledger"]
    print(f"mosaik run: {ledger['settled_periods']} periods settled on chain, block {ledger['block_number']}, "
          f"EuroToken supply {ledger['supply_eur']:.2f} EUR" + (f"; results in {args.out}" if args.out else ""))


if __name__ == "__main__":
    main()
