"""Benchmark the district-heating scenario: pipe flows per second (measured and counterfactual), signed heat
readings verified per second on chain, and the share of wall time in physics, chain, agents and measurement;
then the pipe flow alone, both ways: every pipe flow of the run replayed through the fast path and through
pandapipes (``pps.pipeflow``, bidirectional) on fresh networks, ms per flow and per step, and the largest
deviation of the fast path from pandapipes.

    python benchmarks/run_heat.py [scenarios/district_heating.toml] [--days N] [--solver fast|pandapipes]
        [--no-replay]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from grid_models import heat_network
from sim.runner import run_scenario
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TEMPERATURES = ("t_supply_c", "t_return_c", "t_supply_plant_c", "t_return_plant_c")
RELATIVE = ("mdot_kg_per_s", "vdot_m3_per_s", "consumer_heat_w", "source_heat_w", "pipe_loss_w",
            "pump_mdot_kg_per_s", "pump_electric_w", "dp_bar")


def record_pipe_flows():
    """Wrap HeatNetwork so that each network's constructor arguments and every pipe flow's inputs are kept."""
    calls, kwargs = defaultdict(list), {}
    init, solve = heat_network.HeatNetwork.__init__, heat_network.HeatNetwork.solve

    def recording_init(self, design_heat_w, **kw):
        init(self, design_heat_w, **kw)
        kwargs[id(self)] = (np.array(design_heat_w, dtype=float), kw)

    def recording_solve(self, t_supply_c, heat_w, t_return_c):
        calls[id(self)].append((float(t_supply_c), np.array(heat_w, dtype=float), np.array(t_return_c, dtype=float)))
        return solve(self, t_supply_c, heat_w, t_return_c)

    heat_network.HeatNetwork.__init__, heat_network.HeatNetwork.solve = recording_init, recording_solve
    return calls, kwargs, (init, solve)


def replay(calls, kwargs, solver: str):
    """Every recorded pipe flow again on a fresh network per recorded network; (seconds per flow, results)."""
    times, results = [], []
    for key, steps in calls.items():
        design, kw = kwargs[key]
        net = heat_network.HeatNetwork(design, **dict(kw, solver=solver))
        for step in steps:
            t = time.perf_counter()
            results.append(net.solve(*step))
            times.append(time.perf_counter() - t)
    return np.array(times), results


def deviations(fast, ref) -> dict[str, float]:
    """Largest |fast − pandapipes| over all flows: kelvin for temperatures, relative for the rest."""
    out = {}
    for name in TEMPERATURES:
        out[name] = max(float(np.max(np.abs(np.asarray(getattr(a, name)) - getattr(b, name))))
                        for a, b in zip(fast, ref))
    for name in RELATIVE:
        out[name] = max(float(np.max(np.abs(np.asarray(getattr(a, name)) / getattr(b, name) - 1)))
                        for a, b in zip(fast, ref))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "district_heating.toml"))
    ap.add_argument("--days", type=float, default=1.0, help="shorten the horizon to N days (default 1)")
    ap.add_argument("--solver", choices=("fast", "pandapipes"), default=None,
                    help="the run's pipe-flow solver (default: the scenario's)")
    ap.add_argument("--no-replay", action="store_true", help="skip replaying the pipe flows both ways")
    args = ap.parse_args()
    overrides = {"run.duration_s": int(args.days * 86_400)}
    if args.solver:
        overrides["heat.network.solver"] = args.solver
    scenario = load_scenario(args.scenario).with_overrides(overrides)
    calls, kwargs, originals = record_pipe_flows()
    t = time.perf_counter()
    result = run_scenario(scenario)
    wall = time.perf_counter() - t
    heat_network.HeatNetwork.__init__, heat_network.HeatNetwork.solve = originals
    tm, heat, chain = result.manifest["timings"], result.summary["heat"], result.summary["chain"]
    flows = heat["physics"]["pipe_flows"] + heat["physics"]["counterfactual_pipe_flows"]
    print(f"scenario              {scenario.run.name}: {heat['consumers']} buildings, {scenario.n_steps} steps, "
          f"{scenario.n_periods} periods, solver {scenario.heat.network.solver}")
    print(f"wall                  {wall:8.2f} s   ({wall / args.days * 31 / 60:.1f} min per 31-day month)")
    print(f"pipe flows / s        {flows / tm['physics_s']:8.1f}   ({flows} flows, physics time incl. set-up; "
          f"{heat['physics']['pipe_flows_on_pandapipes']} on pandapipes)")
    print(f"chain tx / s          {chain['transactions'] / tm['chain_s']:8.1f}   ({chain['transactions']} tx, "
          f"{chain['gas_used'] / tm['chain_s'] / 1e6:.2f} Mgas/s)")
    print(f"readings verified / s {heat['readings']['accepted_on_chain'] / tm['chain_s']:8.1f}")
    for concern in ("physics", "chain", "agents", "measurement"):
        print(f"share {concern:<15} {tm.get(concern + '_s', 0.0) / wall:8.1%}")
    if args.no_replay:
        return
    per_step = flows / max(1, heat["physics"]["pipe_flows"])  # the measured flow and the operator's counterfactual
    t_fast, fast = replay(calls, kwargs, "fast")
    t_ref, ref = replay(calls, kwargs, "pandapipes")
    print(f"pipe flow, replayed   {len(t_fast)} flows ({per_step:.0f} per step) on fresh networks")
    for name, ts in (("fast", t_fast), ("pandapipes", t_ref)):
        print(f"  {name:<12} {1000 * np.median(ts):8.2f} ms per flow (median; mean {1000 * ts.mean():.2f}, "
              f"p95 {1000 * np.percentile(ts, 95):.2f}), {1000 * ts.mean() * per_step:.2f} ms per step")
    print(f"  speed-up     {t_ref.mean() / t_fast.mean():8.0f} x")
    dev = deviations(fast, ref)
    print("  fast − pandapipes, largest over all flows: "
          + ", ".join(f"{k} {v:.1e} K" for k, v in dev.items() if k in TEMPERATURES))
    print("    relative: " + ", ".join(f"{k} {v:.1e}" for k, v in dev.items() if k in RELATIVE))


if __name__ == "__main__":
    main()
