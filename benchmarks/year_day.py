"""One simulated day of the 100-prosumer VPP year (``scenarios/vpp_year_100_prosumers.toml``), captured from the
revm run and replayed on a fresh chain: what ``settle_day`` executes that day (declarations, every meter's
values and quality flags, each member's collateral left, shares, meter ranges, the day's prices).

    python benchmarks/year_day.py [--day 166] [--out /tmp/vpp_year_day_166.json]

``capture(day)`` runs the year scenario on revm up to that day and records the inputs of its ``settle_day``;
``replay(captured, backend)`` deploys the same VppSettlement (same parameters, members, shares, ranges,
collateral, published prices), commits the declarations and returns what ``settle_day`` needs (the values
signed again with fresh meter keys: the signature check costs the same). ``benchmarks/profile_settle_day.py
--year-day D`` counts its opcodes. Day 166 is 2025-06-16 (the scenario starts on 1 January).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contracts.backends import make_chain  # noqa: E402
from contracts.eip712 import key_for, sign_reading_batch  # noqa: E402
from contracts.token import EuroToken  # noqa: E402
from contracts.vpp import VppSettlement  # noqa: E402

SCENARIO = ROOT / "scenarios" / "vpp_year_100_prosumers.toml"
GENESIS_S = 1_700_000_000
PERIOD_S = 3600


def capture(day: int) -> dict:
    """Run the year scenario on revm through ``day`` (0 = 1 January) and return the inputs of that day's
    ``settle_day`` (the ``day + 1``-th call) and the contract state it reads."""
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    captured: dict = {}
    calls = [0]
    original = VppSettlement.settle_day

    def spy(self, first_period, declared_wh, batches, *, sender, gas=None):
        if calls[0] == day:
            captured.update(_state(self, first_period, declared_wh, batches))
        calls[0] += 1
        kw = {} if gas is None else {"gas": gas}
        return original(self, first_period, declared_wh, batches, sender=sender, **kw)

    VppSettlement.settle_day = spy
    try:
        scenario = load_scenario(SCENARIO).with_overrides({"run.duration_s": (day + 2) * 86_400,
                                                          "chain.backend": "revm"})
        run_scenario(scenario)
    finally:
        VppSettlement.settle_day = original
    if not captured:
        raise SystemExit(f"day {day}: no settle_day call captured ({calls[0]} calls)")
    return captured


def _state(vpp: VppSettlement, first_period: int, declared_wh: list[list[int]], batches: list) -> dict:
    """What a settle_day reads: its arguments and, per member, share, meter range and collateral left."""
    n_members = len(batches)
    members = [vpp.call("members", i) for i in range(n_members)]
    return {
        "first_period": first_period,
        "declared_wh": declared_wh,
        "energy_wh": [list(b.energy_wh) for b in batches],
        "quality": [list(b.quality) for b in batches],
        "share_bps": [vpp.call("share_bps", m) for m in members],
        "max_wh": [vpp.call("max_wh_per_period", b.meter) for b in batches],
        "collateral_ueur": [vpp.collateral_ueur(m) for m in members],
        "prices_ueur_per_kwh": [vpp.call("period_price_ueur_per_kwh", first_period + k)
                                for k in range(len(declared_wh))],
        "price_ueur_per_kwh": vpp.call("price_ueur_per_kwh"),
        "penalty_ueur_per_kwh": vpp.call("penalty_ueur_per_kwh"),
        "tolerance_bps": vpp.call("tolerance_bps"),
    }


def replay(c: dict, backend: str = "py-evm"):
    """Deploy the captured day's contract state on a fresh ``backend`` chain (the day is the first one) and
    commit its declarations; returns (chain, vpp, operator, settle_day arguments)."""
    n_members, n_periods = len(c["energy_wh"]), len(c["declared_wh"])
    t0_s = GENESIS_S + 7200
    chain = make_chain(backend, GENESIS_S, seed=0)
    bank, operator, buyer = (chain.new_account(key_for(0, x)) for x in ("bank", "operator", "buyer"))
    members = [chain.new_account(key_for(0, f"member-{i}")) for i in range(n_members)]
    meter_keys = [key_for(0, f"meter-{i}") for i in range(n_members)]
    token = EuroToken.deploy(chain, minter=bank)
    vpp = VppSettlement.deploy(chain, operator=operator, token=token.address, buyer=buyer, t0_s=t0_s,
                               period_s=PERIOD_S, n_periods=n_periods, price_ueur_per_kwh=c["price_ueur_per_kwh"],
                               penalty_ueur_per_kwh=c["penalty_ueur_per_kwh"], tolerance_bps=c["tolerance_bps"])
    token.mint(buyer, 10**15, sender=bank)
    token.approve(vpp.address, 10**15, sender=buyer)
    vpp.register_members([(m, k.public_key.to_checksum_address(), s, w) for m, k, s, w
                          in zip(members, meter_keys, c["share_bps"], c["max_wh"])], sender=operator)
    vpp.seal(sender=operator)
    for m, collateral_ueur in zip(members, c["collateral_ueur"]):
        if collateral_ueur > 0:
            token.mint(m, collateral_ueur, sender=bank)
            token.approve(vpp.address, collateral_ueur, sender=m)
            vpp.deposit_collateral(collateral_ueur, sender=m)
    for k, price in enumerate(c["prices_ueur_per_kwh"]):
        if price > 0:
            vpp.publish_price(k, price, sender=buyer)
    vpp.commit_declarations(0, c["declared_wh"], sender=operator)
    chain.set_time(t0_s + n_periods * PERIOD_S + 60)
    batches = [sign_reading_batch(key, vpp.domain_separator, 0, e, q, meter=key.public_key.to_checksum_address())
               for key, e, q in zip(meter_keys, c["energy_wh"], c["quality"])]
    return chain, vpp, operator, (0, c["declared_wh"], batches)


def load_or_capture(day: int, path: Path | None = None) -> dict:
    """The captured day from ``path`` (default /tmp/vpp_year_day_<day>.json), captured first if missing."""
    path = path or Path(f"/tmp/vpp_year_day_{day}.json")
    if path.exists():
        return json.loads(path.read_text())
    captured = capture(day)
    path.write_text(json.dumps(captured))
    return captured


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--day", type=int, default=166)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    c = load_or_capture(a.day, a.out)
    short = sum(1 for i in range(len(c["energy_wh"])) for k in range(len(c["declared_wh"]))
                if c["energy_wh"][i][k] * 10_000 < c["declared_wh"][k][i] * (10_000 - c["tolerance_bps"]))
    print(f"day {a.day}: {len(c['energy_wh'])} members x {len(c['declared_wh'])} periods, {short} short values, "
          f"{sum(1 for x in c['collateral_ueur'] if x == 0)} members without collateral, "
          f"{sum(map(sum, c['quality']))} estimated values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
