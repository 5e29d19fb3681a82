"""A MutualInsurance with a token, an oracle and members, on a fresh chain of either backend."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.backends import make_chain
from contracts.chain import BaseChain
from contracts.eip712 import key_for, sign_reading
from contracts.insurance import MutualInsurance
from contracts.token import EuroToken

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200
PERIOD_S = 3600
PRICE = 100_000  # ueur/kWh
THRESHOLD_BPS = 2000
SUM_INSURED = 2_000_000
PREMIUM = 400_000
COVER = 500_000
MAX_WH = 50_000  # each member's rated energy per period: readings and expected production above are refused


@dataclass
class Ins:
    chain: BaseChain
    token: EuroToken
    ins: MutualInsurance
    bank: str
    insurer: str
    oracle: str
    members: list[str]
    meter_keys: list

    def at_period_end(self, period: int) -> None:
        self.chain.set_time(T0_S + (period + 1) * PERIOD_S + 30)

    def in_period(self, period: int) -> None:
        self.chain.set_time(T0_S + period * PERIOD_S + 30)

    def measured(self, i: int, period: int, wh: int, key=None) -> list[tuple]:
        r = sign_reading(key or self.meter_keys[i], self.ins.domain_separator, period, wh, 0)
        return self.ins.submit_readings([r], sender=self.insurer)


def make_insurance(backend="py-evm", n=3, parametric=False, seed=0, funds=10**9) -> Ins:
    chain = make_chain(backend, GENESIS_S, seed=seed)
    bank = chain.new_account(key_for(seed, "bank"))
    insurer = chain.new_account(key_for(seed, "insurer"))
    oracle = chain.new_account(key_for(seed, "oracle"))
    members = [chain.new_account(key_for(seed, f"producer-{i}")) for i in range(n)]
    keys = [key_for(seed, f"producer-meter-{i}") for i in range(n)]
    token = EuroToken.deploy(chain, minter=bank)
    ins = MutualInsurance.deploy(chain, insurer=insurer, token=token.address, oracle=oracle, t0_s=T0_S,
                                 period_s=PERIOD_S, price_ueur_per_kwh=PRICE, threshold_bps=THRESHOLD_BPS,
                                 parametric=parametric, trigger_bps=8000 if parametric else 0,
                                 exit_bps=3000 if parametric else 0)
    for m, k in zip(members, keys):
        ins.join(m, k.public_key.to_checksum_address(), SUM_INSURED, PREMIUM, COVER, MAX_WH, sender=insurer)
        if funds:
            token.mint(m, funds, sender=bank)
        token.approve(ins.address, 10**18, sender=m)
    return Ins(chain, token, ins, bank, insurer, oracle, members, keys)
