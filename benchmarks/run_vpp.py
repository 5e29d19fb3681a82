"""Benchmark the VPP scenario: simulated steps per wall second, power flows per second, chain transactions per
second, and the share of wall time spent in physics, chain, agents and measurement.

    python benchmarks/run_vpp.py [scenarios/vpp.toml] [--days N] [--chain py-evm|revm]
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
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "vpp.toml"))
    ap.add_argument("--days", type=float, help="shorten the horizon to N days")
    ap.add_argument("--chain", choices=["py-evm", "revm"], default="py-evm")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario).with_overrides({"chain.backend": args.chain})
    if args.days:
        scenario = scenario.with_overrides({"run.duration_s": int(args.days * 86_400)})
    t = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - t
    tm = result.manifest["timings"]
    chain = result.summary["chain"]
    steps = scenario.n_steps
    print(f"scenario              {scenario.run.name}: {len(scenario.prosumer_ids())} prosumers, {steps} steps, "
          f"{scenario.n_periods} periods, chain {args.chain}")
    print(f"wall                  {wall:8.2f} s")
    print(f"steps per wall second {steps / wall:8.1f}")
    print(f"power flows / s       {steps / tm['physics_s']:8.1f}   (physics time incl. precomputation)")
    print(f"chain tx / s          {chain['transactions'] / tm['chain_s']:8.1f}   ({chain['transactions']} tx, "
          f"{chain['gas_used'] / tm['chain_s'] / 1e6:.2f} Mgas/s)")
    if "vpp" in result.summary:
        print(f"readings verified / s {result.summary['vpp']['readings']['accepted_on_chain'] / tm['chain_s']:8.1f}")
    if "dsr" in result.summary:
        d = result.summary["dsr"]
        print(f"DSR                   {d['outlets']} outlets, {d['dr_events']} DR events, {d['delays']} delays "
              f"posted on chain")
    for concern in ("physics", "chain", "agents", "measurement"):
        print(f"share {concern:<15} {tm.get(concern + '_s', 0.0) / wall:8.1%}")
    other = wall - sum(tm.get(c + "_s", 0.0) for c in ("physics", "chain", "agents", "measurement"))
    print(f"share {'other':<15} {other / wall:8.1%}   (results, summary, set-up outside the Twin)")


if __name__ == "__main__":
    main()
