"""Wrapper of HeatEfficiency: registration, references, signed heat readings in batches, settlement, reads."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.batch import Refused, post_in_batches
from contracts.chain import BaseChain as Chain
from contracts.eip712 import SignedHeatReading
from contracts.wrapper import ContractWrapper

MAX_BATCH = 64  # ~110 k gas per reading: a batch stays well inside one transaction's gas
MK_PER_K = 1000


@dataclass(frozen=True)
class ConsumerTotals:
    """Running totals of a consumer's accepted readings, read from the contract."""

    heat_wh: int
    volume_ml: int
    vt_supply_mlmc: int
    vt_return_mlmc: int

    def minus(self, other: ConsumerTotals) -> ConsumerTotals:
        return ConsumerTotals(self.heat_wh - other.heat_wh, self.volume_ml - other.volume_ml,
                              self.vt_supply_mlmc - other.vt_supply_mlmc, self.vt_return_mlmc - other.vt_return_mlmc)

    @property
    def t_supply_c(self) -> float:
        """Flow-weighted supply temperature [degC] (nan without volume)."""
        return self.vt_supply_mlmc / self.volume_ml / MK_PER_K if self.volume_ml else float("nan")

    @property
    def t_return_c(self) -> float:
        return self.vt_return_mlmc / self.volume_ml / MK_PER_K if self.volume_ml else float("nan")

    @property
    def delta_t_k(self) -> float:
        return self.t_supply_c - self.t_return_c


class HeatEfficiency(ContractWrapper):
    @classmethod
    def deploy(cls, chain: Chain, *, operator: str, token: str, t0_s: int, period_s: int,
               n_periods: int) -> HeatEfficiency:
        return cls(chain, chain.deploy("HeatEfficiency", token, t0_s, period_s, n_periods, sender=operator))

    def register_consumer(self, consumer: str, meter: str, max_heat_wh_per_period: int,
                          max_volume_ml_per_period: int, *, sender: str):
        """Register ``consumer`` with its meter's signing address and range: heat [Wh] and volume [ml] per period."""
        self.register_consumers([(consumer, meter, max_heat_wh_per_period, max_volume_ml_per_period)], sender=sender)

    def register_consumers(self, consumers: list[tuple[str, str, int, int]], *, sender: str):
        """``register_consumer`` for each ``(consumer, meter, max_heat_wh_per_period, max_volume_ml_per_period)``,
        in order, in one block."""
        self._tx_many("register_consumer", consumers, sender=sender)

    def seal(self, *, sender: str):
        self._tx("seal", sender=sender)

    def publish_references(self, period: int, delta_t_ref_mk: list[int], *, sender: str):
        """One reference cooling per consumer, in registration order [milli-K]."""
        self._tx("publish_references", period, list(delta_t_ref_mk), sender=sender)

    def submit_readings(self, readings: list[SignedHeatReading], *, sender: str) -> list[Refused]:
        """Post readings in batches; returns the readings the contract refused, with its reasons."""
        refused = post_in_batches(
            lambda batch: self._tx("submit_readings", [r.as_tuple() for r in batch], sender=sender), readings,
            MAX_BATCH,
        )
        return [Refused(r, reason) for r, reason in refused]

    def settle(self, period: int, pool_ueur: int, *, sender: str):
        return self._tx("settle", period, pool_ueur, sender=sender)

    # reads ------------------------------------------------------------------------------------------------
    def reference_k(self, period: int, consumer: str) -> float | None:
        """The reference cooling published for ``consumer`` in ``period`` [K], or None if not published."""
        if not self.call("reference_published", period):
            return None
        return self.call("delta_t_ref_mk", period, consumer) / MK_PER_K

    def tokens_of(self, period: int, consumer: str) -> int:
        return self.call("tokens_of", period, consumer)

    def tokens_in_period(self, period: int) -> int:
        return self.call("tokens_in_period", period)

    def pool_ueur(self, period: int) -> int:
        return self.call("pool_ueur", period)

    def is_settled(self, period: int) -> bool:
        return self.call("settled", period)

    def balance_of(self, consumer: str) -> int:
        return self.call("balanceOf", consumer)

    def total_supply(self) -> int:
        return self.call("totalSupply")

    def totals(self, consumer: str) -> ConsumerTotals:
        return ConsumerTotals(*(self.call(f"total_{f}", consumer)
                                for f in ("heat_wh", "volume_ml", "vt_supply_mlmc", "vt_return_mlmc")))
