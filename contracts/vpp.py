"""Wrapper of VppSettlement: declarations, signed readings in batches, settlement, reads."""

from __future__ import annotations

from contracts.batch import MAX_BATCH, Refused, post_in_batches
from contracts.chain import BaseChain as Chain, Contract
from contracts.eip712 import SignedReading, domain_separator

__all__ = ["MAX_BATCH", "Refused", "VppSettlement"]


class VppSettlement:
    def __init__(self, chain: Chain, contract: Contract):
        self.chain, self.contract = chain, contract
        self.domain_separator = domain_separator(chain.chain_id, contract.address)

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        *,
        operator: str,
        token: str,
        buyer: str,
        t0_s: int,
        period_s: int,
        n_periods: int,
        price_ueur_per_kwh: int,
        penalty_ueur_per_kwh: int,
        tolerance_bps: int,
    ) -> VppSettlement:
        contract = chain.deploy(
            "VppSettlement", token, buyer, t0_s, period_s, n_periods, price_ueur_per_kwh, penalty_ueur_per_kwh,
            tolerance_bps, sender=operator,
        )
        return cls(chain, contract)

    @property
    def address(self) -> str:
        return self.contract.address

    def _tx(self, fn: str, *args, sender: str):
        return self.chain.transact(self.contract, fn, *args, sender=sender)

    def register_member(self, member: str, meter: str, share_bps: int, max_wh_per_period: int, *, sender: str):
        self._tx("register_member", member, meter, share_bps, max_wh_per_period, sender=sender)

    def seal(self, *, sender: str):
        self._tx("seal", sender=sender)

    def deposit_collateral(self, amount_ueur: int, *, sender: str):
        self._tx("deposit_collateral", amount_ueur, sender=sender)

    def declare(self, period: int, energy_wh: list[int], *, sender: str):
        self._tx("declare", period, list(energy_wh), sender=sender)

    def publish_price(self, period: int, price_ueur_per_kwh: int, *, sender: str):
        self._tx("publish_price", period, price_ueur_per_kwh, sender=sender)

    def price_of(self, period: int) -> int:
        """Price that settles ``period`` [ueur/kWh]."""
        return self.call("price_of", period)

    def settle(self, period: int, *, sender: str):
        return self._tx("settle", period, sender=sender)

    def submit_readings(self, readings: list[SignedReading], *, sender: str) -> list[Refused]:
        """Post readings in batches (see ``contracts.batch``). Returns the refused readings."""
        refused = post_in_batches(
            lambda batch: self._tx("submit_readings", [r.as_tuple() for r in batch], sender=sender), readings
        )
        return [Refused(r, reason) for r, reason in refused]

    # reads ------------------------------------------------------------------------------------------------
    def call(self, fn: str, *args):
        return self.chain.call(self.contract, fn, *args)

    def declared_wh(self, period: int, member: str) -> int:
        return self.call("declared_wh", period, member)

    def delivered_wh(self, period: int, member: str) -> int:
        return self.call("delivered_wh", period, member)

    def collateral_ueur(self, member: str) -> int:
        return self.call("collateral_ueur", member)

    def is_settled(self, period: int) -> bool:
        return self.call("settled", period)
