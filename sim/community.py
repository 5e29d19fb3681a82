"""The community on chain: accounts for every actor with money, the EuroToken, the VppSettlement contract,
members registered with their meters and shares, collateral deposited — all before the clock starts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.chain import Chain
from contracts.eip712 import key_for
from contracts.token import EuroToken, eur_to_ueur
from contracts.vpp import VppSettlement
from sim.scenario import SHARE_TOTAL_BPS, Scenario

BUYER_FLOAT_EUR = 1_000_000_000.0  # the buyer's money supply: never the binding limit


def shares_bps(weights: np.ndarray) -> list[int]:
    """Integer basis points proportional to ``weights`` summing to exactly 10 000 (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = w / w.sum() * SHARE_TOTAL_BPS
    bps = np.floor(exact).astype(int)
    order = np.argsort(-(exact - bps), kind="stable")
    bps[order[: SHARE_TOTAL_BPS - bps.sum()]] += 1
    return [int(x) for x in bps]


def member_weights(scenario: Scenario, pv_kwp: dict[str, float]) -> np.ndarray:
    members = scenario.vpp_member_ids()
    rule = scenario.vpp.share_rule
    if rule == "explicit":
        return np.array([scenario.vpp.shares_percent[m] for m in members])
    if rule == "pv_kwp":
        return np.array([pv_kwp[m] for m in members])
    return np.ones(len(members))


@dataclass
class Community:
    chain: Chain
    token: EuroToken
    vpp: VppSettlement
    bank: str
    operator: str
    buyer: str
    accounts: dict[str, str]  # prosumer id -> address
    shares_bps: dict[str, int]


def build_community(
    scenario: Scenario,
    *,
    t0_s: int,
    member_meters: dict[str, tuple[str, int]],
    pv_kwp: dict[str, float],
) -> Community:
    """Deploy and set up; ``member_meters`` maps member id to (meter address, max Wh per period).

    The chain's genesis is one day before period 0, so that set-up and the first declarations precede it.
    """
    seed, prices = scenario.run.seed, scenario.prices
    chain = Chain(genesis_timestamp=t0_s - 86_400, seed=seed)
    bank = chain.new_account(key_for(seed, "bank"))
    operator = chain.new_account(key_for(seed, "vpp-operator"))
    buyer = chain.new_account(key_for(seed, "energy-buyer"))
    members = scenario.vpp_member_ids()
    accounts = {m: chain.new_account(key_for(seed, f"prosumer/{m}")) for m in scenario.prosumer_ids()}

    token = EuroToken.deploy(chain, minter=bank)
    vpp = VppSettlement.deploy(
        chain,
        operator=operator,
        token=token.address,
        buyer=buyer,
        t0_s=t0_s,
        period_s=scenario.run.settlement_s,
        n_periods=scenario.n_periods,
        price_ueur_per_kwh=eur_to_ueur(prices.energy_eur_per_kwh),
        penalty_ueur_per_kwh=eur_to_ueur(prices.penalty_eur_per_kwh),
        tolerance_bps=round(scenario.vpp.tolerance_percent * 100),
    )
    token.mint(buyer, eur_to_ueur(BUYER_FLOAT_EUR), sender=bank)
    token.approve(vpp.address, eur_to_ueur(BUYER_FLOAT_EUR), sender=buyer)

    shares = dict(zip(members, shares_bps(member_weights(scenario, pv_kwp))))
    for m in members:
        meter, max_wh = member_meters[m]
        vpp.register_member(accounts[m], meter, shares[m], max_wh, sender=operator)
    vpp.seal(sender=operator)
    collateral = eur_to_ueur(prices.member_collateral_eur)
    if collateral:
        for m in members:
            token.mint(accounts[m], collateral, sender=bank)
            token.approve(vpp.address, collateral, sender=accounts[m])
            vpp.deposit_collateral(collateral, sender=accounts[m])
    return Community(chain, token, vpp, bank, operator, buyer, accounts, shares)
