"""A VppSettlement with a token, a buyer and members, on a fresh in-process chain."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from contracts.backends import make_chain
from contracts.chain import BaseChain
from contracts.eip712 import key_for
from contracts.token import EuroToken
from contracts.vpp import VppSettlement

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200
PERIOD_S = 3600
PRICE = 100_000  # ueur/kWh
PENALTY = 300_000
TOL_BPS = 1000
COLLATERAL = 5_000_000
MAX_WH = 10_000


@dataclass
class Vpp:
    chain: BaseChain
    token: EuroToken
    vpp: VppSettlement
    bank: str
    operator: str
    buyer: str
    members: list[str]
    meter_keys: list
    shares: list[int]

    def at_period_end(self, period: int, offset_s: int = 60) -> None:
        self.chain.set_time(T0_S + (period + 1) * PERIOD_S + offset_s)


def make_vpp(shares=(5000, 3000, 2000), seal=True, seed=0, backend="py-evm") -> Vpp:
    chain = make_chain(backend, GENESIS_S, seed=seed)
    bank = chain.new_account(key_for(seed, "bank"))
    operator = chain.new_account(key_for(seed, "operator"))
    buyer = chain.new_account(key_for(seed, "buyer"))
    members = [chain.new_account(key_for(seed, f"member-{i}")) for i in range(len(shares))]
    meter_keys = [key_for(seed, f"meter-{i}") for i in range(len(shares))]
    token = EuroToken.deploy(chain, minter=bank)
    vpp = VppSettlement.deploy(
        chain, operator=operator, token=token.address, buyer=buyer, t0_s=T0_S, period_s=PERIOD_S, n_periods=48,
        price_ueur_per_kwh=PRICE, penalty_ueur_per_kwh=PENALTY, tolerance_bps=TOL_BPS,
    )
    token.mint(buyer, 10**12, sender=bank)
    token.approve(vpp.address, 10**12, sender=buyer)
    for m, k, s in zip(members, meter_keys, shares):
        vpp.register_member(m, k.public_key.to_checksum_address(), s, MAX_WH, sender=operator)
        token.mint(m, COLLATERAL, sender=bank)
        token.approve(vpp.address, COLLATERAL, sender=m)
    if seal:
        vpp.seal(sender=operator)
        for m in members:
            vpp.deposit_collateral(COLLATERAL, sender=m)
    return Vpp(chain, token, vpp, bank, operator, buyer, members, meter_keys, list(shares))


@pytest.fixture(params=["py-evm", "revm"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def v(backend) -> Vpp:
    return make_vpp(backend=backend)
