"""``gridledger`` command line: run, validate, report, trace, audit, sweep, devices (simulate, poll)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.hil.pacing import DeadlineMissed
from sim.scenario import ScenarioError, load_scenario


def _complete(folder: Path) -> bool:
    """Whether ``folder`` is a complete results folder; if not, say so on stderr."""
    from sim.results.folder import is_complete

    if is_complete(folder):
        return True
    print(f"{folder}: not a complete gridledger results folder", file=sys.stderr)
    return False


def _cmd_validate(args) -> int:
    s = load_scenario(args.file)
    parts = [f"{len(s.prosumer_ids())} prosumers on {s.feeder.network}"] if s.feeder else []
    if s.certificates:
        parts.append(f"{len(s.certificates.sites)} generation sites and {len(s.certificates.consumer_ids())} "
                     f"consumers with certificates")
    if s.heat is not None:
        parts.append(f"{len(s.heat.building_ids())} buildings on a district-heating network")
    print(f"{args.file}: valid — {s.run.name}: {', '.join(parts) or 'no actors'}, "
          f"{s.n_steps} steps of {s.run.step_s} s, {s.n_periods} settlement periods")
    return 0


def _cmd_run(args) -> int:
    from sim.results.folder import default_folder
    from sim.runner import run_id_for, run_scenario

    scenario = load_scenario(args.file)
    overrides = {"run.seed": args.seed} if args.seed is not None else {}
    if args.chain:
        overrides["chain.backend"] = args.chain
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{args.file} + command-line options")
    out = Path(args.out) if args.out else default_folder(Path("results"), run_id_for(scenario))
    result = run_scenario(scenario, out=out, force=args.force, progress=sys.stderr.isatty(), scenario_file=args.file)
    d = result.summary.get("dsr")
    if d:
        print(f"{result.scenario.run.name}: {d['dr_events']} DR events, {d['delays']} delays "
              f"({d['delay_min']} min, {d['shifted_kwh']:.1f} kWh shifted), transformer peak "
              f"{d['trafo_loading_max_percent']:.1f} %, {d['minutes_above_threshold']} min above "
              f"{d['threshold_trafo_percent']:g} %")
    v = result.summary.get("vpp")
    if v:
        print(f"{result.scenario.run.name}: {v['periods_settled']}/{v['periods']} periods settled, "
              f"delivered {v['delivered_kwh']:.1f} kWh of {v['declared_kwh']:.1f} declared, "
              f"revenue {v['revenue_eur']:.2f} EUR, penalties {v['penalties_eur']:.2f} EUR")
    h = result.summary.get("hil")
    if h:
        lat = h.get("step_latency_s") or {}
        faults = {k: n for k, n in h["faults"].items() if n}
        print(f"hil: {len(h['devices'])} device(s), {h['polls']} polls, faults {faults or 'none'}, "
              f"deadlines missed {h.get('deadlines_missed', 0)}, step latency p50/p99 "
              + (f"{lat['p50'] * 1e3:.1f}/{lat['p99'] * 1e3:.1f} ms" if lat.get("n") else "n/a"))
    h = result.summary.get("heat")
    if h:
        p = h["physics"]
        print(f"{result.scenario.run.name}: {h['periods_settled']}/{h['periods']} periods settled, "
              f"{p['consumer_heat_mwh']:.1f} MWh delivered, losses {p['loss_share_percent']:.1f} %, "
              f"return {p['mean_return_plant_c']:.1f} degC, {h['tokens_total']:.1f} tokens, "
              f"bonus {h['bonus_paid_eur']:.2f} EUR, {h['reactions']['fixes']} installations fixed")
    print(f"results: {out}")
    return 0


def _cmd_sweep(args) -> int:
    from sim.sweeps.sweep import run_sweep

    out = Path(args.out) if args.out else Path("results") / Path(args.file).stem
    table = run_sweep(args.file, out, workers=args.workers, scheduler=args.scheduler, progress=sys.stderr.isatty())
    print(f"{len(table)} runs: {out / 'sweep.parquet'}, report {out / 'report.html'}")
    return 0


def _cmd_report(args) -> int:
    from sim.results.report import make_plots, write_report

    folder = Path(args.results_dir)
    if (folder / "sweep.parquet").exists():
        from sim.sweeps.report import write_sweep_report

        print(write_sweep_report(folder))
        return 0
    if not _complete(folder):
        return 2
    make_plots(folder)
    print(write_report(folder))
    return 0


def _cmd_trace(args) -> int:
    from sim.capabilities.certificates.trace import TraceError, format_trace, parse_certificate, trace

    folder = Path(args.results_dir)
    if not _complete(folder):
        return 2
    try:
        t = trace(folder, parse_certificate(args.certificate, folder))
    except (TraceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_trace(t))
    return 0 if t.verified else 1


def _cmd_audit(args) -> int:
    from sim.capabilities.dsr.audit import audit_folder

    folder = Path(args.results_dir)
    if not _complete(folder):
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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description="Digital twin of an energy community, settled on chain.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results folder")
    r.add_argument("file")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--out", help="results folder (default results/<run-id>)")
    r.add_argument("--force", action="store_true", help="replace a complete run at --out")
    r.add_argument("--chain", choices=["py-evm", "revm"], help="chain backend (default: the scenario's, py-evm)")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("file")
    v.set_defaults(func=_cmd_validate)
    sw = sub.add_parser("sweep", help="run a sweep of scenarios x seeds on dask.distributed")
    sw.add_argument("file")
    sw.add_argument("--workers", type=int, default=2, help="LocalCluster workers (default 2)")
    sw.add_argument("--scheduler", help="address of a running dask scheduler instead of a LocalCluster")
    sw.add_argument("--out", help="sweep folder (default results/<sweep file stem>)")
    sw.set_defaults(func=_cmd_sweep)
    rep = sub.add_parser("report", help="(re)write plots and report.html of a results folder")
    rep.add_argument("results_dir")
    rep.set_defaults(func=_cmd_report)
    tr = sub.add_parser("trace", help="provenance of a certificate: retirement, transfers, mint, meter reading, weather")
    tr.add_argument("results_dir")
    tr.add_argument("certificate", help="certificate id (decimal or 0x hex) or SITE@UTC-START, e.g. "
                                        "wind-geest@2025-04-08T11:00")
    tr.set_defaults(func=_cmd_trace)
    a = sub.add_parser("audit", help="rebuild the micro-DSR delays from the ledger, check them against the "
                                     "contract's counters, print the fairness table (exit 1 on a mismatch)")
    a.add_argument("results_dir")
    a.set_defaults(func=_cmd_audit)
    from sim.hil.cli import add_parser as add_devices_parser

    add_devices_parser(sub)
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
    except DeadlineMissed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
