"""Check the premium formula off chain: the insurance scenario's pool over many simulated years of outages.

The twin is built once (weather, expected production, premiums, as in a run); then ``--years`` independent
draws of every site's outage process (the twin's own sampler, ``grid_models.outages``) go through the run's
claim rules — measured = the meter's whole-Wh register difference of potential x availability, VEE
(``sim.measurement.vee.MeterVee``) must accept it, an outage in the period, E > 0, shortfall above the threshold,
paid up to the sum insured — and each year's loss ratio (payouts / premiums) is compared with the target. No chain:
the contract's arithmetic is replayed, so this shows the pricing, not the contract (tests do that).

    python benchmarks/insurance_loss_ratio.py [scenarios/insurance.toml] [--years 200] [--seed 7]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from contracts.eip712 import QUALITY_MEASURED
from grid_models.outages import units_availability
from sim.measurement.meters import RawReading
from sim.measurement.vee import MeterVee
from sim.scenario import load_scenario
from sim.twin import Twin

ROOT = Path(__file__).resolve().parents[1]
BPS = 10_000


def year_payouts_ueur(cap, twin: Twin, rng: np.random.Generator) -> float:
    """One draw of every site's outages over the run's horizon, paid by the contract's rules [ueur]."""
    spec = cap.spec
    th_bps = round(spec.threshold_percent * 100)
    trig, ex = round(spec.trigger_percent * 100), round(spec.exit_percent * 100)
    spp, total = twin.steps_per_period, 0.0
    for j, site in enumerate(spec.producers):
        avail = units_availability(site.units, twin.n_steps, twin.step_s, rng, mtbf_h=site.mtbf_h, mttr_h=site.mttr_h)
        register = np.floor(np.cumsum(cap.potential_kw[:, j] * avail * twin.step_s / 3.6))[spp - 1 :: spp]
        measured = np.diff(np.concatenate([[0.0], register])).astype(np.int64)
        vee = MeterVee("mc", cap.meters[j].max_wh_per_period, twin.settlement_s)
        for p, wh in enumerate(measured):
            vee.receive(RawReading("mc", p, float(wh)))
        accepted = np.array([v.quality == QUALITY_MEASURED for v in vee.finalise_through(len(measured) - 1)])
        expected = cap.series[j].caps_wh.astype(np.int64)
        outage = avail.reshape(-1, spp).min(axis=1) < 1.0
        claim = outage & accepted & (expected > 0) & (measured * BPS < expected * (BPS - th_bps))
        if spec.variant == "parametric":  # the contract's exact index: cover x (trig E - m BPS) // ((trig - ex) E)
            cover = cap.ins.call("cover_per_period_ueur", cap.accounts[j])
            e_obj, m_obj = np.maximum(expected, 1).astype(object), measured.astype(object)  # products pass 2**63
            index = cover * np.maximum(trig * e_obj - m_obj * BPS, 0) // ((trig - ex) * e_obj)
            amount = np.where(measured * BPS <= ex * expected, cover, index).astype(np.int64)
        else:
            amount = (expected - measured) * cap.price // 1000
        paid = np.cumsum(np.where(claim, amount, 0))
        total += float(min(paid[-1], cap.ins.call("sum_insured_ueur", cap.accounts[j])))
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "insurance.toml"))
    ap.add_argument("--years", type=int, default=200, help="outage draws")
    ap.add_argument("--seed", type=int, help="the run's seed (weather); default the scenario's")
    ap.add_argument("--draw-seed", type=int, default=2025, help="root seed of the outage draws")
    args = ap.parse_args()
    scenario = load_scenario(args.scenario).with_overrides({"chain.backend": "revm"})
    if args.seed is not None:
        scenario = scenario.with_overrides({"run.seed": args.seed})
    twin = Twin(scenario)
    cap = twin.capability("insurance")
    premiums = float(sum(cap.premiums)) * twin.n_periods
    expected = float(sum(cap.expected_payout_ueur))
    streams = np.random.SeedSequence(args.draw_seed).spawn(args.years)
    ratios = np.array([year_payouts_ueur(cap, twin, np.random.default_rng(s)) / premiums for s in streams])
    target = cap.spec.target_loss_ratio
    print(f"{args.years} simulated years, seed {scenario.run.seed}, variant {cap.spec.variant}: priced expected "
          f"payouts {expected / premiums:.4f} of premiums (target {target})")
    print(f"loss ratio: mean {ratios.mean():.4f} ± {ratios.std(ddof=1) / np.sqrt(len(ratios)):.4f} (standard "
          f"error), sd {ratios.std(ddof=1):.4f}, 5-95 % {np.quantile(ratios, 0.05):.3f}-"
          f"{np.quantile(ratios, 0.95):.3f}, min-max {ratios.min():.3f}-{ratios.max():.3f}")


if __name__ == "__main__":
    main()
