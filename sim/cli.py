"""``gridledger`` command line: run, validate, report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.scenario import ScenarioError, load_scenario


def _cmd_validate(args) -> int:
    s = load_scenario(args.file)
    parts = []
    if s.feeder is not None:
        parts.append(f"{len(s.prosumer_ids())} prosumers on {s.feeder.network}")
    if s.heat is not None:
        parts.append(f"{len(s.heat.building_ids())} buildings on a district-heating network")
    print(f"{args.file}: valid — {s.run.name}: {', '.join(parts) or 'weather only'}, "
          f"{s.n_steps} steps of {s.run.step_s} s, {s.n_periods} settlement periods")
    return 0


def _cmd_run(args) -> int:
    from sim.results import default_folder
    from sim.runner import run_id_for, run_scenario

    scenario = load_scenario(args.file)
    if args.seed is not None:
        scenario = scenario.with_overrides({"run.seed": args.seed}, source=f"{args.file} + --seed")
    out = Path(args.out) if args.out else default_folder(Path("results"), run_id_for(scenario))
    result = run_scenario(scenario, out=out, force=args.force, progress=sys.stderr.isatty(), scenario_file=args.file)
    v = result.summary.get("vpp")
    if v:
        print(f"{result.scenario.run.name}: {v['periods_settled']}/{v['periods']} periods settled, "
              f"delivered {v['delivered_kwh']:.1f} kWh of {v['declared_kwh']:.1f} declared, "
              f"revenue {v['revenue_eur']:.2f} EUR, penalties {v['penalties_eur']:.2f} EUR")
    h = result.summary.get("heat")
    if h:
        p = h["physics"]
        print(f"{result.scenario.run.name}: {h['periods_settled']}/{h['periods']} periods settled, "
              f"{p['consumer_heat_mwh']:.1f} MWh delivered, losses {p['loss_share_percent']:.1f} %, "
              f"return {p['mean_return_plant_c']:.1f} degC, {h['tokens_total']:.1f} tokens, "
              f"bonus {h['bonus_paid_eur']:.2f} EUR, {h['reactions']['fixes']} installations fixed")
    print(f"results: {out}")
    return 0


def _cmd_report(args) -> int:
    from sim.report import make_plots, write_report
    from sim.results import is_complete

    folder = Path(args.results_dir)
    if not is_complete(folder):
        print(f"{folder}: not a complete gridledger results folder", file=sys.stderr)
        return 2
    make_plots(folder)
    print(write_report(folder))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description="Digital twin of an energy community, settled on chain.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results folder")
    r.add_argument("file")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--out", help="results folder (default results/<run-id>)")
    r.add_argument("--force", action="store_true", help="replace a complete run at --out")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("file")
    v.set_defaults(func=_cmd_validate)
    rep = sub.add_parser("report", help="(re)write plots and report.html of a results folder")
    rep.add_argument("results_dir")
    rep.set_defaults(func=_cmd_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
