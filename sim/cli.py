"""``gridledger`` command line: run, validate, report, sweep, devices (simulate, poll), and the commands each
capability registers (certificates: trace; dsr: audit)."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

from sim.capabilities.base import load
from sim.hil.pacing import DeadlineMissed
from sim.registry import REGISTRY, plotters
from sim.results.folder import complete
from sim.scenario import FEEDERS, ScenarioError, load_scenario, network_provenance


def _cmd_validate(args) -> int:
    s = load_scenario(args.file)
    parts = [f"{len(s.prosumer_ids())} prosumers on {s.feeder.network}"] if s.feeder else []
    if s.feeder and s.feeder.network not in FEEDERS:
        n = network_provenance(s)
        left = ", ".join(f"{k} {v}" for k, v in n["left_out"].items())
        parts[0] += (f" ({n['households']} households, loads: {s.feeder.loads}"
                     + (f"; left out of the network: {left}" if left else "") + ")")
    parts += [info.describe(s) for info in REGISTRY if info.describe and info.enabled(s)]
    print(f"{args.file}: valid — {s.run.name}: {', '.join(parts) or 'no actors'}, "
          f"{s.n_steps} steps of {s.run.step_s} s, {s.n_periods} settlement periods")
    return 0


def _cmd_run(args) -> int:
    from sim.results.folder import default_folder
    from sim.runner import run_id_for, run_scenario

    overrides = parse_sets(args.set or [])
    if args.seed is not None:
        overrides["run.seed"] = args.seed
    if args.chain:
        overrides["chain.backend"] = args.chain
    scenario = load_scenario(args.file)
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{args.file} + command-line options")
    out = Path(args.out) if args.out else default_folder(Path("results"), run_id_for(scenario))
    result = run_scenario(args.file, overrides=overrides, out=out, force=args.force, progress=sys.stderr.isatty())
    for info in REGISTRY:
        if info.run_line and result.summary.get(info.name):
            print(load(info.run_line)(result.summary[info.name], result.scenario.run.name))
    h = result.summary.get("hil")
    if h:
        lat = h.get("step_latency_s") or {}
        faults = {k: n for k, n in h["faults"].items() if n}
        print(f"hil: {len(h['devices'])} device(s), {h['polls']} polls, faults {faults or 'none'}, "
              f"deadlines missed {h.get('deadlines_missed', 0)}, step latency p50/p99 "
              + (f"{lat['p50'] * 1e3:.1f}/{lat['p99'] * 1e3:.1f} ms" if lat.get("n") else "n/a"))
    print(f"results: {out}")
    return 0


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of ``--set`` as dotted-key overrides; a value is read as a TOML value (``86400``,
    ``0.5``, ``true``, ``2025-06-01T00:00:00``, ``"text"``, ``[1, 2]``), else taken as text."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. run.duration_s=86400")
        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[key.strip()] = value
    return out


def _cmd_schema(args) -> int:
    from sim.scenario import Scenario
    from sim.schema_doc import reference

    print(reference(Scenario))
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
    if not complete(folder):
        return 2
    make_plots(folder, plotters())
    print(write_report(folder))
    return 0


def _cmd_verify(args) -> int:
    from sim.verify import verify

    verdict = verify(Path(args.results_dir), evm=args.evm, progress=sys.stderr.isatty())
    if verdict.ok:
        c = verdict.checked
        print(f"{verdict.message}: {c['transactions']} transactions in {c['blocks']} blocks, {c['logs']} logs, "
              f"{c['contracts']} contracts recompiled, {c['signatures']} reading signatures, {c['files']} file "
              f"hashes: all agree")
        return 0
    print(f"verify failed{' on ' + verdict.evm if verdict.evm else ''}: {verdict.message}", file=sys.stderr)
    return 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description="Digital twin of an energy community, settled on chain.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a scenario and write its results folder")
    r.add_argument("file")
    r.add_argument("--seed", type=int, help="override run.seed")
    r.add_argument("--out", help="results folder (default results/<run-id>)")
    r.add_argument("--force", action="store_true", help="replace a complete run at --out")
    r.add_argument("--chain", choices=["py-evm", "revm"], help="chain backend (default: the scenario's, py-evm)")
    r.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a scenario value by its dotted key, as the Python API's overrides "
                        "(repeatable; e.g. --set run.duration_s=86400 --set prices.penalty_eur_per_kwh=0.5)")
    r.set_defaults(func=_cmd_run)
    v = sub.add_parser("validate", help="check a scenario file without running it")
    v.add_argument("file")
    v.set_defaults(func=_cmd_validate)
    sc = sub.add_parser("schema", help="print the scenario reference: every key, type, unit, default (Markdown)")
    sc.set_defaults(func=_cmd_schema)
    sw = sub.add_parser("sweep", help="run a sweep of scenarios x seeds on dask.distributed")
    sw.add_argument("file")
    sw.add_argument("--workers", type=_positive_int, default=2, help="LocalCluster workers (default 2)")
    sw.add_argument("--scheduler", help="address of a running dask scheduler instead of a LocalCluster")
    sw.add_argument("--out", help="sweep folder (default results/<sweep file stem>)")
    sw.set_defaults(func=_cmd_sweep)
    rep = sub.add_parser("report", help="(re)write plots and report.html of a results folder")
    rep.add_argument("results_dir")
    rep.set_defaults(func=_cmd_report)
    ver = sub.add_parser("verify", help="re-execute a results folder's chain archive on another EVM and compare")
    ver.add_argument("results_dir")
    ver.add_argument("--evm", choices=["revm", "py-evm"], help="the EVM to replay on (default: the one that did "
                     "not make the run)")
    ver.set_defaults(func=_cmd_verify)
    for info in REGISTRY:
        if info.commands:
            load(info.commands)(sub)
    from sim.hil.cli import add_parser as add_devices_parser

    add_devices_parser(sub)
    return p


class Terminated(Exception):
    """SIGTERM arrived: the run unwinds like on Ctrl-C (its folder marked incomplete, spill removed)."""


def _on_sigterm(signum, frame):
    raise Terminated("terminated (SIGTERM)")


PATH_ARGS = ("file", "results_dir", "out")  # every command's file and folder arguments, by their dest


def path_problem(text: str) -> str | None:
    """Why the file system cannot take ``text`` as a path (a NUL, a name over NAME_MAX or the whole over PATH_MAX
    bytes), or None: refused before any command opens, stats or creates it."""
    if "\x00" in text:
        return "a NUL character in the path"
    raw = os.fsencode(text)
    if len(raw) >= os.pathconf("/", "PC_PATH_MAX"):
        return f"a path of {len(raw)} bytes, the longest is {os.pathconf('/', 'PC_PATH_MAX') - 1}"
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > os.pathconf("/", "PC_NAME_MAX"):
        return f"a file name of {longest} bytes, the longest is {os.pathconf('/', 'PC_NAME_MAX')}"
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for name in PATH_ARGS:
        value = getattr(args, name, None)
        problem = path_problem(value) if isinstance(value, str) else None
        if problem:
            shown = value if len(value) <= 80 else value[:80] + "…"
            print(f"error: {name.replace('_', '-')} {shown!r}: {problem}", file=sys.stderr)
            return 2
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading.current_thread() is threading.main_thread() \
        else None
    try:
        return args.func(args)
    except (ScenarioError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DeadlineMissed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted: a results folder being written is left marked incomplete", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated: a results folder being written is left marked incomplete", file=sys.stderr)
        return 143
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"error: no space left on the device while writing {exc.filename or 'results'}; the results "
                  "folder is left marked incomplete", file=sys.stderr)
            return 4
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
