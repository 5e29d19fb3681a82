"""Prove that a code change (e.g. a layout refactor) changes no result: every shipped scenario runs on a short
horizon with the code at a git revision REV and with the working tree, and the result files are compared.

    python benchmarks/same_results.py --base REV [--scenarios a.toml ...] [--keep DIR] [--reuse-base]
                                      [--allow KEYPATH ...] [--jobs 2] [--hil slaved|subprocess] [--self-check]

Scenarios: the TOMLs of scenarios/ and scenarios/tariffs/ at REV with a [run] table (device tables and sweeps
have none), run.duration_s = min(own, a day) in whole settlement periods, each by
``sim.runner.run_scenario(path, overrides=..., out=..., force=True)`` in a ``python -c`` subprocess with
PYTHONPATH = cwd = the tree: REV in a temporary ``git worktree add --detach``, the new code in the repository
root. Each run reports where sim, agents, contracts, grid_models came from; the script aborts if not from the
tree meant. --self-check runs REV on both sides (do results repeat at all?).

HIL scenarios: the device table is served on its own 127.0.0.1 ports, one HIL run at a time. ``--hil slaved``
(default): sim.hil's DeviceSimulator in the run's process, its clock slaved to the twin's simulated clock (as
tests/sim/hil/test_hil_dsr.py), without the table's [[faults]] (started/ended by a 20 ms wall-clock tick that
races the poll at the same simulated instant), timeout_s = 1 wall s, realtime.factor = 1e5 (pacing stays on;
devices require it). ``--hil subprocess``: ``gridledger devices simulate`` beside the scenario as shipped;
device time is then wall time, so a meter's register at a poll, and hil_demo's results, depend on jitter.

"Identical": byte-identical. A parquet file that is not is read with pandas: "bytes; frames equal" or what
differs; a summary.json that is not lists its differing key paths (old -> new). Any difference exits 1 unless
an --allow fnmatch pattern covers its key path (``summary.vee`` covers all under it, ``readings.parquet`` a
file, ``hil_dsr:summary.hil`` one scenario); WALL_CLOCK keys (HIL latencies, lateness) are always allowed.
Base results are cached in --keep/base/<REV sha>/<scenario>-<hash of its base files, overrides, HIL mode>;
--reuse-base takes a complete cached run instead of running REV again.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import hashlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("timeseries.parquet", "ledger.parquet", "readings.parquet", "summary.json")
PACKAGES = ("sim", "agents", "contracts", "grid_models")
DAY_S = 86_400
WALL_CLOCK = [f"summary.hil.{k}" for k in ("realtime.max_lateness_s", "realtime.step_latency_s", "deadlines_missed",
              "realtime.deadlines_missed", "realtime.first_missed_at_s", "step_latency_s",
              "devices.*.link.request_latency_s")]
IMPORTS: dict[str, str] = {}  # tree -> where its runs imported sim from
HIL_LOCK = threading.Lock()  # the device tables' ports are fixed (they are part of the scenario's digest)
RUNNER = r"""
import contextlib, importlib, json, pkgutil, sys
spec = json.loads(sys.argv[1])
import agents, contracts, grid_models, sim
print("IMPORTED " + json.dumps({m.__name__: m.__file__ for m in (sim, agents, contracts, grid_models)}), flush=True)
from sim.runner import run_scenario
def find(name):  # sim.hil.simulator today; anywhere under sim after a move
    for mod in ["sim.hil.simulator", "sim.hil.table"] + [m.name for m in pkgutil.walk_packages(sim.__path__, "sim.")]:
        with contextlib.suppress(Exception):
            if (obj := getattr(importlib.import_module(mod), name, None)) is not None:
                return obj
    raise SystemExit(f"no {name} under sim")
sim_dev = None
if spec["hil"] == "slaved":  # the table's faults left out (see the script's docstring)
    import simpy.rt
    envs, init = [], simpy.rt.RealtimeEnvironment.__init__
    def record(self, *a, **k):
        init(self, *a, **k); envs.append(self)
    simpy.rt.RealtimeEnvironment.__init__ = record
    table = find("load_device_table")(spec["devices"]).model_copy(update={"faults": []})
    sim_dev = find("DeviceSimulator")(table, clock=lambda: envs[-1].now if envs else 0.0).start()
try:
    run_scenario(spec["scenario"], overrides=spec["overrides"], out=spec["out"], force=True)
finally:
    if sim_dev is not None:
        sim_dev.stop()
"""


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def scenario_plan(rev: str, rel: str, hil: str) -> dict | None:
    """None for a file that is no runnable scenario; else its overrides, device table and files' hash."""
    text = git("show", f"{rev}:{rel}")
    data = tomllib.loads(text)
    if "run" not in data:
        return None
    run = data["run"]
    duration = min(run["duration_s"], DAY_S) // run.get("settlement_s", 3600) * run.get("settlement_s", 3600)
    overrides = {"run.duration_s": duration} if duration != run["duration_s"] else {}
    devices = data.get("hil", {}).get("devices_file")
    if devices:
        devices = (Path(rel).parent / devices).as_posix()
        table = git("show", f"{rev}:{devices}")
        text += table
        if hil == "slaved":
            overrides["realtime.factor"] = 1e5
            overrides |= {f"devices.{i}.timeout_s": 1.0 for i in range(len(tomllib.loads(table)["devices"]))}
    key = json.dumps([text, overrides, hil if devices else None], sort_keys=True)
    return {"overrides": overrides, "devices": devices, "key": hashlib.sha256(key.encode()).hexdigest()[:12]}


def discover(rev: str, explicit: list[str] | None, hil: str) -> dict[str, dict]:
    listed = git("ls-tree", "--name-only", rev, "scenarios/", "scenarios/tariffs/").split()
    names = [Path(p).resolve().relative_to(ROOT).as_posix() for p in explicit] if explicit else [
        p for p in listed if p.endswith(".toml")]
    return {rel: plan for rel in names if (plan := scenario_plan(rev, rel, hil)) is not None}


def run_one(tree: Path, rel: str, plan: dict, out: Path, hil: str) -> float:
    """Run a scenario with the code of ``tree`` into ``out``; returns wall seconds. Raises on failure."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    mode = hil if plan["devices"] else None
    spec = {"scenario": rel, "overrides": plan["overrides"], "out": str(out / "run"), "hil": mode,
            "devices": plan["devices"]}
    env = {**os.environ, "PYTHONPATH": str(tree), "MPLBACKEND": "Agg"}
    with (HIL_LOCK if mode else contextlib.nullcontext()), open(out / "log.txt", "w") as log:
        devsim = None
        if mode == "subprocess":
            devsim = subprocess.Popen([sys.executable, "-m", "sim.cli", "devices", "simulate", plan["devices"]],
                                      cwd=tree, env=env, stdout=subprocess.PIPE, stderr=log, bufsize=0)
            deadline, line = time.monotonic() + 60, ""
            while "Ctrl-C" not in line:  # the simulator's ready line, waited for 60 s at most
                ready = select.select([devsim.stdout], [], [], max(0.0, deadline - time.monotonic()))[0]
                line = devsim.stdout.readline().decode() if ready else ""  # unbuffered: select stays true
                if not line:
                    devsim.kill()
                    raise RuntimeError(f"device simulator for {rel} did not start (see {out / 'log.txt'})")
        t = time.perf_counter()
        try:  # the run; then the simulator (if any) stopped: SIGTERM, 15 s, SIGKILL
            proc = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(spec)], check=False, cwd=tree, env=env,
                                  stdout=subprocess.PIPE, stderr=log, text=True, timeout=3600)
        finally:
            if devsim is not None:
                devsim.send_signal(signal.SIGTERM)
                try:
                    devsim.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    devsim.kill()
        wall = time.perf_counter() - t
        log.write(proc.stdout)
    imported = json.loads(next(x for x in proc.stdout.splitlines() + ["IMPORTED {}"] if x.startswith("IMPORTED "))[9:])
    if not imported:
        raise RuntimeError(f"{rel} failed before importing under {tree} (see {out / 'log.txt'})")
    wrong = {k: v for k, v in imported.items() if not Path(v).resolve().is_relative_to(tree.resolve())}
    if wrong or len(imported) != len(PACKAGES):
        raise SystemExit(f"{rel}: the run under {tree} imported {wrong or 'nothing'}: not the tree meant; abort")
    IMPORTS.setdefault(str(tree), imported["sim"])
    if proc.returncode != 0:
        raise RuntimeError(f"{rel} failed with exit {proc.returncode} under {tree} (see {out / 'log.txt'})")
    (out / "done.json").write_text(json.dumps({"wall_s": wall, "plan": plan, "hil": mode}))
    return wall


def short(v) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= 60 else s[:57] + "..."


def json_diff(a, b, path: str) -> list[tuple[str, object, object]]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b), key=str)
                for d in json_diff(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in json_diff(x, y, f"{path}[{i}]")]
    return [] if a == b and type(a) is type(b) else [(path, a, b)]


def allowed(key: str, stem: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(k, p) or fnmatch.fnmatchcase(k, p + ".*") or fnmatch.fnmatchcase(k, p + "[[]*")
               for p in patterns for k in (key, f"{stem}:{key}"))


def compare(old: Path, new: Path, name: str, stem: str, allow: list[str]) -> tuple[str, bool]:
    """(text for the table, whether it counts as a failure)."""
    a, b = old / name, new / name
    if not a.exists() or not b.exists():
        return f"DIFFERENT (missing in {'base' if not a.exists() else 'new'})", not allowed(name, stem, allow)
    if a.read_bytes() == b.read_bytes():
        return "IDENTICAL", False
    if name.endswith(".parquet"):
        import pandas as pd
        x, y = pd.read_parquet(a), pd.read_parquet(b)
        if x.equals(y):
            text = "DIFFERENT (bytes; frames equal)"
        elif x.shape != y.shape or list(x.columns) != list(y.columns):
            text = f"DIFFERENT (frames: shape {x.shape} -> {y.shape}, columns {list(x.columns) == list(y.columns)})"
        else:
            cols = [c for c in x.columns if not x[c].equals(y[c])]
            rows = int((x[cols].astype(str) != y[cols].astype(str)).any(axis=1).sum())
            text = f"DIFFERENT (frames: {rows} rows differ in {', '.join(map(str, cols[:5]))})"
        ok = allowed(name, stem, allow)
        return text + (" [allowed]" if ok else ""), not ok
    diffs = json_diff(json.loads(a.read_text()), json.loads(b.read_text()), "summary")
    if not diffs:
        return "DIFFERENT (bytes; JSON values equal)", not allowed(name, stem, allow)
    failing = [d for d in diffs if not allowed(d[0], stem, allow + WALL_CLOCK)]
    shown = failing or diffs
    text = "; ".join(f"{p}: {short(o)} -> {short(n)}" for p, o, n in shown[:6])
    more = f" (+{len(shown) - 6} more)" if len(shown) > 6 else ""
    if not failing:
        wall = [p for p, _, _ in diffs if allowed(p, stem, WALL_CLOCK)]
        return (f"IDENTICAL except {len(wall)} wall-clock key(s) ({', '.join(wall[:2])}{', ...' * (len(wall) > 2)})"
                f"{f' and {len(diffs) - len(wall)} allowed: {text}{more}' if len(diffs) > len(wall) else ''}"), False
    return f"DIFFERENT ({len(failing)} key(s)): {text}{more}", True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--base", required=True, help="git revision to compare the working tree against")
    ap.add_argument("--scenarios", nargs="+", help="scenario files (default: every shipped one)")
    ap.add_argument("--keep", type=Path, help="folder for base (and new) results; default a temp dir")
    ap.add_argument("--reuse-base", action="store_true", help="use complete cached base runs under --keep")
    ap.add_argument("--allow", action="append", default=[], help="key path pattern whose differences are allowed")
    ap.add_argument("--jobs", type=int, default=2, help="parallel runs (default 2)")
    ap.add_argument("--hil", choices=("slaved", "subprocess"), default="slaved", help="how HIL devices are served")
    ap.add_argument("--self-check", action="store_true", help="run REV on the new side too (determinism)")
    args = ap.parse_args(argv)
    sha = git("rev-parse", "--verify", f"{args.base}^{{commit}}").strip()
    plans = discover(sha, args.scenarios, args.hil)
    keep = args.keep or Path(tempfile.mkdtemp(prefix="same_results-"))
    new_root = keep / "new" / time.strftime("%Y%m%dT%H%M%S")
    print(f"base {args.base} = {sha[:12]}; working tree {ROOT}; results in {keep}; {len(plans)} scenarios", flush=True)

    def folder(rel: str) -> Path:
        return keep / "base" / sha / f"{rel.removesuffix('.toml').replace('/', '__')}-{plans[rel]['key']}"

    walls: dict[tuple[str, str], str] = {}
    cached = {rel for rel in plans if args.reuse_base and (folder(rel) / "done.json").exists()}
    for rel in cached:
        walls[rel, "base"] = f"{json.loads((folder(rel) / 'done.json').read_text())['wall_s']:.0f} s (cached)"
    need = cached != set(plans) or args.self_check
    worktree = Path(tempfile.mkdtemp(prefix="same_results-base-")) / "tree" if need else None
    if worktree is not None:
        git("worktree", "add", "--detach", str(worktree), sha)
    errors: dict[str, str] = {}
    try:
        jobs = [(rel, side) for rel in plans for side in ("base", "new") if not (side == "base" and rel in cached)]
        jobs.sort(key=lambda j: (plans[j[0]]["devices"] is not None, j[0]))  # HIL runs last (one at a time)

        def work(job):
            rel, side = job
            new_tree = worktree if args.self_check else ROOT
            tree, out = (worktree, folder(rel)) if side == "base" else (new_tree, new_root / rel.removesuffix(".toml"))
            try:
                walls[rel, side] = f"{run_one(tree, rel, plans[rel], out, args.hil):.0f} s"
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                errors[f"{rel} ({side})"], walls[rel, side] = str(exc), "FAILED"
            print(f"  {side:4s} {rel}: {walls[rel, side]}", flush=True)

        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            list(pool.map(work, jobs))
    finally:
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], check=False, cwd=ROOT)
            shutil.rmtree(worktree.parent, ignore_errors=True)
    for tree, where in IMPORTS.items():
        print(f"sim imported from {where} (tree {tree})")
    failed = bool(errors)
    print(f"\n{'scenario':34s} {'file':18s} result")
    for rel in plans:
        print(f"{rel:34s} {'wall base / new':18s} {walls.get((rel, 'base'))} / {walls.get((rel, 'new'))}"
              f"{'  overrides ' + json.dumps(plans[rel]['overrides']) if plans[rel]['overrides'] else ''}")
        if "FAILED" in (walls.get((rel, "base")), walls.get((rel, "new"))):
            continue
        for name in FILES:
            text, bad = compare(folder(rel) / "run", new_root / rel.removesuffix(".toml") / "run", name,
                                Path(rel).stem, args.allow)
            failed |= bad
            print(f"{'':34s} {name:18s} {text}")
    for what, msg in errors.items():
        print(f"FAILED {what}: {msg}")
    print("\nresult:", "DIFFERENCES (exit 1)" if failed else "no difference")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
