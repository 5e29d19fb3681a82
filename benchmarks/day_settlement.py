"""Chain cost of one simulated day of VPP settlement: today's per-period path against the day-settlement
prototype, same members, same signed readings, on a fresh chain each.

    python benchmarks/day_settlement.py [--chain py-evm|revm] [--members 100] [--periods 24] [--days 2]

Per-period path (what the simulation runs today): ``declare`` each period, every meter's day as one signed
ReadingBatch through ``submit_reading_batches`` (calls of <= 150 values), ``settle`` each period.
Day path: ``commit_declarations`` once before the day, ``settle_day`` once after it (one ReadingBatch per
meter, one PeriodSettled per period, one token call paying every member). Prints gas and chain wall time per simulated
day (signing excluded: the meters sign in the simulation's agents either way) and checks that both paths end
with the same balances, collateral and PeriodSettled figures for day 0 (exit 1 otherwise). No target asserted.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contracts.backends import make_chain  # noqa: E402
from contracts.eip712 import key_for, sign_reading_batch  # noqa: E402
from contracts.token import EuroToken  # noqa: E402
from contracts.vpp import VppSettlement  # noqa: E402

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200
PERIOD_S = 3600
MAX_WH = 20_000  # per member and period [Wh]
COLLATERAL_UEUR = 50_000_000


def setup(backend: str, n_members: int, n_periods_total: int, seed: int = 0):
    chain = make_chain(backend, GENESIS_S, seed=seed)
    bank, operator, buyer = (chain.new_account(key_for(seed, x)) for x in ("bank", "operator", "buyer"))
    members = [chain.new_account(key_for(seed, f"member-{i}")) for i in range(n_members)]
    meter_keys = [key_for(seed, f"meter-{i}") for i in range(n_members)]
    token = EuroToken.deploy(chain, minter=bank)
    vpp = VppSettlement.deploy(chain, operator=operator, token=token.address, buyer=buyer, t0_s=T0_S,
                               period_s=PERIOD_S, n_periods=n_periods_total, price_ueur_per_kwh=100_000,
                               penalty_ueur_per_kwh=300_000, tolerance_bps=1000)
    token.mint(buyer, 10**15, sender=bank)
    token.approve(vpp.address, 10**15, sender=buyer)
    shares = [10_000 // n_members] * n_members
    shares[-1] += 10_000 - sum(shares)
    for m, k, s in zip(members, meter_keys, shares):
        vpp.register_member(m, k.public_key.to_checksum_address(), s, MAX_WH, sender=operator)
        token.mint(m, COLLATERAL_UEUR, sender=bank)
        token.approve(vpp.address, COLLATERAL_UEUR, sender=m)
    vpp.seal(sender=operator)
    for m in members:
        vpp.deposit_collateral(COLLATERAL_UEUR, sender=m)
    return chain, token, vpp, operator, buyer, members, meter_keys


def day_data(n_members: int, n_periods: int, day: int, seed: int = 0):
    """Declarations (periods x members) and deliveries (members x periods) [Wh]; about a third short."""
    rng = random.Random(seed * 1000 + day)
    declared = [[rng.randrange(0, MAX_WH // 2) for _ in range(n_members)] for _ in range(n_periods)]
    delivered = [[min(MAX_WH, max(0, declared[p][i] + rng.randrange(-3000, 2000))) for p in range(n_periods)]
                 for i in range(n_members)]
    return declared, delivered


def run(backend: str, path: str, n_members: int, n_periods: int, days: int) -> dict:
    chain, token, vpp, operator, buyer, members, keys = setup(backend, n_members, n_periods * days)
    gas0, tx0 = chain.gas_used, chain.n_transactions
    chain_s = sign_s = 0.0
    data = [day_data(n_members, n_periods, day) for day in range(days)]

    def declare(day: int) -> float:
        t = time.perf_counter()
        if path == "day":
            vpp.commit_declarations(day * n_periods, data[day][0], sender=operator)
        else:
            for k in range(n_periods):
                vpp.declare(day * n_periods + k, data[day][0][k], sender=operator)
        return time.perf_counter() - t

    chain_s += declare(0)  # at genesis, before period 0
    for day in range(days):
        first = day * n_periods
        declared, delivered = data[day]
        if day + 1 < days:  # the next day's declarations go in during this day's last period
            chain.set_time(T0_S + (first + n_periods) * PERIOD_S - 600)
            chain_s += declare(day + 1)
        chain.set_time(T0_S + (first + n_periods) * PERIOD_S + 60)
        t = time.perf_counter()
        batches = [sign_reading_batch(keys[i], vpp.domain_separator, first, delivered[i], [0] * n_periods,
                                      meter=keys[i].public_key.to_checksum_address()) for i in range(n_members)]
        sign_s += time.perf_counter() - t
        t = time.perf_counter()
        if path == "day":
            vpp.settle_day(first, declared, batches, sender=operator)
        else:
            assert vpp.submit_reading_batches(batches, sender=operator) == []
            for k in range(n_periods):
                vpp.settle(first + k, sender=operator)
        chain_s += time.perf_counter() - t
    settled = [tuple(e.args.values()) for e in chain.events if e.event == "PeriodSettled"]
    return {"gas_per_day": (chain.gas_used - gas0) / days, "tx_per_day": (chain.n_transactions - tx0) / days,
            "chain_s_per_day": chain_s / days, "sign_s_per_day": sign_s / days,
            "balances": [token.balance_of(m) for m in members],
            "collateral": [vpp.collateral_ueur(m) for m in members], "settled": settled}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chain", default="py-evm", choices=("py-evm", "revm"))
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--periods", type=int, default=24)
    ap.add_argument("--days", type=int, default=2, help="days through the day path (the per-period path runs 1)")
    a = ap.parse_args()
    print(f"{a.chain}, {a.members} members x {a.periods} periods; {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    per = run(a.chain, "period", a.members, a.periods, 1)
    day = run(a.chain, "day", a.members, a.periods, a.days)
    for name, r in (("per-period", per), ("settle_day", day)):
        print(f"{name:>10}: {r['gas_per_day'] / 1e6:7.2f} Mgas/day  {r['tx_per_day']:5.0f} tx/day  "
              f"chain {r['chain_s_per_day']:7.3f} s/day  (signing {r['sign_s_per_day']:.3f} s/day)  "
              f"year ~{365 * r['chain_s_per_day']:7.1f} s of chain")
    print(f"ratio per-period / settle_day: gas {per['gas_per_day'] / day['gas_per_day']:.1f}x, "
          f"wall {per['chain_s_per_day'] / day['chain_s_per_day']:.1f}x")
    same = (per["settled"] == day["settled"][:a.periods])
    if a.days == 1:
        same = same and per["balances"] == day["balances"] and per["collateral"] == day["collateral"]
    print("day 0 identical (PeriodSettled" + (", balances, collateral" if a.days == 1 else "") + "):", same)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
