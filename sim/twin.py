"""The Twin: a Mesa model holding the actors, driven by one simpy clock (seconds from ``run.start``).

Before the clock starts, everything no decision changes is computed once (``sim.inputs``). Step process,
every ``step_s``: prosumers decide their battery power, capabilities' agents act, injections go into the feeder
in one vectorised assignment, one AC power flow, capabilities with physics of their own solve it (the heat
network's pipe flow), meters read the results and close their readings at period ends. Settlement process, one second after each period closes: VEE finalises the periods it can (it holds
them back ``lag`` periods so short gaps can be interpolated) and hands the validated readings to each
capability, which signs, posts and settles them on chain.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager

import mesa
from mesa.agent import AgentSet
import numpy as np
import simpy

from agents.prosumer import Prosumer
from contracts.chain import Chain
from contracts.eip712 import key_for
from grid_models.feeder import Feeder
from sim.bank import Bank
from sim.capabilities import Capability, enabled
from sim.inputs import compute_inputs, prosumer_params
from sim.meters import VirtualMeter, corrupt
from sim.recorder import Recorder
from sim.scenario import Scenario
from sim.vee import MeterVee

SETTLEMENT_DELAY_S = 1
GENESIS_BEFORE_START_S = 86_400
RNG_STREAMS = ("weather", "loads", "meters", "agents", "heat")  # appended streams leave the earlier ones unchanged


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
        self._timing: list[tuple[str, float]] = []
        self.progress = progress
        self.k = 0

        self.prosumer_groups = prosumer_params(scenario)
        self.prosumer_ids = [pid for pid, _ in self.prosumer_groups]
        with self.timed("physics"):
            self.feeder = (Feeder(scenario.feeder.network, len(self.prosumer_ids), scenario.feeder.solver)
                           if scenario.feeder else None)
            self.inputs = compute_inputs(
                scenario, n_households=self.feeder.n_households if self.feeder else 0,
                prosumer_pos=self.feeder.prosumer_pos if self.feeder else None,
                rng_weather=self.rngs["weather"], rng_loads=self.rngs["loads"],
            )
        self.meters = [
            VirtualMeter(f"meter/{pid}", key_for(scenario.run.seed, f"meter/{pid}"), g.pv_kwp + g.battery_kw,
                         self.settlement_s)
            for pid, g in self.prosumer_groups
        ]
        self.vee = [MeterVee(m.meter_id, m.max_wh_per_period, self.settlement_s) for m in self.meters]

        with self.timed("chain"):
            self.chain = Chain(genesis_timestamp=self.inputs.t0_s - GENESIS_BEFORE_START_S, seed=scenario.run.seed)
            self.bank = Bank(self.chain, scenario.run.seed)
            self.accounts = {pid: self.bank.open_account(f"prosumer/{pid}") for pid in self.prosumer_ids}
            self.capabilities: list[Capability] = [cls(self) for cls in enabled(scenario)]
        self.vee_lag_periods = max([v.lag_periods for v in self.vee] + [c.vee_lag_periods for c in self.capabilities],
                                   default=0)
        declarations = self.capability("vpp").declarations() if self.capability("vpp") else None
        self.prosumers = [
            Prosumer(self, name=pid, index=j, account=self.accounts[pid], pv_kw=self.inputs.pv_kw[:, j],
                     load_kw=self.inputs.household_load_kw[:, self.feeder.prosumer_pos[j]],
                     capacity_kwh=g.battery_kwh, p_max_kw=g.battery_kw, declarations=declarations)
            for j, (pid, g) in enumerate(self.prosumer_groups)
        ]
        self.recorder = Recorder(self.n_steps, self.prosumer_ids, has_feeder=self.feeder is not None)

        self.env = simpy.Environment()
        self.env.process(self._step_process())
        self.env.process(self._settlement_process())
        self._finalised_through = -1

    # helpers -------------------------------------------------------------------------------------------
    @contextmanager
    def timed(self, concern: str):
        """Add the time spent inside to ``timers[concern]``; a nested concern pauses the enclosing one, so
        that no second is counted twice (a capability's physics set-up runs inside the chain set-up)."""
        now = time.perf_counter()
        if self._timing:
            outer, since = self._timing[-1]
            self.timers[outer] += now - since
        self._timing.append((concern, now))
        try:
            yield
        finally:
            end = time.perf_counter()
            _, since = self._timing.pop()
            self.timers[concern] += end - since
            if self._timing:
                self._timing[-1] = (self._timing[-1][0], end)

    def capability(self, name: str) -> Capability | None:
        return next((c for c in self.capabilities if c.name == name), None)

    def period_of_step(self, k: int) -> int:
        return k // self.steps_per_period

    # processes -----------------------------------------------------------------------------------------
    def _step_process(self):
        inputs, feeder, rec = self.inputs, self.feeder, self.recorder
        rng_meters, faults = self.rngs["meters"], self.scenario.meters
        battery_kw = np.zeros(len(self.prosumers))
        prosumers = AgentSet(self.prosumers, random=self.random)
        for k in range(self.n_steps):
            self.k = k
            with self.timed("agents"):
                prosumers.shuffle_do("step")
                for p in self.prosumers:
                    battery_kw[p.index] = p.battery_kw
                for cap in self.capabilities:
                    cap.decide(k)
            flow = None
            if feeder is not None:
                with self.timed("physics"):
                    feeder.set_injections(inputs.household_load_kw[k], inputs.pv_kw[k], battery_kw)
                    flow = feeder.solve()
                    export_kw = feeder.prosumer_net_export_kw()
                with self.timed("measurement"):
                    for meter, p_kw in zip(self.meters, export_kw):
                        meter.record(p_kw, self.step_s)
                    rec.record_step(k, flow, inputs.pv_kw[k], inputs.household_load_kw[k, feeder.prosumer_pos],
                                    battery_kw, [p.soc_kwh for p in self.prosumers], export_kw)
            with self.timed("physics"):
                for cap in self.capabilities:
                    cap.solve(k)
            with self.timed("measurement"):
                for cap in self.capabilities:
                    cap.measure(k, flow)
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
        for closed in range(self.n_periods):
            self.settle_through(closed - self.vee_lag_periods)
            with self.timed("chain"):
                for cap in self.capabilities:
                    cap.period_closed(closed)
            yield self.env.timeout(self.settlement_s)

    def settle_through(self, last_period: int) -> None:
        """VEE-finalise every meter up to ``last_period`` and let each capability settle those periods."""
        last_period = min(last_period, self.n_periods - 1)
        if last_period <= self._finalised_through:
            return
        with self.timed("measurement"):
            validated = {m.meter_id: v.finalise_through(last_period) for m, v in zip(self.meters, self.vee)}
        with self.timed("chain"):
            self.chain.set_time(self.inputs.t0_s + int(self.env.now))
            for cap in self.capabilities:
                cap.settle(validated, last_period)
        self._finalised_through = last_period

    def run(self) -> None:
        """Run the clock over the horizon, then settle what VEE held back."""
        self.env.run(until=self.n_steps * self.step_s + SETTLEMENT_DELAY_S)
        self.settle_through(self.n_periods - 1)
        for cap in self.capabilities:
            cap.finish()
