"""Tariff design: every household billed per billing period under the scenario's ``[tariff]``, from its meters'
VEE-validated import and export, and the bill paid on chain.

Each household's connection has its export meter (the kernel's ``meter/<id>``, read by the VPP too) and an import
meter of the tariff's (``meter/<id>/import``: the same connection's import register, its own fault stream). Once
every period of a billing period is validated, the bills of that billing period are computed
(``sim.capabilities.tariffs.bills``) and settled in EuroToken: a household whose bill is payable transfers it to
the supplier, the supplier transfers a credit to each household owed one. ``bills.parquet`` itemises them; the
VPP's payouts and penalties (settled by VppSettlement) are added as lines read back from the ledger. The summary
reconciles every bill with the EuroToken transfers on chain and the supplier's balance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.chain import ChainRevert
from contracts.eip712 import key_for
from contracts.flex import FLEX_UNITS_PER_TOKEN
from contracts.token import UEUR_PER_EUR
from sim.capabilities.base import Capability
from sim.capabilities.tariffs.bills import LINES, bill_frame, billing_index, day_fractions, to_cents
from sim.capabilities.tariffs.prices import co2_g_per_kwh, period_prices_eur_per_kwh, period_starts
from sim.capabilities.tariffs.response import cheap_periods
from sim.measurement.meters import VirtualMeter
from sim.measurement.readings_log import reading_row
from sim.results.summary import event_args

IMPORT_RATED_KW = 43.5  # a household's main fuse, 3 x 63 A x 230 V: the import meter's VEE range
SUPPLIER_FLOAT_EUR = 1_000_000.0  # the supplier's money for credits: never the binding limit
UEUR_PER_CENT = UEUR_PER_EUR // 100
GRID_CHARGE_WH = 1e9  # "battery_naive": a declared export far below any battery's power (it charges at full power)
DAY_AHEAD_PUBLISHED_H = 13  # a day-ahead price is known from this local hour of the day before (EPEX: ~12:45 CET)
DEFERRABLES = ("deferrables", "all")  # responses in which the micro-DSR deferrable appliances answer the price
FORECAST_BATTERY = ("battery", "all")  # responses in which batteries follow ``response.ForecastBattery``
BILLED = "billed by the tariff: the bill is paid on chain (EuroToken), the readings are not posted"


class _PriceSignal:
    """What a battery of a household outside any VPP reads under ``response = "battery_naive"``, through the interface
    ``agents.prosumer.Prosumer`` reads a VPP's declarations with: in the cheap periods of each local day (an import
    price within ``CHEAP_FRACTION`` of the day's range above its lowest, on a day whose prices differ) a declared
    export of ``-GRID_CHARGE_WH`` (the battery charges from the grid, as far as its power and state of charge
    allow), else 0 (plain self-consumption: the battery covers the household's deficit, which is what avoids
    dear imports and lowers the peak a capacity tariff charges). No period triggers the full-power export of the
    VPP rule (``price_of`` 0 against a base of 1)."""

    def __init__(self, import_eur_per_kwh: np.ndarray, day: np.ndarray):
        self.cheap = cheap_periods(import_eur_per_kwh, day)

    def declared_wh(self, period: int, account: str) -> float:
        return -GRID_CHARGE_WH if period < len(self.cheap) and self.cheap[period] else 0.0

    def default_price_ueur_per_kwh(self) -> int:
        return 1

    def price_of(self, period: int) -> int:
        return 0


class TariffCapability(Capability):
    name = "tariffs"

    def __init__(self, ctx):
        super().__init__(ctx)
        scenario, bank = ctx.scenario, ctx.bank
        self.spec = spec = scenario.tariff
        self.ids = list(ctx.community.ids)
        self.groups = [g.name for _, g in ctx.community.groups]
        self.accounts = [ctx.community.accounts[h] for h in self.ids]
        self.supplier = bank.open_account("supplier")
        bank.mint_eur(self.supplier, SUPPLIER_FLOAT_EUR)
        self.funds_ueur = bank.mint_many_eur(self.accounts, spec.household_funds_eur)
        self.import_eur_per_kwh = period_prices_eur_per_kwh(scenario, "import_price")
        self.export_eur_per_kwh = period_prices_eur_per_kwh(scenario, "export_price")
        starts = period_starts(scenario)
        self.billing = billing_index(starts, starts[0], spec.billing_period)
        self.day_fraction = day_fractions(starts, scenario.run.settlement_s)
        self.last_of = {b: int(np.flatnonzero(self.billing == b)[-1]) for b in np.unique(self.billing)}
        n, period_s = ctx.clock.n_periods, ctx.clock.settlement_s
        self.import_meters = [VirtualMeter(f"meter/{h}/import", key_for(scenario.run.seed, f"meter/{h}/import"),
                                           IMPORT_RATED_KW, period_s, register="import") for h in self.ids]
        for meter in self.import_meters:
            ctx.measurement.add_meter(meter, rng=ctx.rngs["tariffs"])
        vpp = scenario.vpp
        in_vpp = set() if vpp is None else set(vpp.members or self.ids)
        self.export_ids = [m.meter_id for m in ctx.community.meters]
        self.readings_log = ctx.measurement.log(claim=[m for h, m in zip(self.ids, self.export_ids)
                                                       if h not in in_vpp])
        self._logs_export = {m for h, m in zip(self.ids, self.export_ids) if h not in in_vpp}
        self.import_wh = np.zeros((n, len(self.ids)))
        self.export_wh = np.zeros((n, len(self.ids)))
        self.have = np.zeros((n, len(self.ids), 2), dtype=bool)
        self.bills: list[pd.DataFrame] = []
        self.unpaid: list[dict] = []
        self._billed = set()
        self._signal = None
        day = billing_index(starts, starts[0], "day")
        if spec.response == "battery_naive":
            self._signal = _PriceSignal(self.import_eur_per_kwh, day)
        elif spec.response in FORECAST_BATTERY:
            self._signal = self._forecast_battery(day)
        self._starts = starts
        self.in_vpp = in_vpp
        self.co2_g_per_kwh = co2_g_per_kwh(scenario) if spec.co2_file is not None else None

    def _forecast_battery(self, day: np.ndarray):
        """``response.ForecastBattery`` for every household (a VPP member's is never asked)."""
        from sim.capabilities.tariffs.response import ForecastBattery

        ctx, net = self.ctx, self.spec.network
        groups = [g for _, g in ctx.community.groups]
        cap_kw = np.inf
        if net.peak_eur_per_kw_year > 0 and net.peak_min_kw > 0:
            cap_kw = net.peak_min_kw
        if net.subscribed_kw > 0:
            cap_kw = min(cap_kw, net.subscribed_kw)
        load = ctx.inputs.household_load_kw[:, np.asarray(ctx.community.household_of, dtype=int)]
        return ForecastBattery(self.import_eur_per_kwh, day, self.accounts, ctx.inputs.pv_kw, load,
                               np.array([g.battery_kwh for g in groups], dtype=float),
                               np.array([g.battery_kw for g in groups], dtype=float), ctx.clock.step_s,
                               ctx.clock.settlement_s, cap_kw, pv_clear_kw=ctx.inputs.pv_clear_kw,
                               prior_clear_sky_index=ctx.scenario.weather.mean_clear_sky_index)

    # clock hooks ---------------------------------------------------------------------------------------------
    def price_signal(self, appliance: str):
        """Under ``response = "deferrables"`` or ``"all"``: the import price per period and when each is known
        (``agents.price_signal.PriceSignal``): time-of-use bands and flat prices before the run, a day-ahead
        (``spot``) price from ``DAY_AHEAD_PUBLISHED_H`` local time the day before."""
        if appliance != "deferrables" or self.spec.response not in DEFERRABLES:
            return None
        from agents.price_signal import PriceSignal

        starts = self._starts
        known_s = np.full(len(starts), -np.inf)
        if self.spec.import_price.kind == "spot":
            day_before = starts.normalize() - pd.Timedelta(days=1) + pd.Timedelta(hours=DAY_AHEAD_PUBLISHED_H)
            known_s = (day_before - starts[0]).total_seconds().to_numpy(dtype=float)
        return PriceSignal(self.import_eur_per_kwh, known_s, self.ctx.clock.settlement_s)

    def declarations(self, prosumer_id: str):
        """Under a battery response a household outside the VPP follows the import price (``_PriceSignal`` for
        ``"battery_naive"``, ``response.ForecastBattery`` for ``"battery"`` and ``"all"``); else None (the VPP,
        built first, answers for its members)."""
        return self._signal if prosumer_id not in self.in_vpp else None

    def measure(self, k: int, flow) -> None:
        export_kw = self.ctx.feeder_results.prosumer["export_kw"][k]
        dt_s = self.ctx.clock.step_s
        for meter, p_kw in zip(self.import_meters, export_kw.tolist()):
            meter.record(p_kw, dt_s)

    def settle(self, validated: dict[str, list], through_period: int) -> None:
        for j, (imp, exp) in enumerate(zip(self.import_meters, self.export_ids)):
            for v in validated.get(imp.meter_id, []):
                self.import_wh[v.period, j], self.have[v.period, j, 0] = v.energy_wh, True
                self.readings_log.append(reading_row(imp.meter_id, v, "not_posted", BILLED))
            for v in validated.get(exp, []):
                self.export_wh[v.period, j], self.have[v.period, j, 1] = v.energy_wh, True
                if exp in self._logs_export:
                    self.readings_log.append(reading_row(exp, v, "not_posted", BILLED))
        for b, last in self.last_of.items():
            if b not in self._billed and last <= through_period:
                self._bill(b)

    def _bill(self, b: int) -> None:
        """Compute billing period ``b``'s bills and settle them in EuroToken."""
        ctx, p = self.ctx, self.billing == b
        frame = bill_frame(self.spec, self.import_wh[p] / 1000, self.export_wh[p] / 1000,
                           self.import_eur_per_kwh[p], self.export_eur_per_kwh[p], np.full(p.sum(), b),
                           ctx.clock.settlement_s, self.day_fraction[p], self.ids, self.groups,
                           sold_by_vpp=np.array([h in self.in_vpp for h in self.ids]))
        frame["first_period"] = int(np.flatnonzero(p)[0])
        frame["periods_without_reading"] = (~self.have[p]).any(axis=2).sum(axis=0)
        ctx.set_chain_time()
        token = ctx.bank.token
        cents = np.round(frame.payable_eur.to_numpy() * 100).astype(np.int64)
        paid = np.zeros(len(cents), dtype=bool)
        for j in np.flatnonzero(cents > 0):
            try:
                token.transfer(self.supplier, int(cents[j]) * UEUR_PER_CENT, sender=self.accounts[j])
                paid[j] = True
            except ChainRevert as exc:
                self.unpaid.append({"household": self.ids[j], "billing_period": b, "reason": exc.reason})
        credit = np.flatnonzero(cents < 0)
        if len(credit):
            token.transfer_many([self.accounts[j] for j in credit], [int(-cents[j]) * UEUR_PER_CENT for j in credit],
                                sender=self.supplier)
            paid[credit] = True
        frame["paid_on_chain"] = paid | (cents == 0)
        self.bills.append(frame)
        self._billed.add(b)

    # results --------------------------------------------------------------------------------------------------
    def bill_table(self, ledger: pd.DataFrame) -> pd.DataFrame:
        """Every bill with the VPP's payouts (negative) and penalties of its billing period read from the ledger
        [EUR], the flex tokens FlexDelays minted to the household for delays starting in it and their value
        (negative, ``flex_eur_per_token``), and ``total_eur`` = payable + those lines."""
        bills = pd.concat(self.bills, ignore_index=True) if self.bills else pd.DataFrame()
        if not len(bills):
            return bills
        who = {a.lower(): h for h, a in zip(self.ids, self.accounts)}
        for col, event, sign in (("vpp_payouts_eur", "Payout", -1), ("vpp_penalties_eur", "Penalty", 1)):
            flows = _vpp_flows(ledger, event)
            bills[col] = 0.0
            if len(flows):
                flows["household"] = flows.member.str.lower().map(who)
                flows["billing_period"] = self.billing[flows.period.to_numpy()]
                ueur = flows.groupby(["household", "billing_period"]).amount_ueur.sum()
                key = list(zip(bills.household, bills.billing_period))
                bills[col] = [sign * ueur.get(k, 0) / UEUR_PER_EUR for k in key]
        bills["flex_tokens"], bills["flex_tokens_eur"] = 0.0, 0.0
        delays = event_args(ledger, "FlexDelays", "DelayLogged") if len(ledger) else pd.DataFrame()
        if len(delays):
            delays["household"] = delays.customer.str.lower().map(who)
            period = delays.start_min.to_numpy() * 60 // self.ctx.clock.settlement_s
            delays["billing_period"] = self.billing[np.minimum(period, len(self.billing) - 1)]
            tokens = delays.groupby(["household", "billing_period"]).tokens.sum() / FLEX_UNITS_PER_TOKEN
            bills["flex_tokens"] = [float(tokens.get(k, 0.0)) for k in zip(bills.household, bills.billing_period)]
            bills["flex_tokens_eur"] = -to_cents(bills.flex_tokens.to_numpy() * self.spec.flex_eur_per_token) / 100
        bills["total_eur"] = ((bills.payable_eur * 100).round() + (bills.vpp_payouts_eur * 100).round()
                              + (bills.vpp_penalties_eur * 100).round() + (bills.flex_tokens_eur * 100).round()) / 100
        return bills

    def summary(self, ledger: pd.DataFrame) -> dict:
        ctx, token = self.ctx, self.ctx.bank.token
        bills = self._table = self.bill_table(ledger)
        transfers = event_args(ledger, "EuroToken", "Transfer")
        supplier = self.supplier.lower()
        if len(transfers):
            transfers = transfers.assign(sender=transfers.sender.str.lower(), receiver=transfers.receiver.str.lower())
        paid_to = transfers[transfers.receiver == supplier].groupby("sender").value.sum() if len(transfers) else {}
        paid_by = transfers[transfers.sender == supplier].groupby("receiver").value.sum() if len(transfers) else {}
        per = bills.groupby("household").payable_eur.sum() if len(bills) else pd.Series(dtype=float)
        households, reconciled = {}, True
        for h, g, a in zip(self.ids, self.groups, self.accounts):
            on_chain = int(paid_to.get(a.lower(), 0)) - int(paid_by.get(a.lower(), 0))
            billed = int(round(per.get(h, 0.0) * 100)) * UEUR_PER_CENT
            reconciled &= on_chain == billed
            mine = bills[bills.household == h]
            households[h] = {"group": g, "payable_eur": billed / UEUR_PER_EUR,
                             "paid_on_chain_eur": on_chain / UEUR_PER_EUR,
                             "total_eur": float(mine.total_eur.sum()) if len(mine) else 0.0,
                             "import_kwh": float(mine.import_kwh.sum()) if len(mine) else 0.0,
                             "export_kwh": float(mine.export_kwh.sum()) if len(mine) else 0.0,
                             "balance_eur": token.balance_of(a) / UEUR_PER_EUR}
        billed = float(bills.payable_eur.sum()) if len(bills) else 0.0
        supplier_balance = token.balance_of(self.supplier)
        revenue_ueur = supplier_balance - round(SUPPLIER_FLOAT_EUR * UEUR_PER_EUR)  # read from the chain
        reconciled &= revenue_ueur == round(billed * 100) * UEUR_PER_CENT
        rec, dt_h = ctx.feeder_results, ctx.clock.step_s / 3600
        pv_kwh = float(np.nansum(rec.prosumer["pv_kw"])) * dt_h
        load_kwh = float(np.nansum(rec.prosumer["load_kw"])) * dt_h
        imp, exp = float(self.import_wh.sum()) / 1000, float(self.export_wh.sum()) / 1000
        shared = float(bills.shared_import_kwh.sum()) if len(bills) else 0.0
        slack_kw = rec.feeder["slack_p_kw"]
        trafo = rec.feeder["trafo_loading_percent"]
        by_group = bills.groupby(["group", "household"]).total_eur.sum().groupby("group") if len(bills) else None
        return {
            "design": self.spec.name,
            "response": self.spec.response,
            "billing_period": self.spec.billing_period,
            "bills": int(len(bills)),
            "utility_revenue_eur": revenue_ueur / UEUR_PER_EUR,  # what the supplier holds on chain beyond its float
            "billed_eur": billed,  # the bills' payable total; equal to the revenue when every bill was paid
            **{f"{line.removesuffix('_eur')}_revenue_eur": float(bills[line].sum()) if len(bills) else 0.0
               for line in LINES},
            "network_revenue_eur": float(bills[["network_energy_eur", "network_peak_eur",
                                                "network_capacity_eur"]].to_numpy().sum()) if len(bills) else 0.0,
            "total_billed_eur": float(bills.total_eur.sum()) if len(bills) else 0.0,
            "mean_bill_per_household_eur": float(bills.total_eur.sum()) / max(1, len(self.ids)) if len(bills) else 0.0,
            "median_household_total_eur": float(bills.groupby("household").total_eur.sum().median())
            if len(bills) else 0.0,
            "mean_total_by_group_eur": {g: float(s.mean()) for g, s in by_group} if by_group is not None else {},
            "bills_reconciled_on_chain": bool(reconciled) and not self.unpaid,
            "unpaid_bills": self.unpaid,
            "supplier_balance_eur": supplier_balance / UEUR_PER_EUR,
            "import_kwh": imp,
            "export_kwh": exp,
            "shared_kwh": shared,
            "self_consumption_percent": 100 * (1 - exp / pv_kwh) if pv_kwh > 0 else 0.0,
            "self_sufficiency_percent": 100 * (1 - imp / load_kwh) if load_kwh > 0 else 0.0,
            "community_self_sufficiency_percent": 100 * (1 - (imp - shared) / load_kwh) if load_kwh > 0 else 0.0,
            "feeder_peak_import_kw": float(np.nanmax(slack_kw)) if len(slack_kw) else 0.0,
            "trafo_hours_above_limit_h": float(np.sum(trafo > self.spec.trafo_limit_percent)) * dt_h,
            **({"co2_kg": self._co2_kg()} if self.co2_g_per_kwh is not None else {}),
            "household_detail": households,
        }

    def _co2_kg(self) -> float:
        """The households' grid import (shared energy left out) times each period's emission intensity [kg]."""
        imp = self.import_wh / 1000
        if self.spec.community is not None:
            from sim.capabilities.tariffs.bills import shared_kwh

            exp = np.where(np.array([h in self.in_vpp for h in self.ids])[None, :], 0.0, self.export_wh / 1000)
            imp = imp - shared_kwh(imp, exp)[0]
        return float(imp.sum(axis=1) @ self.co2_g_per_kwh) / 1000

    def tables(self) -> dict[str, pd.DataFrame]:
        """``bills.parquet``: every bill (``bill_table``), written with the run's results."""
        return {"bills.parquet": getattr(self, "_table", pd.DataFrame())}


def _vpp_flows(ledger: pd.DataFrame, event: str) -> pd.DataFrame:
    """VppSettlement's payouts or penalties per member and period [µEUR] (settled by period: ``Payout``,
    ``Penalty``; by day: ``MeterDaySettled``, dated by the day's first period): columns period, member,
    amount_ueur."""
    if not len(ledger):
        return pd.DataFrame(columns=["period", "member", "amount_ueur"])
    flows = event_args(ledger, "VppSettlement", event)
    days = event_args(ledger, "VppSettlement", "MeterDaySettled")
    if len(days):
        col = "payout_ueur" if event == "Payout" else "penalty_ueur"
        days = days.rename(columns={"first_period": "period", col: "amount_ueur"})[["period", "member", "amount_ueur"]]
        flows = pd.concat([flows, days[days.amount_ueur > 0]], ignore_index=True)
    return flows[["period", "member", "amount_ueur"]] if len(flows) else \
        pd.DataFrame(columns=["period", "member", "amount_ueur"])
