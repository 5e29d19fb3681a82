"""Wrapper of MutualInsurance: membership, premiums, oracle's expected production and outages, signed measured
production, claims and solvency."""

from __future__ import annotations

from contracts.batch import post_in_batches
from contracts.chain import BaseChain
from contracts.eip712 import SignedReading
from contracts.wrapper import ContractWrapper

MAX_BATCH = 128  # MutualInsurance.vy's MAX_BATCH (DynArray bound of submit_readings)


class MutualInsurance(ContractWrapper):
    @classmethod
    def deploy(cls, chain: BaseChain, *, insurer: str, token: str, oracle: str, t0_s: int, period_s: int,
               price_ueur_per_kwh: int, threshold_bps: int, parametric: bool = False, trigger_bps: int = 0,
               exit_bps: int = 0) -> MutualInsurance:
        contract = chain.deploy("MutualInsurance", token, oracle, t0_s, period_s, price_ueur_per_kwh, threshold_bps,
                                parametric, trigger_bps, exit_bps, sender=insurer)
        return cls(chain, contract)

    def join(self, member: str, meter: str, sum_insured_ueur: int, premium_ueur: int, cover_per_period_ueur: int,
             max_wh_per_period: int, *, sender: str):
        """Admit ``member`` (insurer only); ``max_wh_per_period`` bounds its readings and expected production [Wh]
        (the meter's range: rated power x period x 1.1)."""
        self._tx("join", member, meter, sum_insured_ueur, premium_ueur, cover_per_period_ueur, max_wh_per_period,
                 sender=sender)

    def collect_premiums(self, period: int, *, sender: str):
        """Premiums of the current or the next period (insurer only)."""
        return self._tx("collect_premiums", period, sender=sender)

    def post_expected(self, period: int, members: list[str], expected_wh: list[int], weather_hash: bytes, *,
                      sender: str):
        self._tx("post_expected", period, members, expected_wh, weather_hash, sender=sender)

    def submit_readings(self, readings: list[SignedReading], *, sender: str) -> list[tuple[SignedReading, str]]:
        """Post signed readings in batches of ``MAX_BATCH``; a reverting batch is retried one by one. Returns the
        refused ones with the contract's reasons."""
        return post_in_batches(lambda batch: self._tx("submit_readings", [r.as_tuple() for r in batch],
                                                      sender=sender), readings, MAX_BATCH)

    def report_outage(self, period: int, member: str, available_bps: int, *, sender: str):
        """Record ``member``'s outage in ``period`` (oracle only)."""
        self._tx("report_outage", period, member, available_bps, sender=sender)

    def claim(self, period: int, loss_wh: int, *, sender: str):
        return self._tx("claim", period, loss_wh, sender=sender)

    def record_solvency(self, period: int, *, sender: str):
        return self._tx("record_solvency", period, sender=sender)

    def pool_ueur(self) -> int:
        return self.call("pool_ueur")

    def remaining_cover_ueur(self, member: str) -> int:
        return self.call("remaining_cover_ueur", member)
