"""Benchmark the district-heating scenario: pipe flows per second (measured and counterfactual), signed heat
readings verified per second on chain, and the share of wall time in physics, chain, agents and measurement.

    python benchmarks/run_heat.py [scenarios/district_heating.toml] [--days N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "district_heating.toml"))
    ap.add_argument("--days", type=float, default=1.0, help="shorten the horizon to N days (default 1)")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario).with_overrides({"run.duration_s": int(args.days * 86_400)})
    t = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - t
    tm, heat, chain = result.manifest["timings"], result.summary["heat"], result.summary["chain"]
    flows = heat["physics"]["pipe_flows"] + heat["physics"]["counterfactual_pipe_flows"]
    print(f"scenario              {scenario.run.name}: {heat['consumers']} buildings, {scenario.n_steps} steps, "
          f"{scenario.n_periods} periods")
    print(f"wall                  {wall:8.2f} s   ({wall / args.days * 31 / 60:.1f} min per 31-day month)")
    print(f"pipe flows / s        {flows / tm['physics_s']:8.1f}   ({flows} flows, physics time incl. set-up)")
    print(f"chain tx / s          {chain['transactions'] / tm['chain_s']:8.1f}   ({chain['transactions']} tx, "
          f"{chain['gas_used'] / tm['chain_s'] / 1e6:.2f} Mgas/s)")
    print(f"readings verified / s {heat['readings']['accepted_on_chain'] / tm['chain_s']:8.1f}")
    for concern in ("physics", "chain", "agents", "measurement"):
        print(f"share {concern:<15} {tm.get(concern + '_s', 0.0) / wall:8.1%}")


if __name__ == "__main__":
    main()
