"""Capability 3 — hourly source certificates (EnergyTag granular certificates).

Generation sites (pvlib PV, windpowerlib wind) and consumers have meters that join the kernel's measurement
layer (fault injection, VEE). Every interval (the settlement period, at most 1 h):

1. when it closes, the weather oracle posts each site's weather cap [Wh] and weather record hash;
2. once VEE has finalised it, the issuer posts the consumers' signed consumption readings and mints each
   site's floor(min(metered, cap)) from its meter's signed reading (measured intervals only);
3. the exchange sells the interval's certificates from the producers to the consumers pro rata to their
   consumption (the traded volume is min(offered, consumed)), in one transaction;
4. once a day each consumer retires what it bought, each interval's certificates against its consumption in
   that same interval (24/7 matching), in one transaction.

That is ``[certificates] settlement = "per_action"``, the reference path. The default, ``"bulk"``, settles a day
at once when its last interval is final: the oracle posts the day's caps, the issuer the day's consumption and
mints, and the exchange (which every consumer approved as its retirer) executes the day's sales, each sale
retired at once for its buyer (``Certificates.sell_and_retire``), each step a few transactions. The market
clears each interval in the same way, so balances, retirements and scores are the same as per action
(tests/sim/capabilities/certificates/test_bulk_settlement.py).

Unsold certificates stay live with their producer. Everything is read back from the contract.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from agents.certificates.consumer import CertificateConsumer
from agents.certificates.market import CertificateExchange
from agents.certificates.producer import Producer
from agents.certificates.registry import Issuer, WeatherOracle
from contracts.certificates import Certificates
from contracts.eip712 import QUALITY_MEASURED, key_for
from sim.capabilities.base import Capability
from sim.capabilities.certificates.consumers import consumer_series
from sim.capabilities.certificates.ledger import consumer_scores, replay, site_totals
from sim.measurement.meters import VirtualMeter
from sim.measurement.readings_log import reading_row, signature_columns
from sim.results.tables import Series
from sim.sites.generation import site_series

SITE_QUANTITIES = {"ghi": "W/m2", "dni": "W/m2", "dhi": "W/m2", "temp_air": "degC", "wind_speed": "m/s"}

DAY_BATCH_VALUES = 24  # consumption readings under one signature in bulk (Certificates.MAX_DAY_VALUES)

NOT_MINTED = {"estimated": "estimated interval: mints nothing", "zero": "nothing to mint (no energy or no cap)"}


class CertificatesCapability(Capability):
    name = "certificates"

    def __init__(self, ctx):
        super().__init__(ctx)
        spec, bank, seed = ctx.scenario.certificates, ctx.bank, ctx.scenario.run.seed
        rng, step_s, period_s = ctx.rngs["certificates"], ctx.clock.step_s, ctx.clock.settlement_s
        with ctx.timed("physics"):
            self.sites = spec.sites
            self.series = [site_series(s, ctx.inputs.weather, step_s=step_s, settlement_s=period_s, rng=rng)
                           for s in spec.sites]
            self.consumption = consumer_series(spec, ctx.inputs.times, rng, step_s=step_s, tz=ctx.scenario.site.tz)
        self.gen_kw = np.column_stack([s.generation_kw for s in self.series])
        self.issuer_account = bank.open_account("certificate-issuer")
        self.oracle_account = bank.open_account("weather-oracle")
        self.certs = Certificates.deploy(ctx.chain, issuer=self.issuer_account, oracle=self.oracle_account,
                                         t0_s=ctx.inputs.t0_s, period_s=period_s, n_periods=ctx.clock.n_periods)

        # the producers' accounts in one block, their devices in the next; then the same for the consumers
        self.site_meters = [VirtualMeter(f"meter/{site.name}", key_for(seed, f"meter/{site.name}"), site.nameplate_kw,
                                         period_s) for site in spec.sites]
        accounts = bank.open_accounts([f"producer/{site.name}" for site in spec.sites])
        device_ids = self.certs.register_devices(
            [(account, meter.address, site.name, site.technology, site.lat, site.lon, round(site.nameplate_kw * 1000))
             for site, meter, account in zip(spec.sites, self.site_meters, accounts)], sender=self.issuer_account)
        self.producers = [Producer(ctx.model, site=site.name, technology=site.technology, account=account,
                                   device_id=device_id, certificates=self.certs)
                          for site, account, device_id in zip(spec.sites, accounts, device_ids)]
        self.consumer_meters = [VirtualMeter(f"meter/{cid}", key_for(seed, f"meter/{cid}"), rated_kw, period_s,
                                             register="import")
                                for cid, rated_kw in zip(self.consumption.ids, self.consumption.rated_kw)]
        accounts = bank.open_accounts([f"consumer/{cid}" for cid in self.consumption.ids])
        self.certs.register_consumers([(account, meter.address, cid, meter.max_wh_per_period)
                                       for cid, meter, account in zip(self.consumption.ids, self.consumer_meters,
                                                                      accounts)],
                                      sender=self.issuer_account)
        self.consumers = [CertificateConsumer(ctx.model, name=cid, account=account, certificates=self.certs)
                          for cid, account in zip(self.consumption.ids, accounts)]
        for meter in self.site_meters + self.consumer_meters:
            ctx.measurement.add_meter(meter)

        self.oracle = WeatherOracle(ctx.model, account=self.oracle_account, certificates=self.certs,
                                    device_ids=[p.device_id for p in self.producers],
                                    caps_wh=[s.caps_wh for s in self.series],
                                    record_hashes=[s.record_hashes for s in self.series])
        self.issuer = Issuer(ctx.model, account=self.issuer_account, certificates=self.certs)
        self.exchange = CertificateExchange(ctx.model, account=bank.open_account("certificate-exchange"),
                                            certificates=self.certs)
        for p in self.producers:
            p.authorise(self.exchange.account)
        self.bulk = spec.settlement == "bulk"
        if self.bulk:
            self.exchange.approve_for(self.consumers)
        self._pending: dict[str, list] = defaultdict(list)  # bulk: meter id -> validated readings not yet settled
        self._flushed_through = -1
        self.periods_per_day = max(1, 86_400 // period_s)
        self._consumed: dict[int, dict[str, int]] = {}  # period -> consumer account -> Wh, until retired
        self._bought: set[tuple[str, int, int]] = set()  # (consumer account, period, id), until retired
        self.readings_log = ctx.measurement.log()
        self.refusals: list[dict] = []
        self._settled_through = self._caps_through = -1

    # clock hooks ---------------------------------------------------------------------------------------
    def measure(self, k: int, flow) -> None:
        dt_s = self.ctx.clock.step_s
        for meter, p_kw in zip(self.site_meters, self.gen_kw[k]):
            meter.record(p_kw, dt_s)
        for meter, p_kw in zip(self.consumer_meters, self.consumption.load_kw[k]):
            meter.record(-p_kw, dt_s)

    def period_closed(self, period: int) -> None:
        ctx = self.ctx
        ctx.set_chain_time()
        if not self.bulk:
            self._post_caps_through(period)

    def _post_caps_through(self, period: int) -> None:
        """The oracle posts the caps of every interval up to ``period`` not yet posted (the last interval closes
        as the clock stops: its caps are posted at the final settlement)."""
        if self.bulk:
            self._refused("caps", self.oracle.post_periods(list(range(self._caps_through + 1, period + 1))))
        else:
            for p in range(self._caps_through + 1, period + 1):
                self._refused("caps", self.oracle.post(p))
        self._caps_through = max(self._caps_through, period)

    def settle(self, validated: dict[str, list], through_period: int) -> None:
        if self.bulk:
            self._settle_bulk(validated, through_period)
            return
        self._post_caps_through(through_period)
        consumed = self._post_consumption(validated)
        self._issue(validated)
        for period in range(self._settled_through + 1, through_period + 1):
            self._consumed[period] = consumed.get(period, {})
            self._trade(period)
            if self._day_ends(period):
                self._retire()
        self._settled_through = max(self._settled_through, through_period)

    def _day_ends(self, period: int) -> bool:
        return (period + 1) % self.periods_per_day == 0 or period == self.ctx.clock.n_periods - 1

    def _settle_bulk(self, validated: dict[str, list], through_period: int) -> None:
        """Keep the validated readings until a day is final, then settle the day at once."""
        mine = {m.meter_id for m in self.site_meters + self.consumer_meters}
        for meter_id, values in validated.items():
            if meter_id in mine:
                self._pending[meter_id].extend(values)
        for period in range(self._settled_through + 1, through_period + 1):
            if self._day_ends(period):
                self._settle_day(period)
        self._settled_through = max(self._settled_through, through_period)

    def _settle_day(self, last_period: int) -> None:
        """The intervals since the last settled day, through ``last_period``: caps, consumption and mints, then
        every interval cleared as per action and its sales executed with their claims (``sell_and_retire``)."""
        day: dict[str, list] = {}
        for meter_id, values in self._pending.items():
            day[meter_id] = [v for v in values if v.period <= last_period]
            self._pending[meter_id] = [v for v in values if v.period > last_period]
        self._post_caps_through(last_period)
        consumed = self._post_consumption_days(day)
        self._issue(day)
        periods = range(self._flushed_through + 1, last_period + 1)
        live = iter(self.certs.balances([(p.account, p.certificate(k)) for k in periods for p in self.producers]))
        intervals = []
        for k in periods:
            offers = [p.offer(k, next(live)) for p in self.producers]
            intervals.append((offers, {c.account: consumed.get(k, {}).get(c.account, 0) for c in self.consumers}))
        _, refused = self.exchange.sell_and_retire(intervals)
        self._refused("sales", refused)
        self._flushed_through = last_period

    # steps of a settlement -------------------------------------------------------------------------------
    def _refused(self, what: str, refused: list) -> None:
        self.refusals += [{"what": what, "item": repr(item), "reason": reason} for item, reason in refused]

    def _log(self, meter, v, status: str, reason: str = "", signed=None) -> None:
        row = reading_row(meter.meter_id, v, status, reason)
        if signed is not None:
            row.update(signature_columns(signed, self.certs.address))
        self.readings_log.append(row)

    def _post_consumption(self, validated: dict[str, list]) -> dict[int, dict[str, int]]:
        """Post the consumers' signed readings; returns consumption per period and consumer account [Wh]."""
        signed, rows, out = [], [], defaultdict(dict)
        for meter, consumer in zip(self.consumer_meters, self.consumers):
            for v in validated.get(meter.meter_id, []):
                signed.append(meter.sign(self.certs.domain_separator, v.period, v.energy_wh, v.quality))
                rows.append((meter, consumer, v))
        refused = {(r.meter, r.period): reason for r, reason in
                   self.certs.record_consumption(signed, sender=self.issuer_account)}
        for s, (meter, consumer, v) in zip(signed, rows):
            reason = refused.get((s.meter, s.period), "")
            self._log(meter, v, "refused" if reason else "accepted", reason, s)
            if not reason:
                out[v.period][consumer.account] = v.energy_wh
        return out

    def _post_consumption_days(self, validated: dict[str, list]) -> dict[int, dict[str, int]]:
        """Bulk: post each consumer meter's readings as day batches, a run of up to ``DAY_BATCH_VALUES``
        consecutive intervals under one signature (``Certificates.record_consumption_days``); returns consumption
        per period and consumer account [Wh]. A batch the contract refuses is posted again reading by reading
        (``_post_consumption``), so that each bad reading is refused with its own reason, as per action."""
        batches, rows = [], []
        for meter, consumer in zip(self.consumer_meters, self.consumers):
            for run in _runs(sorted(validated.get(meter.meter_id, []), key=lambda v: v.period), DAY_BATCH_VALUES):
                batches.append(meter.sign_batch(self.certs.domain_separator, run[0].period,
                                                [v.energy_wh for v in run], [v.quality for v in run]))
                rows.append((meter, consumer, run))
        refused = {(b.meter, b.first_period) for b, _ in
                   self.certs.record_consumption_days(batches, sender=self.issuer_account)}
        out: dict[int, dict[str, int]] = defaultdict(dict)
        again: dict[str, list] = defaultdict(list)
        for b, (meter, consumer, run) in zip(batches, rows):
            if (b.meter, b.first_period) in refused:
                again[meter.meter_id] += run
                continue
            for v in run:
                self._log(meter, v, "accepted", "", b)
                out[v.period][consumer.account] = v.energy_wh
        for period, by_consumer in self._post_consumption(again).items():
            out[period].update(by_consumer)
        return out

    def _issue(self, validated: dict[str, list]) -> None:
        readings, rows = [], []
        for meter, producer in zip(self.site_meters, self.producers):
            for v in validated.get(meter.meter_id, []):
                readings.append((producer.device_id, meter.sign(self.certs.domain_separator, v.period,
                                                                v.energy_wh, v.quality)))
                rows.append((meter, v))
        for (meter, v), (_, signed), (_, outcome) in zip(rows, readings, self.issuer.issue(readings)):
            status = {"minted": "accepted", "estimated": "not_posted", "zero": "not_posted"}.get(outcome, "refused")
            self._log(meter, v, status, "" if outcome == "minted" else NOT_MINTED.get(outcome, outcome),
                      signed if status != "not_posted" else None)

    def _trade(self, period: int) -> None:
        live = self.certs.balances([(p.account, p.certificate(period)) for p in self.producers])
        offers = [p.offer(period, wh) for p, wh in zip(self.producers, live)]
        demand = {c.account: self._consumed[period].get(c.account, 0) for c in self.consumers}
        sales, refused = self.exchange.trade(offers, demand)
        self._refused("sales", refused)
        self._bought |= {(s.consumer, period, s.id) for s in sales}

    def _retire(self) -> None:
        """Each consumer retires what it holds of the intervals bought since its last claim."""
        bought = sorted(self._bought)
        held = self.certs.balances([(who, id_) for who, _, id_ in bought])
        for consumer in self.consumers:
            holdings: dict[int, dict[int, int]] = defaultdict(dict)
            for (who, period, id_), wh in zip(bought, held):
                if who == consumer.account:
                    holdings[period][id_] = wh
            consumed = {p: c.get(consumer.account, 0) for p, c in self._consumed.items()}
            self._refused("retirements", consumer.retire(holdings, consumed))
        self._bought.clear()
        self._consumed.clear()

    # results ---------------------------------------------------------------------------------------------
    def timeseries(self) -> list[Series]:
        """Each site's weather, potential, generation and availability, then each consumer's load [kW]."""
        t_utc = self.ctx.inputs.times.tz_convert("UTC")
        out = []
        for site, s in zip(self.sites, self.series):
            series = {q: (getattr(s.weather, q), unit) for q, unit in SITE_QUANTITIES.items()}
            series |= {"potential_kw": (s.potential_kw, "kW"), "generation_kw": (s.generation_kw, "kW"),
                       "available": (s.available, "1")}
            out += [Series(t_utc, (site.name,), q, unit, values) for q, (values, unit) in series.items()]
        return out + [Series(t_utc, (cid,), "load_kw", "kW", self.consumption.load_kw[:, j])
                      for j, cid in enumerate(self.consumption.ids)]

    def summary(self, ledger: pd.DataFrame) -> dict:
        state = replay(ledger)
        sites, scores = site_totals(ledger), consumer_scores(ledger)
        log = self.readings_log.frame()
        site_detail = {}
        for site, p in zip(self.sites, self.producers):
            t = sites.loc[site.name]
            rows = log[log.meter == f"meter/{site.name}"]
            site_detail[site.name] = {
                "technology": site.technology,
                "nameplate_kw": site.nameplate_kw,
                "cap_kwh": t.cap_wh / 1000,
                "minted_kwh": t.minted_wh / 1000,
                "clipped_by_cap_kwh": (t.metered_wh - t.minted_wh) / 1000,
                "intervals_minted": int(t.intervals_minted),
                "intervals_cap_zero": int(t.intervals_cap_zero),
                "intervals_estimated_not_minted": int(((rows.status == "not_posted")
                                                       & (rows.quality != QUALITY_MEASURED)).sum()),
                "unsold_kwh": sum(wh for (owner, _), wh in state.balances.items() if owner == p.account) / 1000,
            }
        consumed = float(scores.consumed_wh.sum())
        on_chain = {"minted_kwh": self.certs.call("total_minted_wh") / 1000,
                    "retired_kwh": self.certs.call("total_retired_wh") / 1000}
        return {
            "sites": len(site_detail),
            "consumers": len(scores),
            "minted_kwh": state.total_minted / 1000,
            "retired_kwh": state.total_retired / 1000,
            "live_kwh": (state.total_minted - state.total_retired) / 1000,
            "consumed_kwh": consumed / 1000,
            "hourly_cfe_score": float(scores.matched_wh.sum() / consumed) if consumed else 0.0,
            "annual_matching_score": float(scores.annual_matching_score.iloc[0]) if len(scores) else 0.0,
            "on_chain_totals": on_chain,
            "ledger_matches_contract": on_chain == {"minted_kwh": state.total_minted / 1000,
                                                    "retired_kwh": state.total_retired / 1000},
            "double_counting_violations": state.violations,
            "refusals": {r: sum(x["reason"] == r for x in self.refusals) for r in sorted({x["reason"]
                                                                                          for x in self.refusals})},
            "site_detail": site_detail,
            "consumer_detail": {
                name: {"consumed_kwh": r.consumed_wh / 1000, "matched_kwh": r.matched_wh / 1000,
                       "hourly_cfe_score": float(r.hourly_cfe_score),
                       "annual_matching_score": float(r.annual_matching_score)}
                for name, r in scores.iterrows()
            },
        }


def _runs(values: list, max_len: int) -> list[list]:
    """``values`` (sorted by ``period``) cut into runs of consecutive periods, each at most ``max_len`` long."""
    runs: list[list] = []
    for v in values:
        if runs and len(runs[-1]) < max_len and v.period == runs[-1][-1].period + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return runs
