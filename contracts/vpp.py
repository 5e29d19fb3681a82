"""Wrapper of VppSettlement: declarations, signed readings in batches, settlement, reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from contracts.batch import MAX_BATCH, Refused, post_in_batches
from contracts.chain import SETUP_GAS, Call, ChainRevert, Contract
from contracts.chain import BaseChain as Chain
from contracts.eip712 import SignedReading, SignedReadingBatch
from contracts.wrapper import ContractWrapper

__all__ = ["MAX_BATCH", "MAX_VALUES_PER_TX", "Refused", "RefusedBatch", "VppSettlement"]

MAX_METER_BATCHES = 128  # the contract's bound on meter batches per call
MAX_VALUES_PER_TX = 150  # ~55 kgas of checks and storage per value: a call stays under the 12 Mgas we give it
DAY_GAS = 20_000_000  # settle_day of 100 members x 24 periods uses ~6-7 Mgas (docs/day_settlement.md); 256 need more


@dataclass(frozen=True)
class RefusedBatch:
    batch: SignedReadingBatch
    reason: str


class VppSettlement(ContractWrapper):
    def __init__(self, chain: Chain, contract: Contract):
        super().__init__(chain, contract)
        # What was logged (Declared by this wrapper's receipts, PricePublished by any on this chain): the contract
        # accepts each once and only before its period starts, so a logged value is final and needs no call.
        self._declared: dict[tuple[int, str], int] = {}
        self._committed: dict[int, np.ndarray] = {}  # period -> Wh per member (registration order), as committed
        self._member_index: dict[str, int] = {}  # member -> registration order, as this wrapper registered them
        self._prices: dict[int, int] = {}
        self._default_price: int | None = None
        self._events_seen = 0  # how many of the chain's decoded events _catch_up_prices has looked at
        self._reverts_seen = chain.n_reverts
        self._memo: dict[tuple, int] = {}  # reads at the current block: nothing changes them until the next one
        self._memo_block = -1

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

    def register_member(self, member: str, meter: str, share_bps: int, max_wh_per_period: int, *, sender: str):
        self.register_members([(member, meter, share_bps, max_wh_per_period)], sender=sender)

    def register_members(self, members: list[tuple[str, str, int, int]], *, sender: str):
        """``register_member`` for each ``(member, meter, share_bps, max_wh_per_period)``, in order, all in one
        block."""
        self._tx_many("register_member", members, sender=sender)
        for member, *_ in members:
            self._member_index[member] = len(self._member_index)

    def seal(self, *, sender: str):
        self._tx("seal", sender=sender)

    def deposit_collateral(self, amount_ueur: int, *, sender: str):
        self._tx("deposit_collateral", amount_ueur, sender=sender)

    def deposit_collateral_many(self, token, members: list[str], amount_ueur: int):
        """Each of ``members`` approves this contract for ``amount_ueur`` [ueur] on ``token`` (the EuroToken
        wrapper) and deposits it as collateral, in as few blocks as fit."""
        self.chain.transact_many([call for m in members for call in (
            Call(token.contract, "approve", (self.address, amount_ueur), m, SETUP_GAS),
            Call(self.contract, "deposit_collateral", (amount_ueur,), m, SETUP_GAS))])

    def declare(self, period: int, energy_wh: list[int], *, sender: str):
        receipt = self._tx("declare", period, list(energy_wh), sender=sender)
        for e in receipt.events:
            if e.event == "Declared":
                self._declared[(e.args["period"], e.args["member"])] = e.args["energy_wh"]

    def publish_price(self, period: int, price_ueur_per_kwh: int, *, sender: str):
        self._tx("publish_price", period, price_ueur_per_kwh, sender=sender)

    def price_of(self, period: int) -> int:
        """Price that settles ``period`` [ueur/kWh], as the contract's ``price_of`` answers now: the published
        one, else the default. Read from the PricePublished events the chain has decoded from every receipt (a
        price is published once and never changes; the default is fixed at deployment), so it needs no call;
        on a chain that ``reads_by_call`` (the web3 reference path), the contract's answer, remembered once the
        period has started on chain (no price can be published any more)."""
        if self.chain.reads_by_call:
            if period not in self._prices:
                price = self._read_at_block("price_of", period)
                if self.chain.timestamp < self._period_start_s(period):
                    return price
                self._prices[period] = price
            return self._prices[period]
        if self.chain.n_reverts != self._reverts_seen:  # the chain went back to a snapshot: read all again
            self._prices, self._events_seen, self._reverts_seen = {}, 0, self.chain.n_reverts
        if period not in self._prices:
            self._catch_up_prices()
        return self._prices.get(period) or self.default_price_ueur_per_kwh()

    def _catch_up_prices(self) -> None:
        """Take the PricePublished events of this contract decoded since the last look."""
        events = self.chain.events
        for e in events[self._events_seen:]:
            if e.event == "PricePublished" and e.address == self.contract.address:
                self._prices[e.args["period"]] = e.args["price_ueur_per_kwh"]
        self._events_seen = len(events)

    def default_price_ueur_per_kwh(self) -> int:
        """The price of periods without a published one [ueur/kWh] (fixed at deployment)."""
        if self._default_price is None:
            self._default_price = self.call("price_ueur_per_kwh")
        return self._default_price

    def _period_start_s(self, period: int) -> int:
        if not hasattr(self, "_t0_s"):
            self._t0_s, self._period_s = self.call("t0"), self.call("period_s")
        return self._t0_s + period * self._period_s

    def settle(self, period: int, *, sender: str):
        return self._tx("settle", period, sender=sender)

    def submit_readings(self, readings: list[SignedReading], *, sender: str) -> list[Refused]:
        """Post readings in batches (see ``contracts.batch``). Returns the refused readings."""
        refused = post_in_batches(
            lambda batch: self._tx("submit_readings", [r.as_tuple() for r in batch], sender=sender), readings
        )
        return [Refused(r, reason) for r, reason in refused]

    def submit_reading_batches(self, batches: list[SignedReadingBatch], *, sender: str) -> list[RefusedBatch]:
        """Post meters' signed runs of readings, grouped into calls of at most ``MAX_VALUES_PER_TX`` values; a
        call that reverts is retried batch by batch. Returns the refused batches with the contract's reason."""
        refused: list[RefusedBatch] = []
        for group in _groups(batches):
            try:
                self._tx("submit_reading_batches", [b.as_tuple() for b in group], sender=sender)
            except ChainRevert as exc:
                if len(group) == 1:
                    refused.append(RefusedBatch(group[0], exc.reason))
                    continue
                for b in group:
                    try:
                        self._tx("submit_reading_batches", [b.as_tuple()], sender=sender)
                    except ChainRevert as exc:
                        refused.append(RefusedBatch(b, exc.reason))
        return refused

    # day settlement -----------------------------------------------------------------------------------------
    def commit_declarations(self, first_period: int, declared_wh: list[list[int]], *, sender: str) -> bytes:
        """Commit a day's declarations before ``first_period`` starts: ``declared_wh[k][i]`` is member i's
        (registration order) energy in period ``first_period + k`` [Wh]. Returns the root stored on chain."""
        receipt = self._tx("commit_declarations", first_period, len(declared_wh), pack_declarations(declared_wh),
                           sender=sender)
        for k, row in enumerate(declared_wh):
            self._committed[first_period + k] = np.asarray(row, dtype=np.int64)
        return next(e.args["root"] for e in receipt.events if e.event == "DeclarationsCommitted")

    def committed_wh(self, first_period: int, n_periods: int) -> list[list[int]]:
        """The declarations this wrapper committed for ``n_periods`` periods from ``first_period`` [Wh], periods x
        members: what ``settle_day`` must present again (the chain keeps only their hash and the calldata)."""
        return [self._committed[first_period + k].tolist() for k in range(n_periods)]

    def settle_day(self, first_period: int, declared_wh: list[list[int]], batches: list[SignedReadingBatch], *,
                   sender: str, gas: int = DAY_GAS):
        """Settle a committed day in one transaction: ``declared_wh`` as committed (periods x members [Wh]),
        ``batches`` one signed ReadingBatch per member's meter in registration order, each over the day's periods.
        Returns the receipt (one PeriodSettled per period, one MeterDaySettled per meter)."""
        return self.chain.transact(self.contract, "settle_day", first_period, len(declared_wh),
                                   pack_declarations(declared_wh), [day_batch_tuple(b) for b in batches],
                                   sender=sender, gas=gas)

    def period_settled(self, period: int) -> bool:
        """True once ``period`` is settled, per period or by its day."""
        return self.call("period_settled", period)

    # reads ------------------------------------------------------------------------------------------------
    def declared_wh(self, period: int, member: str) -> int:
        """Energy declared for ``member`` in ``period`` [Wh]: as logged by this wrapper's declaration or
        commitment, else read (a committed period's values are not in the contract's storage: only its hash)."""
        if period in self._committed:
            return int(self._committed[period][self._member_index[member]])
        logged = self._declared.get((period, member))
        return logged if logged is not None else self._read_at_block("declared_wh", period, member)

    def _read_at_block(self, fn: str, *args):
        """A read remembered until the chain's next block (state changes only with blocks)."""
        block = self.chain.block_number
        if block != self._memo_block:
            self._memo, self._memo_block = {}, block
        key = (fn, *args)
        if key not in self._memo:
            self._memo[key] = self.call(fn, *args)
        return self._memo[key]

    def delivered_wh(self, period: int, member: str) -> int:
        return self.call("delivered_wh", period, member)

    def collateral_ueur(self, member: str) -> int:
        return self.call("collateral_ueur", member)

    def is_settled(self, period: int) -> bool:
        return self.call("settled", period)


def _groups(batches: list[SignedReadingBatch]) -> list[list[SignedReadingBatch]]:
    """Consecutive groups of at most ``MAX_METER_BATCHES`` batches and ``MAX_VALUES_PER_TX`` values (a batch
    longer than that goes alone)."""
    groups: list[list[SignedReadingBatch]] = []
    current: list[SignedReadingBatch] = []
    n = 0
    for b in batches:
        if current and (n + len(b.energy_wh) > MAX_VALUES_PER_TX or len(current) == MAX_METER_BATCHES):
            groups.append(current)
            current, n = [], 0
        current.append(b)
        n += len(b.energy_wh)
    if current:
        groups.append(current)
    return groups


DAY_PERIODS = 24  # MAX_DAY_PERIODS of VppSettlement: periods per commitment and values per DayBatch
_DAY_ORDER = (3, 7, 2, 6, 1, 5, 0, 4)  # period (within 8) of each 4-byte value of a declaration word


def pack_declarations(declared_wh: list[list[int]]) -> bytes:
    """Periods x members [Wh] -> the contract's packed matrix: member-major rows of 96 bytes (24 periods, 0 beyond
    the day), per 8 periods the 4-byte big-endian values of periods (3, 7, 2, 6, 1, 5, 0, 4) (see
    VppSettlement._declarations_root)."""
    widths = {len(row) for row in declared_wh}
    if len(widths) > 1:
        raise ValueError(f"declared_wh: every period needs one value per member, got row widths {sorted(widths)}")
    if not 0 < len(declared_wh) <= DAY_PERIODS:
        raise ValueError(f"declared_wh: 1 to {DAY_PERIODS} periods per day, got {len(declared_wh)}")
    wh = np.asarray(declared_wh, dtype=object).astype(float)  # exact below 2**53; checked against 2**32 first
    bad = np.argwhere((wh < 0) | (wh >= 2**32) | (wh != np.floor(wh)))
    if len(bad):
        k, i = bad[0]
        raise ValueError(f"declared_wh[{k}][{i}]: {declared_wh[k][i]} Wh outside 0..2**32-1")
    day = np.zeros((wh.shape[1], DAY_PERIODS), dtype=">u4")  # members x periods, 0 beyond the day
    day[:, : wh.shape[0]] = wh.T
    order = (np.arange(0, DAY_PERIODS, 8)[:, None] + np.asarray(_DAY_ORDER)[None, :]).ravel()
    return day[:, order].tobytes()


def day_batch_tuple(batch: SignedReadingBatch) -> tuple:
    """A signed ReadingBatch as VppSettlement's DayBatch: (meter, first_period, n_values, energy_wh[24],
    quality[24], v, r, s), every field a plain word (the meter's address as an integer), the arrays padded with 0
    (the signature covers the first n_values)."""
    n = len(batch.energy_wh)
    if max(n, len(batch.quality)) > DAY_PERIODS:
        raise ValueError(f"batch of meter {batch.meter}: {n} energy values and {len(batch.quality)} quality flags, "
                         f"at most {DAY_PERIODS} each")
    # a batch with fewer flags than values travels as signed; the contract hashes n_values of each array, so its
    # signature does not verify
    quality = [int(q) for q in batch.quality]
    return (int(batch.meter, 16), batch.first_period, n, [int(e) for e in batch.energy_wh] + [0] * (DAY_PERIODS - n),
            quality + [0] * (DAY_PERIODS - len(quality)), batch.v, batch.r, batch.s)
