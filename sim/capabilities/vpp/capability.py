"""Capability 1 — virtual power plant accountancy.

The VPP operator registers members with their meters and shares on ``VppSettlement``, declares each member's
export two periods ahead, posts the members' VEE-validated, meter-signed readings in batches and settles each
period: the buyer pays delivered energy, short members pay penalties from collateral, and revenue plus
penalties are paid out by share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from agents.vpp.operator import EnergyBuyer, VppOperator
from contracts.chain import ChainRevert
from contracts.token import UEUR_PER_EUR, eur_to_ueur
from contracts.vpp import VppSettlement
from sim.capabilities.base import Capability, log_posted, settle_each
from sim.capabilities.vpp.ledger import member_flows, money_conserved
from sim.capabilities.vpp.price_file import file_summary
from sim.capabilities.vpp.prices import price_schedule_ueur
from sim.capabilities.vpp.shares import member_weights, shares_bps
from sim.capabilities.vpp.spec import member_ids, pool_sizes
from sim.measurement.readings_log import reading_row, signature_columns
from sim.results.summary import event_args

DECLARE_AHEAD_PERIODS = 2
MAX_RUN_VALUES = 168  # the contract's bound on values under one ReadingBatch signature (signed_reading.MAX_VALUES)
BUYER_FLOAT_EUR = 1_000_000_000.0  # the buyer's money: never the binding limit


@dataclass
class VppPool:
    """One VppSettlement contract, the members it settles (ids, their columns among the prosumers) and the
    operator and buyer agents acting on it."""

    vpp: VppSettlement
    members: list[str]
    member_cols: list[int]
    operator: VppOperator
    buyer: EnergyBuyer


class VppCapability(Capability):
    name = "vpp"

    def __init__(self, ctx):
        super().__init__(ctx)
        scenario, bank = ctx.scenario, ctx.bank
        spec = scenario.vpp
        self.members = member_ids(scenario)
        self.operator_account, self.buyer = bank.open_accounts(["vpp-operator", "energy-buyer"])
        bank.mint_eur(self.buyer, BUYER_FLOAT_EUR)
        kwp = {pid: g.pv_kwp for pid, g in ctx.community.groups}
        weights = member_weights(scenario, kwp)
        self._prices_ueur = price_schedule_ueur(scenario, ctx.inputs.times, ctx.clock.n_periods)
        self.price_file = file_summary(scenario, self._prices_ueur) if scenario.prices.tariff == "file" else None
        self.shares_bps: dict[str, int] = {}
        self.pools: list[VppPool] = []
        start = 0
        for size in pool_sizes(len(self.members), spec.pool_members):
            self.pools.append(self._open_pool(self.members[start:start + size], weights[start:start + size]))
            start += size
        self.pool_of = {m: pool for pool in self.pools for m in pool.members}
        self.by_day, self.day_ahead = spec.settlement == "day", spec.declares_day_ahead
        self.periods_per_day = 86_400 // ctx.clock.settlement_s
        ctx.chain.set_time(ctx.inputs.t0_s - ctx.clock.settlement_s)
        for pool in self.pools:
            for p in range(DECLARE_AHEAD_PERIODS):
                pool.buyer.publish(p)
            if self.day_ahead:
                pool.operator.declare_day(0, self.periods_per_day, now_step=0, commit=self.by_day)
            else:
                for p in range(DECLARE_AHEAD_PERIODS):
                    pool.operator.declare(p, now_step=0)
        self.readings_log = ctx.measurement.log(  # every validated reading of a member's meter
            claim=[ctx.community.meters[ctx.community.ids.index(m)].meter_id for m in self.members])
        self.unsettled: dict[int, str] = {}
        self._settled_through = -1
        self.post_every = spec.post_every_periods
        self._buffer: dict[str, list] = {}

    def _open_pool(self, members: list[str], weights: np.ndarray) -> VppPool:
        """Deploy one pool's VppSettlement, register and seal its members with shares by ``weights``, take their
        collateral, and give it an operator and a buyer agent."""
        ctx, bank = self.ctx, self.ctx.bank
        prices, spec = ctx.scenario.prices, ctx.scenario.vpp
        cols = [ctx.community.ids.index(m) for m in members]
        vpp = VppSettlement.deploy(
            ctx.chain,
            operator=self.operator_account,
            token=bank.token.address,
            buyer=self.buyer,
            t0_s=ctx.inputs.t0_s,
            period_s=ctx.clock.settlement_s,
            n_periods=ctx.clock.n_periods,
            price_ueur_per_kwh=eur_to_ueur(prices.energy_eur_per_kwh),
            penalty_ueur_per_kwh=eur_to_ueur(prices.penalty_eur_per_kwh),
            tolerance_bps=round(spec.tolerance_percent * 100),
        )
        bank.token.approve(vpp.address, eur_to_ueur(BUYER_FLOAT_EUR), sender=self.buyer)
        self.shares_bps.update(zip(members, shares_bps(weights)))
        vpp.register_members([(ctx.community.accounts[m], ctx.community.meters[j].address, self.shares_bps[m],
                               ctx.community.meters[j].max_wh_per_period) for m, j in zip(members, cols)],
                             sender=self.operator_account)
        vpp.seal(sender=self.operator_account)
        if prices.member_collateral_eur:
            accounts = [ctx.community.accounts[m] for m in members]
            collateral = bank.mint_many_eur(accounts, prices.member_collateral_eur)
            vpp.deposit_collateral_many(bank.token, accounts, collateral)
        weather = ctx.inputs.weather
        operator = VppOperator(
            ctx.model, account=self.operator_account, vpp=vpp,
            pv_clear_kw=ctx.inputs.pv_clear_kw[:, cols], expected_load_kw=ctx.inputs.expected_load_kw[:, cols],
            observed_kc=weather.clear_sky_index, ghi_clear=weather.ghi_clear,
            derate=spec.forecast_derate, method=spec.forecast, prior_kc=ctx.scenario.weather.mean_clear_sky_index,
        )
        buyer = EnergyBuyer(ctx.model, account=self.buyer, vpp=vpp, price_ueur_per_kwh=self._prices_ueur)
        return VppPool(vpp, members, cols, operator, buyer)

    @property
    def vpp(self) -> VppSettlement:
        """The VPP's contract, when it settles in one pool."""
        if len(self.pools) != 1:
            raise AttributeError(f"this VPP settles in {len(self.pools)} pools: read pools[i].vpp")
        return self.pools[0].vpp

    def declarations(self, prosumer_id: str):
        """What a prosumer reads its declared energy and the period's price from: its pool's contract wrapper
        (a prosumer outside the VPP reads the first pool's: nothing declared, the same prices), or None for a
        prosumer outside the VPP whose retail tariff asks for a response (``[tariff] response``: its battery
        follows that tariff's prices instead)."""
        tariff = getattr(self.ctx.scenario, "tariff", None)
        if prosumer_id not in self.pool_of and tariff is not None and tariff.response != "none":
            return None
        return self.pool_of.get(prosumer_id, self.pools[0]).vpp

    def command_source(self, entity: str):
        """``prosumer/<member>/battery``: the member's declared average export this period [W], read from the
        contract (0 when nothing is declared): a HIL relay on that entity is on while the VPP counts on the
        member's export, a set-point follows the declared power."""
        parts = entity.split("/")
        if len(parts) != 3 or parts[0] != "prosumer" or parts[2] != "battery" or parts[1] not in self.pool_of:
            return None
        account, ctx, cache, vpp = self.ctx.community.accounts[parts[1]], self.ctx, {}, self.pool_of[parts[1]].vpp

        def declared_w(t_s: float) -> float | None:
            period = int(t_s // ctx.clock.settlement_s)
            if period >= ctx.clock.n_periods:
                return None
            if period not in cache:  # a declaration cannot change once its period has started
                cache[period] = vpp.declared_wh(period, account) * 3600.0 / ctx.clock.settlement_s
            return cache[period]

        return declared_w

    def period_closed(self, period: int) -> None:
        ahead, now_step = period + DECLARE_AHEAD_PERIODS, (period + 1) * self.ctx.clock.steps_per_period
        for pool in self.pools:
            pool.buyer.publish(ahead)
            if not self.day_ahead:
                pool.operator.declare(ahead, now_step=now_step)
            elif ahead % self.periods_per_day == 0:
                pool.operator.declare_day(ahead, self.periods_per_day, now_step=now_step, commit=self.by_day)

    def _reason(self, pool: VppPool, reason: str) -> str:
        """A contract's or the capability's reason, naming the pool when the VPP has several."""
        return f"pool {self.pools.index(pool)}: {reason}" if len(self.pools) > 1 and reason else reason

    def _unsettle(self, pool: VppPool, periods, reason: str) -> None:
        """Record ``periods`` as not settled by ``pool``, with its reason; a period several pools could not
        settle keeps each pool's reason, in pool order, joined by "; "."""
        reason = self._reason(pool, reason)
        for p in periods:
            self.unsettled[p] = f"{self.unsettled[p]}; {reason}" if p in self.unsettled else reason

    def settle(self, validated: dict[str, list], through_period: int) -> None:
        """Sign and post the members' validated readings up to ``through_period``, then settle those periods
        (every ``post_every_periods`` periods, and at the end of the horizon); by day: each day once it is over.
        Pool by pool; a period a pool cannot settle stays unsettled with that pool's reason."""
        if self.by_day:
            self._settle_days(validated, through_period)
            return
        if self.post_every != 1:
            for meter_id, values in validated.items():
                self._buffer.setdefault(meter_id, []).extend(values)
            if (through_period + 1) % self.post_every and through_period < self.ctx.clock.n_periods - 1:
                return
            validated, self._buffer = self._buffer, {}
        periods = range(self._settled_through + 1, through_period + 1)
        for pool in self.pools:
            if self.post_every == 1:
                self._post_readings(pool, validated)
            else:
                self._post_batches(pool, validated)
            reasons: dict[int, str] = {}
            settle_each(periods, pool.operator.settle, reasons)
            for p, reason in reasons.items():
                self._unsettle(pool, [p], reason)
        self._settled_through = max(self._settled_through, through_period)

    def _settle_days(self, validated: dict[str, list], through_period: int) -> None:
        """Settle every day that is over through ``through_period`` (the horizon's last day may be short) with
        one ``settle_day`` per pool: each member's meter signs its day of validated values once. A pool's day
        that cannot settle (a member without a value for every period, or a revert) stays unsettled with the
        reason, and that pool's readings of the day are logged refused with it."""
        ctx = self.ctx
        for meter_id, values in validated.items():
            self._buffer.setdefault(meter_id, []).extend(values)
        while True:
            first = self._settled_through + 1
            last = min(first + self.periods_per_day, ctx.clock.n_periods) - 1
            if first >= ctx.clock.n_periods or last > through_period:
                return
            for pool in self.pools:
                self._settle_pool_day(pool, first, last)
            self._settled_through = last

    def _settle_pool_day(self, pool: VppPool, first: int, last: int) -> None:
        """One pool's ``settle_day`` of periods ``first`` … ``last`` from the buffered values."""
        ctx = self.ctx
        batches, rows, missing = [], [], []
        for j in pool.member_cols:
            meter = ctx.community.meters[j]
            buffered = self._buffer.get(meter.meter_id, [])
            day = [v for v in buffered if first <= v.period <= last]
            self._buffer[meter.meter_id] = [v for v in buffered if v.period > last]
            day_rows = [reading_row(meter.meter_id, v) for v in day]
            rows.extend(day_rows)
            if [v.period for v in day] != list(range(first, last + 1)):
                missing.append(meter.meter_id)
                continue
            batches.append(meter.sign_batch(pool.vpp.domain_separator, first, [v.energy_wh for v in day],
                                            [v.quality for v in day]))
            for row in day_rows:
                row.update(signature_columns(batches[-1], pool.vpp.address))
        reason = f"vpp: no value for every period from {len(missing)} meter(s): {missing[:3]}" if missing else ""
        if not reason:
            try:
                pool.operator.settle_day(first, batches)
            except ChainRevert as exc:
                reason = exc.reason
        for row in rows:
            row["status"], row["reason"] = ("refused" if reason else "accepted"), self._reason(pool, reason)
        self.readings_log.extend(rows)
        if reason:
            self._unsettle(pool, range(first, last + 1), reason)


    def _post_readings(self, pool: VppPool, validated: dict[str, list]) -> None:
        """One signature per reading of the pool's members (``submit_readings``)."""
        ctx = self.ctx
        signed, rows = [], []
        for j in pool.member_cols:
            meter = ctx.community.meters[j]
            for v in validated.get(meter.meter_id, []):
                signed.append(meter.sign(pool.vpp.domain_separator, v.period, v.energy_wh, v.quality))
                rows.append(reading_row(meter.meter_id, v))
        log_posted(signed, rows, pool.vpp.submit_readings(signed, sender=self.operator_account), self.readings_log,
                   pool.vpp.address)

    def _post_batches(self, pool: VppPool, validated: dict[str, list]) -> None:
        """One signature per meter of the pool and run of consecutive periods (``submit_reading_batches``); the
        values of a refused batch go again one signature each, so that each bad value is refused with its own
        reason and the others land, exactly as with ``submit_readings``."""
        ctx = self.ctx
        batches, rows = [], []
        for j in pool.member_cols:
            meter = ctx.community.meters[j]
            values = sorted(validated.get(meter.meter_id, []), key=lambda v: v.period)
            start = 0
            for i in range(1, len(values) + 1):
                if (i == len(values) or values[i].period != values[i - 1].period + 1
                        or i - start == MAX_RUN_VALUES):
                    run = values[start:i]
                    batches.append(meter.sign_batch(pool.vpp.domain_separator, run[0].period,
                                                    [v.energy_wh for v in run], [v.quality for v in run]))
                    rows.append([reading_row(meter.meter_id, v) for v in run])
                    start = i
        refused = {(r.batch.meter, r.batch.first_period)
                   for r in pool.vpp.submit_reading_batches(batches, sender=self.operator_account)}
        retry: dict[str, list] = {}
        for b, run_rows in zip(batches, rows):
            if (b.meter, b.first_period) in refused:
                meter_id = run_rows[0]["meter"]
                retry.setdefault(meter_id, []).extend(v for v in validated[meter_id]
                                                      if b.first_period <= v.period < b.first_period + len(b.energy_wh))
                continue
            for row in run_rows:
                row["status"], row["reason"] = "accepted", ""
                row.update(signature_columns(b, pool.vpp.address))
            self.readings_log.extend(run_rows)
        if retry:
            self._post_readings(pool, retry)

    def summary(self, ledger: pd.DataFrame) -> dict:
        ctx = self.ctx
        settled = event_args(ledger, "VppSettlement", "PeriodSettled")
        payouts, penalties, delivered = member_flows(ledger)
        per_payout = self.periods_per_day if self.by_day else 1
        if len(settled):
            settled["pool"] = ledger.loc[settled.index, "address"].map(
                {pool.vpp.address: i for i, pool in enumerate(self.pools)})
        pool_index = {ctx.community.accounts[m]: i for i, pool in enumerate(self.pools) for m in pool.members}
        conserved = bool(len(settled)) and bool(settled.pool.notna().all()) and all(
            money_conserved(settled[settled.pool == i], payouts[payouts.member.map(pool_index) == i], per_payout)
            for i in range(len(self.pools)))

        def by_member(frame, col):
            return frame.groupby("member")[col].sum() if len(frame) else pd.Series(dtype=int)

        paid_by, pen_by, deliv_by = by_member(payouts, "amount_ueur"), by_member(penalties, "amount_ueur"), \
            by_member(delivered, "energy_wh")
        members = {}
        for m in self.members:
            address = ctx.community.accounts[m]
            members[m] = {
                "pool": pool_index[address],
                "share_bps": self.shares_bps[m],
                "delivered_kwh": float(deliv_by.get(address, 0)) / 1000,
                "payouts_eur": float(paid_by.get(address, 0)) / UEUR_PER_EUR,
                "penalties_eur": float(pen_by.get(address, 0)) / UEUR_PER_EUR,
                "token_balance_eur": ctx.bank.token.balance_of(address) / UEUR_PER_EUR,
                "collateral_eur": self.pool_of[m].vpp.collateral_ueur(address) / UEUR_PER_EUR,
            }
        log = self.readings_log.frame()
        complete = settled.groupby("period").size() == len(self.pools) if len(settled) else pd.Series(dtype=bool)

        def total(col, scale):
            return float(settled[col].sum()) / scale if len(settled) else 0.0

        def on_chain(fn, scale=UEUR_PER_EUR):
            return sum(pool.vpp.call(fn) for pool in self.pools) / scale

        return {
            "members": len(members),
            "pools": [{"address": pool.vpp.address, "members": len(pool.members)} for pool in self.pools],
            "periods": ctx.clock.n_periods,
            "periods_settled": int(complete.sum()),
            "unsettled_periods": {str(k): v for k, v in sorted(self.unsettled.items())},
            "declared_kwh": total("declared_wh", 1000),
            "delivered_kwh": total("delivered_wh", 1000),
            "revenue_eur": total("revenue_ueur", UEUR_PER_EUR),
            "penalties_eur": total("penalties_ueur", UEUR_PER_EUR),
            "paid_eur": total("paid_ueur", UEUR_PER_EUR),
            "periods_with_penalty": int(settled[settled.penalties_ueur > 0].period.nunique()) if len(settled) else 0,
            "money_conserved_every_period": conserved,
            "on_chain_totals_eur": {
                "revenue": on_chain("total_revenue_ueur"),
                "penalties": on_chain("total_penalties_ueur"),
                "paid": on_chain("total_paid_ueur"),
            },
            "readings": {
                "posted": int(len(log)),
                "accepted_on_chain": int(on_chain("readings_accepted", 1)),
                "refused_on_chain": int((log.status == "refused").sum()) if len(log) else 0,
                "estimated": int((log.quality == 1).sum()) if len(log) else 0,
            },
            **({"price_file": self.price_file} if self.price_file else {}),
            "member_detail": members,
        }
