"""Capability 5 — mutual insurance of generation.

Producers (PV and wind sites, each of ``units`` independently failing units) pay premiums into the pool of
``MutualInsurance``, in advance (period 0 before the clock starts, period p + 1 when p closes). Each period the
weather oracle posts every site's expected production (the weather potential at full availability, the same
pvlib/windpowerlib models as the certificates), the sites' meters post measured production (VEE-validated,
signed), the oracle records the outages of the twin's outage model (the plants' availability record: a
producer's own word opens no claim), producers with units down claim, and the insurer records solvency. A dark
week lowers expected and measured alike: no claim; an outage does.
Premiums are priced on the expected production series before the clock starts: the expected claimable loss
(``agents.insurance.insurer``; which readings VEE would accept from ``reading_accepted``) / the target loss ratio.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from agents.insurance.insurer import (
    InsuredProducer,
    Insurer,
    indemnity_loss_table_wh,
    parametric_index_table,
    premium_ueur,
    sum_insured_factor,
    units_down_pmf,
)
from contracts.eip712 import QUALITY_MEASURED, key_for
from contracts.insurance import MutualInsurance
from contracts.token import UEUR_PER_EUR, eur_to_ueur
from grid_models.outages import (
    forced_unavailability,
    units_availability,
    units_down_paths,
)
from sim.capabilities.base import Capability
from sim.measurement.meters import RawReading, VirtualMeter
from sim.measurement.readings_log import reading_row, signature_columns
from sim.measurement.vee import MeterVee
from sim.results.summary import event_args
from sim.sites.generation import site_series

HOURS_PER_YEAR = 8760.0
PREMIUM_FLOAT_PERIODS = 4.0  # each producer starts with money for a year of premiums, times this
PRICING_DRAWS = 200  # outage paths per member for the sum-insured factor (own RNG stream "insurance_pricing")

NOT_INSURED = "estimated interval: the contract takes measured production only"


def reading_accepted(expected_wh: np.ndarray, n_units: int, max_wh: int, period_s: int, *,
                     drop_probability: float = 0.0, spike_probability: float = 0.0) -> np.ndarray:
    """Probability that the site's reading of each period is accepted by VEE (and so can back a claim) when
    k of ``n_units`` units are down, shape (periods, n_units + 1) [1].

    The readings floor(E_t x (1 - k/n)) [Wh], with the meter's register (their running sum) at each period end, go
    through the run's own VEE (``sim.measurement.vee.MeterVee``), k held for the whole series (outages last days,
    periods an hour). A site at rated output with a unit down reads the same Wh hour after hour while its
    register advances: a plateau, which VEE accepts (its ``frozen`` rule judges the register). Injected meter
    faults (dropped or spiked readings) lower every period's acceptance by (1 - drop) x (1 - spike)."""
    e = np.asarray(expected_wh, dtype=float)
    out = np.ones((len(e), n_units + 1))
    for k in range(1, n_units):  # k = n: every reading is 0, which VEE always accepts
        vee = MeterVee("pricing", max_wh, period_s)
        readings_wh = np.floor(e * (n_units - k) / n_units)
        for period, (wh, register_wh) in enumerate(zip(readings_wh.tolist(), np.cumsum(readings_wh).tolist())):
            vee.receive(RawReading("pricing", period, wh, register_wh=register_wh))
        out[:, k] = [v.quality == QUALITY_MEASURED for v in vee.finalise_through(len(e) - 1)]
    return out * (1.0 - drop_probability) * (1.0 - spike_probability)


class InsuranceCapability(Capability):
    name = "insurance"

    def __init__(self, ctx):
        super().__init__(ctx)
        spec, bank, seed = ctx.scenario.insurance, ctx.bank, ctx.scenario.run.seed
        rng, step_s, period_s = ctx.rngs["insurance"], ctx.clock.step_s, ctx.clock.settlement_s
        self.spec = spec
        with ctx.timed("physics"):
            self.series = [site_series(s, ctx.inputs.weather, step_s=step_s, settlement_s=period_s, rng=rng)
                           for s in spec.producers]
            self.available = np.column_stack([
                units_availability(s.units, ctx.clock.n_steps, step_s, rng, mtbf_h=s.mtbf_h, mttr_h=s.mttr_h)
                for s in spec.producers])
        self.potential_kw = np.column_stack([s.potential_kw for s in self.series])
        self.gen_kw = self.potential_kw * self.available
        self.price = eur_to_ueur(spec.price_eur_per_kwh)
        self.insurer_account = bank.open_account("insurer")
        self.oracle_account = bank.open_account("insurance-oracle")
        self.ins = MutualInsurance.deploy(
            ctx.chain, insurer=self.insurer_account, token=bank.token.address, oracle=self.oracle_account,
            t0_s=ctx.inputs.t0_s, period_s=period_s, price_ueur_per_kwh=self.price,
            threshold_bps=round(spec.threshold_percent * 100), parametric=spec.variant == "parametric",
            trigger_bps=round(spec.trigger_percent * 100), exit_bps=round(spec.exit_percent * 100))
        horizon_h = ctx.clock.n_steps * step_s / 3600.0
        periods_per_year = HOURS_PER_YEAR * 3600.0 / period_s
        faults = ctx.scenario.meters
        self.meters, self.producers, self.accounts, self.premiums = [], [], [], []
        self.expected_payout_ueur: list[float] = []  # priced: expected claimable payout over the run, per member
        self.expected_loss_share_of_cover: list[float] = []
        self.sum_insured_factors: list[float] = []
        rng_pricing = ctx.rngs["insurance_pricing"]
        for j, site in enumerate(spec.producers):
            meter = VirtualMeter(f"meter/{site.name}", key_for(seed, f"meter/{site.name}"), site.nameplate_kw,
                                 period_s)
            account = bank.open_account(f"producer/{site.name}")
            year_wh = float(self.potential_kw[:, j].sum() * step_s / 3.6) * HOURS_PER_YEAR / horizon_h
            sum_insured = max(1, round(year_wh / 1000.0 * self.price * spec.sum_insured_share))
            cover = max(1, round(sum_insured / periods_per_year * 24))  # a day's share of the cover per period
            with ctx.timed("physics"):
                accepted = reading_accepted(self.series[j].caps_wh, site.units, meter.max_wh_per_period, period_s,
                                            drop_probability=faults.drop_probability,
                                            spike_probability=faults.spike_probability)
            u = forced_unavailability(site.mtbf_h, site.mttr_h)
            if spec.variant == "parametric":
                table_ueur = cover * parametric_index_table(
                    self.series[j].caps_wh, site.units, spec.threshold_percent / 100.0,
                    trigger=spec.trigger_percent / 100.0, exit=spec.exit_percent / 100.0, measurable=accepted)
            else:
                table_ueur = indemnity_loss_table_wh(self.series[j].caps_wh, site.units, spec.threshold_percent / 100.0,
                                                     measurable=accepted) / 1000.0 * self.price
            expected_uncapped_ueur = float(np.sum(table_ueur * units_down_pmf(site.units, u)[None, :]))
            with ctx.timed("physics"):
                paths = units_down_paths(site.units, ctx.clock.n_periods, period_s, rng_pricing, draws=PRICING_DRAWS,
                                         mtbf_h=site.mtbf_h, mttr_h=site.mttr_h)
            cap_factor = sum_insured_factor(table_ueur, paths, sum_insured)
            expected_ueur = expected_uncapped_ueur * cap_factor
            self.sum_insured_factors.append(cap_factor)
            premium = premium_ueur(expected_ueur, spec.target_loss_ratio, ctx.clock.n_periods)
            self.expected_payout_ueur.append(expected_ueur)
            self.expected_loss_share_of_cover.append(expected_ueur * HOURS_PER_YEAR / horizon_h / sum_insured)
            self.ins.join(account, meter.address, sum_insured, premium, cover, meter.max_wh_per_period,
                          sender=self.insurer_account)
            bank.mint_eur(account, premium * periods_per_year * PREMIUM_FLOAT_PERIODS / UEUR_PER_EUR)
            bank.token.approve(self.ins.address, 2**255, sender=account)
            ctx.measurement.add_meter(meter)
            self.meters.append(meter)
            self.accounts.append(account)
            self.premiums.append(premium)
            self.producers.append(InsuredProducer(ctx.model, site=site.name, account=account, insurance=self.ins,
                                                  parametric=spec.variant == "parametric"))
        self.insurer = Insurer(ctx.model, account=self.insurer_account, insurance=self.ins)
        self.insurer.collect(0)  # premiums are paid in advance: the chain's clock is before period 0
        self.refusals: list[dict] = []
        self.readings_log = ctx.measurement.log()
        self._settled_through = -1

    def period_closed(self, period: int) -> None:
        """Collect the next period's premiums, in advance (the contract takes the current or the next only)."""
        if period + 1 < self.ctx.clock.n_periods:
            self.ctx.set_chain_time()
            self.insurer.collect(period + 1)

    def measure(self, k: int, flow) -> None:
        for meter, p_kw in zip(self.meters, self.gen_kw[k]):
            meter.record(p_kw, self.ctx.clock.step_s)

    def _expected_wh(self, period: int) -> list[int]:
        return [int(s.caps_wh[period]) for s in self.series]

    def _weather_hash(self, period: int) -> bytes:
        """sha256 over the sites' weather-record hashes of the period (each in the run's results)."""
        return hashlib.sha256("".join(s.record_hashes[period] for s in self.series).encode()).digest()

    def settle(self, validated: dict[str, list], through_period: int) -> None:
        spp = self.ctx.clock.steps_per_period
        signed, rows, posted = [], [], []
        for meter in self.meters:
            for v in validated.get(meter.meter_id, []):
                if v.quality == QUALITY_MEASURED:  # the contract refuses estimated production
                    signed.append(meter.sign(self.ins.domain_separator, v.period, v.energy_wh, v.quality))
                    rows.append(reading_row(meter.meter_id, v))
                    posted.append(rows[-1])
                else:
                    rows.append(reading_row(meter.meter_id, v, "not_posted", NOT_INSURED))
        for period in range(self._settled_through + 1, through_period + 1):
            self.ins.post_expected(period, self.accounts, self._expected_wh(period), self._weather_hash(period),
                                   sender=self.oracle_account)
        refused = self.ins.submit_readings(signed, sender=self.insurer_account)
        for r, reason in refused:
            self.refusals.append({"what": "reading", "period": r.period, "meter": r.meter, "reason": reason})
        reasons = {(r.meter, r.period): reason for r, reason in refused}
        for s, row in zip(signed, posted):
            row["reason"] = reasons.get((s.meter, s.period), "")
            row["status"] = "refused" if row["reason"] else "accepted"
            row.update(signature_columns(s, self.ins.address))
        self.readings_log.extend(rows)
        for period in range(self._settled_through + 1, through_period + 1):
            share = self.available[period * spp:(period + 1) * spp].mean(axis=0)
            for producer, a in zip(self.producers, share):
                if a < 1.0:  # the oracle records the outage from the plant's availability record
                    self.ins.report_outage(period, producer.account, int(a * 10_000), sender=self.oracle_account)
                reason = producer.after_period(period, float(a))
                if reason:
                    self.refusals.append({"what": "claim", "period": period, "meter": producer.site,
                                          "reason": reason})
            self.insurer.record_solvency(period)
        self._settled_through = max(self._settled_through, through_period)

    def timeseries(self) -> pd.DataFrame:
        t = self.ctx.inputs.times.tz_convert("UTC")
        parts = []
        for j, site in enumerate(self.spec.producers):
            for q, vals in (("potential_kw", self.potential_kw[:, j]), ("generation_kw", self.gen_kw[:, j]),
                            ("available_share", self.available[:, j])):
                parts.append(pd.DataFrame({"time": t, "entity": f"site/{site.name}", "quantity": q, "value": vals,
                                           "unit": "1" if q == "available_share" else "kW"}))
        return pd.concat(parts, ignore_index=True)

    def summary(self, ledger: pd.DataFrame) -> dict:
        premiums = event_args(ledger, "MutualInsurance", "PremiumPaid")
        claims = event_args(ledger, "MutualInsurance", "ClaimPaid")
        solvency = event_args(ledger, "MutualInsurance", "Solvency")
        queued_paid = event_args(ledger, "MutualInsurance", "QueuedPaid")
        prem = float(premiums.amount_ueur.sum()) if len(premiums) else 0.0
        paid = float(claims.paid_ueur.sum() + (queued_paid.amount_ueur.sum() if len(queued_paid) else 0)) \
            if len(claims) else 0.0
        owed = float(self.ins.call("total_owed_ueur"))
        expected = float(sum(self.expected_payout_ueur))
        ratio = solvency.pool_ueur / solvency.exposure_ueur.where(solvency.exposure_ueur > 0) if len(solvency) \
            else pd.Series(dtype=float)
        per = {}
        for site, account in zip(self.spec.producers, self.accounts):
            mine = claims[claims.member == account] if len(claims) else claims
            per[site.name] = {
                "premiums_eur": float(premiums[premiums.member == account].amount_ueur.sum()) / UEUR_PER_EUR,
                "expected_payouts_eur": self.expected_payout_ueur[self.accounts.index(account)] / UEUR_PER_EUR,
                "claims": int(len(mine)),
                "paid_eur": float(self.ins.call("paid_out_ueur", account)) / UEUR_PER_EUR,
                "owed_eur": float(self.ins.call("owed_ueur", account)) / UEUR_PER_EUR,
                "outage_hours": float((1 - self.available[:, self.accounts.index(account)]).sum()
                                      * self.ctx.clock.step_s / 3600.0),
            }
        return {
            "variant": self.spec.variant,
            "members": len(self.accounts),
            "premiums_eur": prem / UEUR_PER_EUR,
            "payouts_eur": paid / UEUR_PER_EUR,
            "loss_ratio": paid / prem if prem else 0.0,
            "incurred_loss_ratio": (paid + owed) / prem if prem else 0.0,
            "target_loss_ratio": self.spec.target_loss_ratio,
            "loading_percent": 100.0 * (1.0 / self.spec.target_loss_ratio - 1.0),
            "expected_payouts_eur": expected / UEUR_PER_EUR,
            "payouts_over_expected": paid / expected if expected else 0.0,
            "expected_loss_share_of_cover_max": max(self.expected_loss_share_of_cover),
            "sum_insured_factor_min": min(self.sum_insured_factors),
            "claims_paid": int(self.ins.call("claims_paid")),
            "claims_queued": int((claims.queued_ueur > 0).sum()) if len(claims) else 0,
            "owed_eur": owed / UEUR_PER_EUR,
            "pool_eur": float(self.ins.pool_ueur()) / UEUR_PER_EUR,
            "pool_never_negative": bool((solvency.pool_ueur >= 0).all()) if len(solvency) else True,
            "solvency_ratio_min": float(ratio.min()) if len(ratio.dropna()) else 0.0,
            "solvency_ratio_end": float(ratio.iloc[-1]) if len(ratio.dropna()) else 0.0,
            "under_capitalised": bool(len(claims) and (claims.queued_ueur > 0).any()),
            "refused": len(self.refusals),
            "refused_by_reason": pd.Series([r["reason"] for r in self.refusals], dtype=object).value_counts()
            .to_dict() if self.refusals else {},
            "member_detail": per,
        }
