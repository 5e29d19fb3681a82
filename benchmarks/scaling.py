"""How the VPP's cost grows with the community: 10, 100 and 1000 prosumers for a simulated week.

    python benchmarks/scaling.py [--chain revm|py-evm] [--sizes 10 100 1000] [--days 7]

Each size runs in its own process (so that its peak memory is its own) on the smallest feeder that hosts it,
with the settings of ``scenarios/vpp_year_100_prosumers.toml`` (64 % PV+battery, 36 % PV only, readings posted
daily); beyond 256 members the VPP settles in pools (``vpp.pool_members``: 1000 = 4 pools of 250). Prints wall
time, the process's CPU time (what a machine shared with other work does not inflate), the run's time without
set-up, peak memory and time per prosumer per size, and the growth exponent b of wall ~ a * n^b (and of CPU time)
fitted over the sizes that ran (goal: b <= 1.0, cost per prosumer not rising with the community). A size that
cannot run is reported with the reason, not left out silently.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCENARIO = ROOT / "scenarios" / "vpp_year_100_prosumers.toml"


def one(n: int, days: float, chain: str) -> dict:
    """Run one size in this process; returns its figures."""
    from sim.runner import run_scenario
    from sim.scenario import FEEDER_HOUSEHOLDS, load_scenario

    feeders = sorted(FEEDER_HOUSEHOLDS.items(), key=lambda kv: kv[1])
    feeder = next((name for name, room in feeders if room >= n), None)
    if feeder is None:
        return {"n": n, "skipped": f"no feeder hosts {n} prosumers (largest: {feeders[-1][0]}, "
                                   f"{feeders[-1][1]} households)"}
    with_battery = round(n * 0.64)
    scenario = load_scenario(SCENARIO).with_overrides({
        "chain.backend": chain, "run.duration_s": int(days * 86_400), "feeder.network": feeder,
        "population.0.count": with_battery, "population.1.count": n - with_battery,
    })
    t, cpu = time.perf_counter(), time.process_time()
    result = run_scenario(scenario)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    timings = result.manifest["timings"]
    return {"n": n, "feeder": feeder, "wall_s": wall, "cpu_s": cpu, "setup_s": timings["setup_s"],
            "run_s": wall - timings["setup_s"], "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "pools": len(result.summary["vpp"]["pools"]), "transactions": result.summary["chain"]["transactions"],
            "readings_verified": result.summary["chain"]["readings_verified"]}


def fit_exponent(rows: list[dict], key: str) -> float | None:
    """Least-squares slope of log(key) against log(n)."""
    pts = [(math.log(r["n"]), math.log(r[key])) for r in rows if "skipped" not in r and r[key] > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sum((x - mx) ** 2 for x, _ in pts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", choices=["py-evm", "revm"], default="revm")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    ap.add_argument("--days", type=float, default=7.0)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # run one size, print JSON (used by the parent)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.one, args.days, args.chain)))
        return 0

    print(f"machine  {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; chain "
          f"{args.chain}; {args.days:g} simulated days per size")
    print(f"{'prosumers':>9} {'feeder':<30} {'pools':>5} {'wall s':>7} {'cpu s':>7} {'set-up s':>8} {'run s':>7} "
          f"{'ms/prosumer-day':>15} {'peak MiB':>8} {'tx':>6} {'readings':>9}")
    rows = []
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--days", str(args.days), "--chain",
                              args.chain], capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode != 0:
            row = {"n": n, "skipped": f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr else '?'}"}
        else:
            row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        if "skipped" in row:
            print(f"{n:>9} not run: {row['skipped']}")
            continue
        print(f"{n:>9} {row['feeder']:<30} {row['pools']:>5} {row['wall_s']:>7.1f} {row['cpu_s']:>7.1f} "
              f"{row['setup_s']:>8.1f} {row['run_s']:>7.1f} {row['run_s'] / n / args.days * 1000:>15.1f} "
              f"{row['peak_mib']:>8.0f} {row['transactions']:>6} {row['readings_verified']:>9}")
    for key, label in (("wall_s", "wall"), ("cpu_s", "cpu"), ("run_s", "run without set-up")):
        b = fit_exponent(rows, key)
        if b is None:
            print(f"exponent ({label}): fewer than two sizes ran")
        else:
            print(f"exponent ({label}): {label} ~ n^{b:.2f}  ({'goal met' if b <= 1.0 else 'GOAL MISSED'}: <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
