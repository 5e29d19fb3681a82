"""The Twin: a Mesa model holding the actors, driven by one simpy clock (seconds from ``run.start``).

Step process, every ``step_s``: prosumers decide their battery power (reading their declaration from the
chain), injections go into the feeder in one vectorised assignment, one AC power flow, meters read the
results. Settlement process, every ``settlement_s`` (one second after the period closes): VEE finalises the
periods it can, meters sign, readings go on chain in batches, the operator settles and declares ahead.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

import mesa
import numpy as np
import simpy

from agents.operators import VppOperator
from agents.prosumer import Prosumer
from contracts.chain import ChainRevert
from contracts.eip712 import key_for
from grid_models.feeder import Feeder
from sim.community import build_community
from sim.inputs import compute_inputs, prosumer_params
from sim.meters import VirtualMeter, corrupt
from sim.recorder import Recorder
from sim.scenario import Scenario
from sim.vee import MeterVee

SETTLEMENT_DELAY_S = 1
DECLARE_AHEAD_PERIODS = 2
RNG_STREAMS = ("weather", "loads", "meters", "agents")


class Twin(mesa.Model):
    def __init__(self, scenario: Scenario, progress=None):
        seeds = np.random.SeedSequence(scenario.run.seed).spawn(len(RNG_STREAMS))
        self.rngs = {name: np.random.default_rng(s) for name, s in zip(RNG_STREAMS, seeds)}
        super().__init__(rng=self.rngs["agents"])
        self.scenario = scenario
        self.step_s = scenario.run.step_s
        self.settlement_s = scenario.run.settlement_s
        self.n_steps = scenario.n_steps
        self.n_periods = scenario.n_periods
        self.steps_per_period = self.settlement_s // self.step_s
        self.timers: dict[str, float] = defaultdict(float)
        self.progress = progress
        self.k = 0

        with self.timed("physics"):
            groups = prosumer_params(scenario)
            self.feeder = Feeder(scenario.feeder.network, len(groups), scenario.feeder.solver)
            self.inputs = compute_inputs(
                scenario, n_households=self.feeder.n_households, prosumer_pos=self.feeder.prosumer_pos,
                rng_weather=self.rngs["weather"], rng_loads=self.rngs["loads"],
            )
        ids = [pid for pid, _ in groups]
        self.meters = [
            VirtualMeter(f"meter/{pid}", key_for(scenario.run.seed, f"meter/{pid}"), g.pv_kwp + g.battery_kw,
                         self.settlement_s)
            for pid, g in groups
        ]
        self.vee = [MeterVee(m.meter_id, m.max_wh_per_period, self.settlement_s) for m in self.meters]
        with self.timed("chain"):
            self.community = build_community(
                scenario, t0_s=self.inputs.t0_s,
                member_meters={pid: (m.address, m.max_wh_per_period) for pid, m in zip(ids, self.meters)},
                pv_kwp={pid: g.pv_kwp for pid, g in groups},
            )
        c = self.community
        self.prosumers = [
            Prosumer(self, name=pid, index=j, account=c.accounts[pid], pv_kw=self.inputs.pv_kw[:, j],
                     load_kw=self.inputs.household_load_kw[:, self.feeder.prosumer_pos[j]],
                     capacity_kwh=g.battery_kwh, p_max_kw=g.battery_kw, vpp=c.vpp)
            for j, (pid, g) in enumerate(groups)
        ]
        members = scenario.vpp_member_ids()
        self.member_cols = [ids.index(m) for m in members]
        weather = self.inputs.weather
        self.operator = VppOperator(
            self, account=c.operator, vpp=c.vpp,
            pv_clear_kw=self.inputs.pv_clear_kw[:, self.member_cols],
            expected_load_kw=self.inputs.expected_load_kw[:, self.member_cols],
            observed_kc=weather.clear_sky_index, ghi_clear=weather.ghi_clear,
            derate=scenario.vpp.forecast_derate, method=scenario.vpp.forecast,
            prior_kc=scenario.weather.mean_clear_sky_index,
        )
        self.recorder = Recorder(self.n_steps, ids)
        self.readings_log: list[dict] = []
        self.unsettled: dict[int, str] = {}
        self._settled_through = -1

        with self.timed("chain"):
            c.chain.set_time(self.inputs.t0_s - self.settlement_s)
            for p in range(DECLARE_AHEAD_PERIODS):
                self.operator.declare(p, now_step=0)

        self.env = simpy.Environment()
        self.env.process(self._step_process())
        self.env.process(self._settlement_process())

    # helpers -------------------------------------------------------------------------------------------
    @contextmanager
    def timed(self, concern: str):
        t = time.perf_counter()
        try:
            yield
        finally:
            self.timers[concern] += time.perf_counter() - t

    def period_of_step(self, k: int) -> int:
        return k // self.steps_per_period

    # processes -----------------------------------------------------------------------------------------
    def _step_process(self):
        inputs, feeder, rec = self.inputs, self.feeder, self.recorder
        rng_meters = self.rngs["meters"]
        faults = self.scenario.meters
        battery_kw = np.zeros(len(self.prosumers))
        for k in range(self.n_steps):
            self.k = k
            with self.timed("agents"):
                self.agents_by_type[Prosumer].shuffle_do("step")
                for p in self.prosumers:
                    battery_kw[p.index] = p.battery_kw
            with self.timed("physics"):
                feeder.set_injections(inputs.household_load_kw[k], inputs.pv_kw[k], battery_kw)
                flow = feeder.solve()
                export_kw = feeder.prosumer_net_export_kw()
            with self.timed("measurement"):
                for meter, p_kw in zip(self.meters, export_kw):
                    meter.record(p_kw, self.step_s)
                rec.record_step(k, flow, inputs.pv_kw[k], inputs.household_load_kw[k, feeder.prosumer_pos],
                                battery_kw, [p.soc_kwh for p in self.prosumers], export_kw)
                if (k + 1) % self.steps_per_period == 0:
                    period = self.period_of_step(k)
                    for meter, vee in zip(self.meters, self.vee):
                        raw = corrupt(meter.close_period(period), rng_meters, faults.drop_probability,
                                      faults.spike_probability)
                        if raw is not None:
                            vee.receive(raw)
            if self.progress is not None:
                self.progress.update(1)
            yield self.env.timeout(self.step_s)

    def _settlement_process(self):
        yield self.env.timeout(self.settlement_s + SETTLEMENT_DELAY_S)
        lag = self.vee[0].lag_periods if self.vee else 0
        for closed in range(self.n_periods):
            self.settle_through(closed - lag)
            with self.timed("chain"):
                self.operator.declare(closed + DECLARE_AHEAD_PERIODS, now_step=(closed + 1) * self.steps_per_period)
            yield self.env.timeout(self.settlement_s)

    # settlement ----------------------------------------------------------------------------------------
    def settle_through(self, last_period: int) -> None:
        """VEE-finalise, sign and post every member's reading up to ``last_period``, then settle those periods."""
        last_period = min(last_period, self.n_periods - 1)
        if last_period <= self._settled_through:
            return
        vpp = self.community.vpp
        with self.timed("measurement"):
            signed, rows = [], []
            for j in self.member_cols:
                meter, vee = self.meters[j], self.vee[j]
                for v in vee.finalise_through(last_period):
                    signed.append(meter.sign(vpp.domain_separator, v.period, v.energy_wh, v.quality))
                    rows.append({"meter": meter.meter_id, "period": v.period, "raw_wh": v.raw_wh,
                                 "energy_wh": v.energy_wh, "quality": v.quality, "rule": v.rule})
        with self.timed("chain"):
            self.community.chain.set_time(self.inputs.t0_s + int(self.env.now))
            refused = {(r.reading.meter, r.reading.period): r.reason
                       for r in vpp.submit_readings(signed, sender=self.community.operator)}
            for s, row in zip(signed, rows):
                reason = refused.get((s.meter, s.period))
                row["status"] = "refused" if reason else "accepted"
                row["reason"] = reason or ""
            self.readings_log.extend(rows)
            for period in range(self._settled_through + 1, last_period + 1):
                try:
                    self.operator.settle(period)
                except ChainRevert as exc:
                    self.unsettled[period] = exc.reason
        self._settled_through = last_period

    def run(self) -> None:
        """Run the clock over the horizon, then settle what VEE held back."""
        self.env.run(until=self.n_steps * self.step_s + SETTLEMENT_DELAY_S)
        self.settle_through(self.n_periods - 1)
