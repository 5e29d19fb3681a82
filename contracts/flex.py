"""Wrapper of FlexDelays: outlet registration, DR events, signed delay reports in batches, public counters."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.batch import post_in_batches
from contracts.chain import BaseChain
from contracts.eip712 import SignedDelay
from contracts.wrapper import ContractWrapper

FLEX_UNITS_PER_TOKEN = 1000  # FlexDelays' token has 3 decimals: people read whole FLEX tokens (README, "Token units")
MAX_REGISTER_BATCH = 64


@dataclass(frozen=True)
class OutletSpec:
    """What the contract keeps of an outlet: signing address, customer account, appliance code, rated power [W]
    and the customer's limits; ``no_delay_hours`` is a 24-bit mask of local hours in which no delay may fall."""

    outlet: str
    customer: str
    appliance: int
    max_w: int
    max_delay_per_event_min: int
    max_delay_per_day_min: int
    no_delay_hours: int

    def as_tuple(self) -> tuple:
        return (self.outlet, self.customer, self.appliance, self.max_w, self.max_delay_per_event_min,
                self.max_delay_per_day_min, self.no_delay_hours)


def hours_mask(windows) -> int:
    """24-bit mask with bit h set for every local hour h inside one of the ``[from, to)`` windows."""
    mask = 0
    for a, b in windows:
        for h in range(a, b):
            mask |= 1 << h
    return mask


class FlexDelays(ContractWrapper):
    @classmethod
    def deploy(cls, chain: BaseChain, *, operator: str, t0_s: int, day_offset_min: int,
               tokens_per_kwh: int) -> FlexDelays:
        return cls(chain, chain.deploy("FlexDelays", t0_s, day_offset_min, tokens_per_kwh, sender=operator))

    def register_outlets(self, specs: list[OutletSpec], *, sender: str) -> None:
        for i in range(0, len(specs), MAX_REGISTER_BATCH):
            self._tx("register_outlets", [s.as_tuple() for s in specs[i : i + MAX_REGISTER_BATCH]], sender=sender)

    def create_event(self, start_min: int, duration_min: int, requested_w: int, *, sender: str) -> int:
        """Open a DR event; returns its id (from the ``DrEventCreated`` event of the receipt)."""
        receipt = self._tx("create_event", start_min, duration_min, requested_w, sender=sender)
        return next(e.args["event_id"] for e in receipt.events if e.event == "DrEventCreated")

    def report_delays(self, delays: list[SignedDelay], *, sender: str) -> list[tuple[SignedDelay, str]]:
        """Post signed delay reports in batches; returns the refused ones with the contract's reasons."""
        return post_in_batches(lambda batch: self._tx("report_delays", [d.as_tuple() for d in batch], sender=sender),
                               delays)

    def transfer(self, receiver: str, amount: int, *, sender: str) -> None:
        self._tx("transfer", receiver, amount, sender=sender)

    # reads ------------------------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return self.call("balanceOf", account)

    def total_supply(self) -> int:
        return self.call("totalSupply")

    def counters(self, customer: str) -> dict[str, int]:
        """A customer's public counters: delay minutes, DR events joined, delays, shifted Wh, token balance."""
        return {"delay_min": self.call("delay_min_of", customer), "events": self.call("events_of", customer),
                "delays": self.call("delays_of", customer), "shifted_wh": self.call("shifted_wh_of", customer),
                "tokens": self.balance_of(customer)}

    def totals(self) -> dict:
        return {"total_delay_min": self.call("total_delay_min"), "total_shifted_wh": self.call("total_shifted_wh"),
                "n_delays": self.call("n_delays"), "n_events": self.call("n_events"),
                "n_outlets": self.call("n_outlets"), "total_supply": self.total_supply(),
                "tokens_per_kwh": self.call("tokens_per_kwh"), "log_head": "0x" + self.call("log_head").hex()}
