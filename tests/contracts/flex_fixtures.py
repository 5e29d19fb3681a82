"""A FlexDelays with an operator, two customers and three outlets on a fresh chain (either backend)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.backends import make_chain
from contracts.chain import BaseChain
from contracts.eip712 import key_for, sign_delay
from contracts.flex import FlexDelays, OutletSpec, hours_mask

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200  # minute 0 is local midnight (day offset 0)
TOKENS_PER_KWH = 10
# (customer index, appliance code, rated W, per-event limit, daily limit, no-delay hours)
OUTLETS = [(0, 6, 11_000, 60, 90, [[6, 8]]), (0, 1, 110, 30, 120, []), (1, 4, 2_100, 90, 180, [])]


@dataclass
class Flex:
    chain: BaseChain
    flex: FlexDelays
    operator: str
    customers: list[str]
    outlet_keys: list
    stranger: str

    def at_minute(self, minute: int, second: int = 0) -> None:
        self.chain.set_time(T0_S + minute * 60 + second)

    def event(self, start_min: int, duration_min: int = 120, requested_w: int = 5_000) -> int:
        self.at_minute(start_min)
        return self.flex.create_event(start_min, duration_min, requested_w, sender=self.operator)

    def delay(self, i: int, event_id: int, start_min: int, delay_min: int, shifted_wh: int, key=None, code=None):
        return sign_delay(key or self.outlet_keys[i], self.flex.domain_separator, event_id, start_min, delay_min,
                          shifted_wh, OUTLETS[i][1] if code is None else code)

    def report(self, *delays):
        return self.flex.report_delays(list(delays), sender=self.stranger)


def make_flex(backend: str = "py-evm", seed: int = 0) -> Flex:
    chain = make_chain(backend, GENESIS_S, seed=seed)
    operator = chain.new_account(key_for(seed, "operator"))
    stranger = chain.new_account(key_for(seed, "stranger"))
    customers = [chain.new_account(key_for(seed, f"customer-{i}")) for i in range(2)]
    keys_ = [key_for(seed, f"outlet-{i}") for i in range(len(OUTLETS))]
    flex = FlexDelays.deploy(chain, operator=operator, t0_s=T0_S, day_offset_min=0, tokens_per_kwh=TOKENS_PER_KWH)
    flex.register_outlets([
        OutletSpec(k.public_key.to_checksum_address(), customers[c], code, w, ev, day, hours_mask(nd))
        for k, (c, code, w, ev, day, nd) in zip(keys_, OUTLETS)
    ], sender=operator)
    return Flex(chain, flex, operator, customers, keys_, stranger)
