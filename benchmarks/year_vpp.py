"""A year of the 100-prosumer VPP, every hourly reading signed and verified on chain, then a slice of it through
the straightforward reference path, in the same process.

    python benchmarks/year_vpp.py [--chain py-evm|revm] [--days 365] [--slice-days 2] [--no-reference]

1. The year (``scenarios/vpp_year_100_prosumers.toml``: 100 prosumers, 15-min steps, hourly settlement, each
   meter signing its day of hourly values as one EIP-712 ReadingBatch, every value checked on chain): wall time,
   wall time per phase (physics, agents, measurement, chain, results), chain figures, peak memory and the
   resident memory at each quarter of the run (flat = not growing with blocks). With ``--days`` < 365 the
   year's wall time is also extrapolated (and marked so).
2. The first ``--slice-days`` days again, through gridledger's path and through the reference path (web3
   contract calls over eth-tester, one transaction per batch and a block per transaction, one signature per
   reading, each period declared, posted and settled on its own, ``pp.runpp`` every step; the same day-ahead
   declarations): wall times, their ratio, and the check that the settlement results are identical (every
   PeriodSettled in order, each member's payouts, penalties and accepted energy per day, every accepted reading,
   every member's final token balance and collateral, the contract's totals). Exits 1 if they differ.

Targets (issue 10): year <= 300 s on py-evm and <= 60 s on revm, peak memory <= 1.5 GiB, ratio >= 10x on py-evm
and >= 40x on revm. The script prints the figures and whether each target is met; it asserts only the equality.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.rss import RssSampler  # noqa: E402
from sim.capabilities.vpp.ledger import member_flows  # noqa: E402
from sim.runner import RunResult, run_scenario  # noqa: E402
from sim.scenario import Scenario, load_scenario  # noqa: E402

SCENARIO = ROOT / "scenarios" / "vpp_year_100_prosumers.toml"
TARGET_YEAR_S = {"py-evm": 300.0, "revm": 60.0}
TARGET_RATIO = {"py-evm": 10.0, "revm": 40.0}
TARGET_PEAK_MIB = 1.5 * 1024


def timed_run(scenario: Scenario) -> tuple[RunResult, float]:
    t = time.perf_counter()
    result = run_scenario(scenario, scenario_file=str(SCENARIO))
    return result, time.perf_counter() - t


def settlement_record(result: RunResult) -> dict:
    """What settlement decided, independent of how it was posted (readings per value or per meter-day) and
    settled (per period or per day): every PeriodSettled in order; each member's payouts, penalties and
    accepted energy per day; every accepted reading; balances, collateral and the contract's totals."""
    ppd = 86_400 // result.scenario.run.settlement_s
    per_member_day = {}
    for name, frame in zip(("payout_ueur", "penalty_ueur", "delivered_wh"), member_flows(result.ledger)):
        col = "energy_wh" if name == "delivered_wh" else "amount_ueur"
        if len(frame):
            per_member_day[name] = frame.groupby([frame.period - frame.period % ppd, "member"])[col].sum().to_dict()
    log = result.readings
    accepted = log[(log.get("status") == "accepted")] if len(log) else log
    vpp = result.summary["vpp"]
    return {
        "periods_settled": [e.args for e in result.twin.chain.events
                            if e.contract == "VppSettlement" and e.event == "PeriodSettled"],
        "per_member_day": per_member_day,
        "accepted_readings": sorted(zip(accepted.period, accepted.meter, accepted.energy_wh, accepted.quality)),
        "members": {m: (d["token_balance_eur"], d["collateral_eur"]) for m, d in vpp["member_detail"].items()},
        "on_chain_totals_eur": vpp["on_chain_totals_eur"],
    }


def phases(result: RunResult) -> str:
    t = result.manifest["timings"]
    return ", ".join(f"{k.removesuffix('_s')} {t[k]:.1f} s" for k in
                     ("physics_s", "agents_s", "measurement_s", "chain_s", "results_s") if k in t)


def verdict(ok: bool) -> str:
    return "target met" if ok else "TARGET MISSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", choices=["py-evm", "revm"], default="py-evm")
    ap.add_argument("--days", type=float, default=365.0, help="horizon of the long run (default: a year)")
    ap.add_argument("--slice-days", type=float, default=2.0, help="horizon of the reference comparison")
    ap.add_argument("--no-reference", action="store_true", help="skip the reference comparison")
    args = ap.parse_args()

    base = load_scenario(SCENARIO).with_overrides({"chain.backend": args.chain})
    print(f"machine      {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    n = len(base.prosumer_ids())
    year = base.with_overrides({"run.duration_s": int(args.days * 86_400)})
    print(f"run          {n} prosumers, {year.n_steps} steps of {year.run.step_s} s, {year.n_periods} settlement "
          f"periods, chain {args.chain}, settled by {year.vpp.settlement}")

    sampler = RssSampler(every_s=max(1.0, args.days / 365 * 2))
    sampler.start()
    result, wall = timed_run(year)
    samples = sampler.stop()
    peak_mib = max(m for _, m in samples)
    chain = result.summary["chain"]
    readings = result.summary["vpp"]["readings"]
    print(f"wall         {wall:.1f} s  ({phases(result)})")
    if args.days < 365:
        setup_s = result.manifest["timings"]["setup_s"]
        year_s = setup_s + (wall - setup_s) * 365 / args.days
        print(f"             extrapolated to 365 days: {year_s:.0f} s (set-up {setup_s:.1f} s once, the rest x "
              f"{365 / args.days:.0f}; an estimate, not a measurement)")
    else:
        year_s = wall
    print(f"             {verdict(year_s <= TARGET_YEAR_S[args.chain])}: <= {TARGET_YEAR_S[args.chain]:.0f} s on "
          f"{args.chain}")
    print(f"chain        {chain['transactions']} transactions, {chain['blocks']} blocks, {chain['gas_used'] / 1e9:.2f} "
          f"Ggas, {chain['events']} events, {chain['readings_verified']} readings verified on chain "
          f"({readings['posted']} posted, {readings['refused_on_chain']} refused)")
    quarters = [samples[min(len(samples) - 1, round(q * (len(samples) - 1)))][1] for q in (0.25, 0.5, 0.75, 1.0)]
    print(f"memory       peak {peak_mib:.0f} MiB resident ({verdict(peak_mib <= TARGET_PEAK_MIB)}: <= "
          f"{TARGET_PEAK_MIB:.0f} MiB); at 1/4, 1/2, 3/4, end of the run: "
          + ", ".join(f"{m:.0f}" for m in quarters) + " MiB")
    print(f"             getrusage max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    timings = result.manifest["timings"]
    clock = (timings["setup_s"], wall - timings.get("results_s", 0.0))  # the clock runs between set-up and results
    running = [(t, m) for t, m in samples if clock[0] <= t <= clock[1]]
    if len(running) >= 3:
        t_s, mib = zip(*running)
        slope_mib_per_s = float(np.polyfit(t_s, mib, 1)[0])
        mib_per_day = slope_mib_per_s * (clock[1] - clock[0]) / args.days
        after = [m for t, m in samples if t > clock[1]] or [running[-1][1]]
        print(f"             growth while the clock runs (least-squares slope of {len(running)} samples between "
              f"set-up and results): {mib_per_day:.2f} MiB per simulated day "
              f"({'flat' if mib_per_day * 365 < 100 else 'NOT FLAT'}: x365 = {mib_per_day * 365:.0f} MiB); "
              f"assembling the results at the end: {max(after) - running[-1][1]:+.0f} MiB")
    del result
    gc.collect()
    if args.no_reference:
        return 0

    sliced = base.with_overrides({"run.duration_s": int(args.slice_days * 86_400)})
    reference = sliced.with_overrides({"chain.backend": "web3", "feeder.solver": "runpp-lightsim2grid",
                                       "vpp.settlement": "period", "vpp.declaration": "day_ahead"})
    fast, fast_wall = timed_run(sliced)
    print(f"slice        {args.slice_days:g} days through gridledger ({args.chain}): {fast_wall:.1f} s  "
          f"({phases(fast)})")
    ref, ref_wall = timed_run(reference)
    print(f"             through the reference path (web3 over eth-tester, block per transaction, signature per "
          f"reading, period by period, pp.runpp per step): {ref_wall:.1f} s  ({phases(ref)})")
    ratio = ref_wall / fast_wall
    print(f"ratio        reference / gridledger = {ratio:.1f}x  ({verdict(ratio >= TARGET_RATIO[args.chain])}: >= "
          f"{TARGET_RATIO[args.chain]:.0f}x on {args.chain})")
    fast_clock, ref_clock = (w - r.manifest["timings"]["setup_s"] for w, r in ((fast_wall, fast), (ref_wall, ref)))
    print(f"             without either run's set-up (the clock and results only): {ref_clock:.1f} s / "
          f"{fast_clock:.1f} s = {ref_clock / fast_clock:.1f}x (a supplementary figure; the target is the one above)")
    a, b = settlement_record(fast), settlement_record(ref)
    same = a == b
    print(f"equality     settlement results on the slice {'IDENTICAL' if same else 'DIFFER'}: "
          f"{len(a['periods_settled'])} periods settled, {len(a['accepted_readings'])} accepted readings, "
          f"{len(a['members'])} members' balances and collateral")
    if not same:
        for key in a:
            if a[key] != b[key]:
                print(f"             differs: {key}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
