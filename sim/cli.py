"""``gridledger`` command line: run, validate, report, sweep, devices (simulate, poll), and the commands each
capability registers (certificates: trace; dsr: audit).

Importing this module imports no pandas, pydantic, chain or physics (``gridledger --help`` stays fast:
``benchmarks/cli_startup.py``); each command imports what it needs when it runs. Exit codes (README, "Exit
codes"): 0 done; 1 a check found a mismatch (trace, audit, verify, devices poll); 2 invalid input (a scenario,
device table or sweep file, an incomplete results folder, a usage error); 3 a strict real-time run missed a
deadline; 4 disk full; 5 a HIL device never answered (``[hil] require_devices``); 6 a port is in use; 130
Ctrl-C; 141 the reader of the output went away (``| head``); 143 SIGTERM.
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from sim.errors import DeadlineMissed, DevicesSilent, PhysicsFailed, PortInUse, ScenarioError
from sim.registry import REGISTRY


def _cmd_validate(args) -> int:
    from sim.validate import validate_file

    print(validate_file(args.file))
    return 0


def _cmd_run(args) -> int:
    from sim.results.folder import default_folder
    from sim.runner import run_id_for, run_scenario
    from sim.scenario import load_scenario

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
    for line in closing_lines(result.summary, result.scenario.run.name):
        print(line)
    print(f"results: {out}")
    return 0


def closing_lines(summary: dict, name: str) -> list[str]:
    """One line per enabled capability (its ``run_line``), then the HIL line if the run had one."""
    from sim.capabilities.base import load

    lines = [load(info.run_line)(summary[info.name], name) for info in REGISTRY
             if info.run_line and summary.get(info.name)]
    h = summary.get("hil")
    if h:
        lat = h.get("step_latency_s") or {}
        faults = {k: n for k, n in h["faults"].items() if n}
        lines.append(f"hil: {len(h['devices'])} device(s), {h['polls']} polls, faults {faults or 'none'}, "
                     f"deadlines missed {h.get('deadlines_missed', 0)}, step latency p50/p99 "
                     + (f"{lat['p50'] * 1e3:.1f}/{lat['p99'] * 1e3:.1f} ms" if lat.get("n") else "n/a"))
        estimated = h.get("periods_estimated_device_silent") or {}
        silent = h.get("silent_devices") or []
        if estimated or silent:
            n = summary["run"]["periods"]
            lines.append("hil: WARNING " + "; ".join(
                [f"{k}/{n} periods of {dev} estimated because the device was silent" for dev, k in estimated.items()]
                + [f"{dev} never answered" for dev in silent if dev not in estimated]))
    return lines


def parse_sets(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs of ``--set`` as dotted-key overrides; a value is read as a TOML value (``86400``,
    ``0.5``, ``true``, ``2025-06-01T00:00:00``, ``"text"``, ``[1, 2]``), else taken as text; an empty value
    (``KEY=``) unsets an optional key (None: its default, as if the scenario left it out)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(f"--set {item!r}: expected KEY=VALUE with a dotted key, e.g. run.duration_s=86400")
        if not text.strip():
            out[key.strip()] = None
            continue
        import tomllib

        try:
            value = tomllib.loads(f"v = {text.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            value = text.strip()
        out[key.strip()] = value
    return out


def _cmd_cosim(args) -> int:
    from sim.cosim.command import run

    return run(args)


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
    from sim.registry import plotters
    from sim.results.folder import complete
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
    verdict.close()
    if verdict.ok:
        c = verdict.checked
        gas = ("identical in every transaction" if c["gas_strict"]
               else f"not compared ({c['gas_differs']} transactions differ)")
        print(f"{verdict.message}: {c['transactions']} transactions in {c['blocks']} blocks, {c['logs']} logs, "
              f"{c['contracts']} contracts recompiled, {c['signatures']} reading signatures, {c['files']} file "
              f"hashes: all agree; gas {gas}")
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


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        import importlib.metadata as md

        try:
            version = md.version("gridledger")
        except md.PackageNotFoundError:
            version = "unknown (not installed: pip install -e .)"
        print(f"gridledger {version}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gridledger", description="Digital twin of an energy community, settled on chain.",
                                epilog="exit codes: 0 done, 1 a check found a mismatch, 2 invalid input, 3 deadline "
                                       "missed (strict real time), 4 disk full, 5 a HIL device never answered, 6 port "
                                       "in use, 130 Ctrl-C, 141 output closed (| head), 143 SIGTERM")
    p.add_argument("--version", action=_Version, help="print the installed gridledger version and exit")
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
    v = sub.add_parser("validate", help="check a scenario, device table or sweep file without running it")
    v.add_argument("file")
    v.set_defaults(func=_cmd_validate)
    from sim.cosim import command as cosim_command

    co = sub.add_parser("cosim", help=cosim_command.HELP)
    cosim_command.add_arguments(co)
    co.set_defaults(func=_cmd_cosim)
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
    ver.add_argument("--evm", choices=["revm", "py-evm", "anvil"], help="the EVM to replay on (default: the "
                     "in-process one that did not make the run; anvil: Foundry's node, installed beforehand with "
                     "`npm install --prefix .anvil @foundry-rs/anvil@<version>`, see docs/chain_archive.md)")
    ver.set_defaults(func=_cmd_verify)
    from sim.capabilities.base import load

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


def _quiet_stdout() -> None:
    """The reader of stdout went away: point stdout at /dev/null so that the interpreter's last flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test's StringIO)
        pass


# the errors that end a command with one line ``error: …`` and their exit codes (README, "Exit codes")
EXIT_CODES = ((ScenarioError, 2), (FileExistsError, 2), (DeadlineMissed, 3), (PortInUse, 6), (PhysicsFailed, 7))


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit:  # --help, --version or a usage error: argparse printed and exits
        try:
            sys.stdout.flush()
        except BrokenPipeError:  # --help | head
            _quiet_stdout()
            return 141
        raise
    except BrokenPipeError:
        _quiet_stdout()
        return 141
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
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except (ScenarioError, FileExistsError, DeadlineMissed, PortInUse, PhysicsFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return next(code for kind, code in EXIT_CODES if isinstance(exc, kind))
    except DevicesSilent as exc:
        print(f"error: {exc}; the results folder is marked incomplete", file=sys.stderr)
        return 5
    except KeyboardInterrupt:
        print("interrupted; results folder marked incomplete (if one was being written)", file=sys.stderr)
        return 130
    except Terminated:
        print("terminated; results folder marked incomplete (if one was being written)", file=sys.stderr)
        return 143
    except BrokenPipeError:  # gridledger trace … | head -1: the reader has what it wanted
        _quiet_stdout()
        return 141
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
