"""Capability 4 — micro demand-side management: smart outlets, minute delays, fair and auditable.

Before the clock: appliance activity over the horizon (``dsr_build``), the ``FlexDelays`` contract, one
account for the grid operator and one key per outlet, every outlet registered on chain with its customer's
limits. Each minute: thermostats decide, the grid operator dispatches outlets during an active DR event (the
fairness rule is in ``agents.dsr.grid_operator``), the appliances' power goes onto their households' feeder loads
(``extra_load_kw``), one power flow; after it the operator may open a DR event on chain. When a settlement
period closes, the outlets' signed delay reports are posted in one batch and the operator re-reads the public
counters. With ``[dsr] respond = false`` the operator still opens events but no outlet responds (the
comparison run, same seed).

Hardware in the loop: a HIL relay with ``entity = "outlet/<outlet name>"`` (outlet names are
``<prosumer id>/<appliance>``) follows the outlet's switch (``command_source``): on while the appliance may run,
off while the outlet holds it. A held minute is claimed on chain only when every poll of the relay in that
minute read it back off; at the first minute that was not confirmed (lost communication, a relay in its safe
state, a stuck relay) the delay is cut before that minute, reported with its confirmed minutes only, and the
outlet takes no further part in the event. Minutes the relay should have been on but was not confirmed on
are counted (the appliance may have been off without a delay to show for it). ``summary()["hil_outlets"]``.
The relay's confirmed state drives the modelled appliance (known after the minute, when the minute's power flow
has run: the appliance's model is corrected for that minute, the grid sees the correction from the next one):
a minute every poll read back off while the outlet did not hold it is a power cut for the appliance
(``cut``: a job pauses and resumes, its energy conserved; a thermostat's element was off), with no delay and no
token on chain; a held minute every poll read back on is run again as a minute the appliance ran
(``ran_while_held``), and the delay is cut there as above. The modelled draw of each relay's outlet is in the
timeseries (entity ``outlet/<outlet name>``, ``p_kw``).

OpenADR 2.0b (``[dsr.openadr]``, ``docs/openadr.md``): each DR event the operator opens on chain is published
through its VTN; the outlets act on the event as their VEN received it, if the VEN opted in, and only the outlets
the VEN let take part (``openadr_ven.may_take_part``); the VEN reports each batch of delays posted on chain back
to the VTN, and ``summary()["openadr"]`` compares the reports with the chain's delay log.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd

from agents.dsr.grid_operator import ActiveEvent, GridOperator, Thresholds
from agents.dsr.outlet import DeferrablePlug, FleetHoldable, Limits, Outlet, ThermostaticPlug
from contracts.eip712 import key_for
from contracts.flex import FLEX_UNITS_PER_TOKEN, FlexDelays, OutletSpec, hours_mask
from grid_models.appliances import APPLIANCE_CODES
from sim.capabilities.base import Capability
from sim.capabilities.dsr.build import build_fleets, day_offset_min

DSR_STREAM = 0x647372  # spawn key of the capability's own random stream ("dsr"), apart from the Twin's streams
SERIES = {"outlet_kw": "kW", "held_kw": "kW", "dr_requested_kw": "kW", "outlets_holding": "1",
          "outlet_no_dsr_kw": "kW", "trafo_loading_no_dsr_percent": "%", "threshold_trafo_percent": "%"}


class DsrCapability(Capability):
    name = "dsr"

    def __init__(self, ctx):
        super().__init__(ctx)
        scenario, spec = ctx.scenario, ctx.scenario.dsr
        self.spec = spec
        act_rng, op_rng = (np.random.default_rng(s) for s in
                           np.random.SeedSequence(scenario.run.seed, spawn_key=(DSR_STREAM,)).spawn(2))
        with ctx.timed("physics"):
            annual = ctx.inputs.annual_load_kwh.tolist()  # the group's, or the network profile's (loads = "network")
            self.fleets = f = build_fleets(spec, ctx.community.ids, annual, ctx.inputs.times, act_rng)
        self.offset_min = day_offset_min(ctx.inputs.times)
        house = ctx.community.household_of
        self.n_households = ctx.community.n_households
        self.house_thermo = np.array([house[p.prosumer] for p in f.plans if p.thermostatic], dtype=int)
        self.house_def = np.array([house[p.prosumer] for p in f.plans if not p.thermostatic], dtype=int)
        self.thermo_idx = np.array([n for n, p in enumerate(f.plans) if p.thermostatic], dtype=int)
        self.def_idx = np.array([n for n, p in enumerate(f.plans) if not p.thermostatic], dtype=int)
        self.def_cols = np.array([p.column for p in f.plans if not p.thermostatic], dtype=int)
        self.held = np.zeros(f.thermo.n, dtype=bool)
        # the same appliances never held: what the outlets would draw without DSR (for the in-run baseline)
        self.shadow_thermo = copy.deepcopy(f.thermo)
        self.natural_def_kw = f.deferrable.power_kw[: ctx.clock.n_steps].sum(axis=1)

        self.operator_account = ctx.bank.open_account("grid-operator")
        self.flex = FlexDelays.deploy(ctx.chain, operator=self.operator_account, t0_s=ctx.inputs.t0_s,
                                      day_offset_min=self.offset_min, tokens_per_kwh=spec.tokens_per_kwh)
        self.outlets: list[Outlet] = []
        thermo_holdable = FleetHoldable(f.thermo)  # one answer per step for all of the fleet's outlets
        for n, p in enumerate(f.plans):
            pid = ctx.community.ids[p.prosumer]
            plug = (ThermostaticPlug(f.thermo, p.column, self.held, thermo_holdable) if p.thermostatic
                    else DeferrablePlug(f.deferrable, p.column))
            limits = Limits(p.group.max_delay_per_event_min, p.group.max_delay_per_day_min,
                            tuple(tuple(w) for w in p.group.no_delay_hours))
            self.outlets.append(Outlet(
                ctx.model, name=p.name, customer=ctx.community.accounts[pid], customer_index=p.prosumer,
                household=house[p.prosumer], appliance=p.appliance, code=APPLIANCE_CODES[p.appliance],
                key=key_for(scenario.run.seed, f"outlet/{p.name}"), limits=limits, rated_w=f.rated_w[n], plug=plug,
                day_offset_min=self.offset_min))
        self.flex.register_outlets([
            OutletSpec(o.address, o.customer, o.code, o.rated_w, o.limits.max_delay_per_event_min,
                       o.limits.max_delay_per_day_min, hours_mask(o.limits.no_delay_hours)) for o in self.outlets
        ], sender=self.operator_account)
        self.customers = list(dict.fromkeys(o.customer for o in self.outlets))
        self.customer_ids = {ctx.community.accounts[pid]: pid for pid in ctx.community.ids}
        self.operator = GridOperator(
            ctx.model, account=self.operator_account, flex=self.flex,
            thresholds=Thresholds(spec.threshold_trafo_percent, spec.threshold_line_percent, spec.threshold_vm_min_pu),
            duration_min=spec.event_duration_min, margin=spec.margin_percent / 100.0, customers=self.customers,
            rng=op_rng)
        self.series = {q: np.zeros(ctx.clock.n_steps) for q in SERIES}
        self.refused: list[dict] = []
        self.price_shifts: list[dict] = []  # the customers' own shifts to cheaper minutes ([tariff] response)
        self._holding = 0
        self.final: dict = {}
        self.relays: dict[int, dict] = {}  # outlet index -> HIL relay driving it: entity and minute counts
        self.relay_cuts: list[dict] = []  # delays cut at a minute the relay did not confirm off
        self.relay_kw: dict[int, np.ndarray] = {}  # outlet index -> its appliance's modelled draw per minute [kW]
        self._decided_k = -1
        self.openadr = None  # the VTN/VEN link, with [dsr.openadr]
        self.oadr_events: list[dict] = []  # per event published: id, the VEN's opt, outlets taking part
        self._ven_event: ActiveEvent | None = None  # the event as the outlets' VEN received it (None: opted out)
        self._taking_part: set[int] = set()  # indices of the outlets the VEN lets take part in its event
        self._oadr_received = []
        if spec.openadr is not None:
            self._start_openadr(spec.openadr)

    def _start_openadr(self, oadr) -> None:
        from sim.capabilities.dsr.openadr_link import OpenAdrLink
        from sim.capabilities.dsr.openadr_ven import may_take_part

        def take_part(ev) -> list[str]:
            return [o.name for o in self.outlets if self.spec.respond and may_take_part(o, ev)]

        self.openadr = OpenAdrLink(t0_s=self.ctx.inputs.t0_s, outlets=[o.name for o in self.outlets],
                                   take_part=take_part, ven_name=oadr.ven_name, timeout_s=oadr.timeout_s,
                                   poll_s=oadr.poll_s)

    def _publish(self, ev: ActiveEvent) -> None:
        """Publish the operator's new event through the VTN; the outlets act on what their VEN received."""
        from sim.capabilities.dsr.openadr_events import DrEvent

        opt, names = self.openadr.publish(DrEvent(ev.event_id, ev.start_min, ev.end_min - ev.start_min,
                                                  ev.requested_w))
        got, _, _ = self.openadr.ven.received[ev.event_id]
        self._ven_event = (ActiveEvent(got.event_id, got.start_min, got.end_min, got.requested_w / 1000.0,
                                       got.requested_w) if opt == "optIn" else None)
        names = set(names)
        self._taking_part = {n for n, o in enumerate(self.outlets) if o.name in names}
        self.oadr_events.append({"event_id": ev.event_id, "opt": opt, "outlets_taking_part": len(names)})

    # clock hooks ----------------------------------------------------------------------------------------------
    def _requested_kw(self, k: int) -> np.ndarray:
        f = self.fleets
        req = np.zeros(len(self.outlets))
        req[self.thermo_idx] = np.where(f.thermo.wants, f.thermo.p_w / 1000.0, 0.0)
        req[self.def_idx] = f.deferrable.power_kw[k, self.def_cols] - f.deferrable_standby_kw[self.def_cols]
        return np.where(req > 1e-9, req, 0.0)

    def command_source(self, entity: str):
        """``outlet/<prosumer id>/<appliance>``: the outlet's relay command at simulated time ``t_s``: True (on,
        the appliance may run) unless the outlet holds it in that minute; None for a minute not yet decided. (At
        a minute's first instant the Twin's step runs before the bridge's polls: its process is started first.)"""
        if not entity.startswith("outlet/"):
            return None
        name = entity.removeprefix("outlet/")
        n = next((i for i, o in enumerate(self.outlets) if o.name == name), None)
        if n is None:
            pid = name.split("/")[0]
            mine = [o.name for o in self.outlets if o.name.split("/")[0] == pid]
            raise ValueError(f"devices: entity {entity!r} names no smart outlet of this run; outlets of {pid!r}: "
                             f"{mine or 'none'} (which households own which appliance follows [[dsr.outlets]] "
                             "share and run.seed)")
        outlet, step_s = self.outlets[n], self.ctx.clock.step_s
        self.relays[n] = {"entity": entity, "held_min": 0, "held_min_confirmed_off": 0, "delays_cut": 0,
                          "held_min_read_back_on": 0, "free_min": 0, "free_min_not_confirmed_on": 0,
                          "off_min_not_held": 0, "off_kwh_not_held": 0.0, "kwh_corrected_after_power_flow": 0.0}
        self.relay_kw[n] = np.zeros(self.ctx.clock.n_steps)

        def relay_on(t_s: float) -> bool | None:
            if int(t_s // step_s) != self._decided_k:
                return None
            return not outlet.holding

        return relay_on

    def _draw_kw(self, n: int, k: int) -> float:
        """The modelled draw of outlet ``n``'s appliance in minute ``k``, the last one stepped [kW]."""
        plan, f = self.fleets.plans[n], self.fleets
        if plan.thermostatic:
            return float(f.thermo.power_w[plan.column]) / 1000.0
        return float(f.deferrable.power_kw[k, plan.column])

    def _check_relays(self, m: int) -> None:
        """After minute ``m``: for each outlet a HIL relay drives, was its relay read back as commanded? A held
        minute not confirmed off is taken out of the delay, which ends there; a minute read back on (held) or off
        (not held) throughout corrects the appliance's model for that minute (see the module docstring)."""
        bridge, step_s = self.ctx.hil, self.ctx.clock.step_s
        for n, rec in self.relays.items():
            o = self.outlets[n]
            seen_kw = self.relay_kw[n][m]  # what the minute's power flow had
            read_back = {v: bridge.read_back_throughout(rec["entity"], m * step_s, (m + 1) * step_s, v)
                         for v in (0.0, 1.0)}
            if o.holding:
                rec["held_min"] += 1
                if read_back[0.0]:
                    rec["held_min_confirmed_off"] += 1
                    continue
                h = o.state.hold
                o.retract_last_minute()
                if read_back[1.0]:
                    o.plug.ran_while_held(m)
                    rec["held_min_read_back_on"] += 1
                report = o.release(self.flex.domain_separator)
                rec["delays_cut"] += 1
                self.relay_cuts.append({"outlet": o.name, "event_id": h.event_id, "start_min": h.start_min,
                                        "minute_not_confirmed": m, "delay_min_reported": h.minutes,
                                        "reported": report is not None})
            else:
                rec["free_min"] += 1
                if not read_back[1.0]:
                    rec["free_min_not_confirmed_on"] += 1
                if read_back[0.0]:
                    rec["off_min_not_held"] += 1
                    rec["off_kwh_not_held"] += o.plug.cut(m) * step_s / 3600.0
            self.relay_kw[n][m] = self._draw_kw(n, m)
            rec["kwh_corrected_after_power_flow"] += float(abs(self.relay_kw[n][m] - seen_kw)) * step_s / 3600.0

    def _answer_price(self) -> None:
        """Before the first minute: if a tariff publishes a price the households answer with their deferrable
        appliances (``[tariff] response``), each job starts at its cheapest allowed minute
        (``agents.dsr.price_shift``: the customer's own shift, within the outlet's limits, no DR delay)."""
        signal = self.ctx.price_signal("deferrables")
        if signal is None:
            return
        from agents.dsr.price_shift import shift_jobs

        f, step_s = self.fleets, self.ctx.clock.step_s
        price_min, known_s = signal.per_minute(len(f.deferrable.power_kw), step_s)
        by_column = {p.column: o for p, o in zip(f.plans, self.outlets) if not p.thermostatic}
        self.price_shifts = shift_jobs(f.deferrable, by_column, price_min, known_s, step_s)
        self.natural_def_kw = f.deferrable.power_kw[: self.ctx.clock.n_steps].sum(axis=1)

    def decide(self, k: int) -> None:
        if k == 0:
            self._answer_price()
        if self.relays and k > 0:
            self._check_relays(k - 1)
        thermo = self.fleets.thermo
        thermo.demand(k)
        self.held[:] = False
        held_kw = 0.0
        if self.spec.respond and (self.operator.active is not None or self._holding):
            held_kw = self.operator.dispatch(k, self.outlets, self._requested_kw(k), self.flex.domain_separator,
                                             **self._acting_on())
            self._holding = sum(o.holding for o in self.outlets)
        thermo.step(k, self.held)
        self.shadow_thermo.demand(k)
        s = self.series
        s["outlet_no_dsr_kw"][k] = (self.shadow_thermo.step(k, np.zeros(thermo.n, dtype=bool)).sum() / 1000.0
                                    + self.natural_def_kw[k])
        s["held_kw"][k], s["outlets_holding"][k] = held_kw, self._holding
        ev = self.operator.active
        s["dr_requested_kw"][k] = ev.requested_kw if ev is not None and ev.start_min <= k < ev.end_min else 0.0
        self._decided_k = k

    def _acting_on(self) -> dict:
        """Without OpenADR the outlets act on the operator's event; with it, on the event as their VEN received
        it (None if it opted out), and only the outlets it let take part start a hold. (Those it kept out could not
        have held a minute anyway, ``openadr_ven.may_take_part``; with HIL relays, a minute retracted after the
        VEN's decision can free one, which the VEN's decision then keeps unused.)"""
        if self.openadr is None:
            return {}
        return {"event": self._ven_event, "taking_part": self._taking_part}

    def extra_load_kw(self, k: int) -> np.ndarray:
        f = self.fleets
        p = np.bincount(self.house_thermo, weights=f.thermo.power_w / 1000.0, minlength=self.n_households)
        p += np.bincount(self.house_def, weights=f.deferrable.power_kw[k, self.def_cols], minlength=self.n_households)
        self.series["outlet_kw"][k] = p.sum()
        for n, kw in self.relay_kw.items():
            kw[k] = self._draw_kw(n, k)
        return p

    def measure(self, k: int, flow) -> None:
        if flow is None:
            return
        s = self.series
        # first-order baseline: the transformer's loading scales with the power through it
        import_kw = max(flow.slack_p_kw, 1e-9)
        s["trafo_loading_no_dsr_percent"][k] = flow.trafo_loading_percent * max(
            0.0, 1.0 + (s["outlet_no_dsr_kw"][k] - s["outlet_kw"][k]) / import_kw)
        s["threshold_trafo_percent"][k] = self.spec.threshold_trafo_percent
        self.ctx.set_chain_time()
        n_events = len(self.operator.events)
        self.operator.observe(k, flow, s["outlet_kw"][k])
        if self.openadr is not None and len(self.operator.events) > n_events:
            self._publish(self.operator.events[-1])

    def _post_reports(self) -> None:
        named = [(o.name, r) for o in self.outlets for r in o.unposted]
        for o in self.outlets:
            o.unposted = []
        if not named:
            return
        refused = self.flex.report_delays([r for _, r in named], sender=self.operator_account)
        for item, reason in refused:
            self.refused.append({"outlet": item.outlet, "event_id": item.event_id, "reason": reason})
        self.operator.refresh_counters()
        if self.openadr is not None:  # what the chain logged, not what it refused
            from sim.capabilities.dsr.openadr_events import Delay

            out = {id(item) for item, _ in refused}
            self.openadr.report([Delay(name, r.start_min, r.delay_min, r.shifted_wh) for name, r in named
                                 if id(r) not in out])

    def period_closed(self, period: int) -> None:
        self.ctx.set_chain_time()
        self._post_reports()

    def finish(self) -> None:
        ctx = self.ctx
        if self.relays:
            self._check_relays(ctx.clock.n_steps - 1)
        for o in self.outlets:
            o.release(self.flex.domain_separator)
        ctx.chain.set_time(ctx.inputs.t0_s + ctx.clock.n_steps * ctx.clock.step_s + 2)
        self._post_reports()
        if self.openadr is not None:
            try:
                self._oadr_received = self.openadr.delays_received()
            finally:
                self.openadr.close()
        self.final = {"totals": self.flex.totals(),
                      "customers": {c: self.flex.counters(c) for c in self.customers}}

    def close(self) -> None:
        if self.openadr is not None:
            self.openadr.close()

    # results --------------------------------------------------------------------------------------------------
    def summary(self, ledger: pd.DataFrame) -> dict:
        from sim.capabilities.dsr.audit import fairness_table, on_chain_units, rebuild

        ctx, spec, f = self.ctx, self.spec, self.fleets
        trafo = ctx.feeder_results.feeder["trafo_loading_percent"]
        rebuilt = rebuild(ledger)
        table = fairness_table(rebuilt, {c: self.customer_ids[c] for c in self.customers},
                               n_days=ctx.clock.n_steps * ctx.clock.step_s / 86_400)
        t = f.thermo
        counts = pd.Series([o.appliance for o in self.outlets]).value_counts().sort_index()
        return {
            "respond": spec.respond,
            "households": len(self.customers),
            "outlets": len(self.outlets),
            "outlets_by_appliance": {k: int(v) for k, v in counts.items()},
            "threshold_trafo_percent": spec.threshold_trafo_percent,
            "trafo_loading_max_percent": float(trafo.max()),
            "minutes_above_threshold": int((trafo > spec.threshold_trafo_percent).sum() * ctx.clock.step_s // 60),
            "estimated_without_dsr": {
                "trafo_loading_max_percent": float(self.series["trafo_loading_no_dsr_percent"].max()),
                "minutes_above_threshold": int((self.series["trafo_loading_no_dsr_percent"]
                                                > spec.threshold_trafo_percent).sum() * ctx.clock.step_s // 60),
                "method": "same appliances never held (shadow thermostats, natural job schedule); transformer "
                          "loading scaled by the feeder import, to first order"},
            "outlet_kwh": float(self.series["outlet_kw"].sum() * ctx.clock.step_s / 3600.0),
            "dr_events": len(self.operator.events),
            "delays": int(len(rebuilt.delays)),
            "delay_min": int(rebuilt.delays.delay_min.sum()) if len(rebuilt.delays) else 0,
            "shifted_kwh": float(rebuilt.delays.shifted_wh.sum()) / 1000 if len(rebuilt.delays) else 0.0,
            "reports_refused": len(self.refused),
            "refused_reasons": sorted({r["reason"] for r in self.refused}),
            "limit_violations_in_ledger": len(rebuilt.violations),
            "late_jobs": len(f.deferrable.late_jobs()),
            "price_shifted_jobs": len(self.price_shifts),
            "price_shifted_kwh": float(sum(r["energy_kwh"] for r in self.price_shifts)),
            "price_shift_delay_min": int(sum(r["delay_min"] for r in self.price_shifts)),
            "price_shifts": self.price_shifts,
            "jobs": len(f.deferrable.jobs),
            "temperature_band_violations": int(((t.temp_max_c > t.t_max_c + 1e-9)
                                                | (t.temp_min_c < t.t_min_c - 1e-9)).sum()),
            "jain_index_delay_min": table.attrs["jain_delay_min"],
            "jain_index_delay_min_per_kwh_offered": table.attrs["jain_per_kwh_offered"],
            **({"openadr": self._openadr_summary(rebuilt.delays)} if self.openadr is not None else {}),
            **({"hil_outlets": {"relays": {self.outlets[n].name: rec for n, rec in self.relays.items()},
                                "delays_cut": self.relay_cuts}} if self.relays else {}),
            "tokens_total": self.final.get("totals", {}).get("total_supply", 0) / FLEX_UNITS_PER_TOKEN,
            "on_chain": on_chain_units(self.final, self.customer_ids),
        }

    def _openadr_summary(self, chain_delays: pd.DataFrame) -> dict:
        from sim.capabilities.dsr.openadr_events import reconcile

        names = {o.address: o.name for o in self.outlets}
        opts = [e["opt"] for e in self.oadr_events]
        return {"vtn": self.spec.openadr.vtn, "events_published": len(self.oadr_events),
                "opt_in": opts.count("optIn"), "opt_out": opts.count("optOut"),
                **reconcile(self._oadr_received, chain_delays, names)}

    def timeseries(self) -> pd.DataFrame:
        t_utc = self.ctx.inputs.times.tz_convert("UTC")
        return pd.concat([pd.DataFrame({"time": t_utc, "entity": "dsr", "quantity": q, "value": self.series[q],
                                        "unit": unit}) for q, unit in SERIES.items()]
                         + [pd.DataFrame({"time": t_utc, "entity": self.relays[n]["entity"], "quantity": "p_kw",
                                          "value": kw, "unit": "kW"}) for n, kw in self.relay_kw.items()],
                         ignore_index=True)
