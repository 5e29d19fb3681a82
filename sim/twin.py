"""The Twin: a Mesa model holding the actors, driven by one simpy clock (seconds from ``run.start``).

Before the clock starts, everything no decision changes is computed once (``sim.inputs``). Step process,
every ``step_s``: prosumers decide their battery power, capabilities' agents act, injections go into the feeder
in one vectorised assignment, one AC power flow, capabilities with physics of their own solve it (the heat
network's pipe flow), meters read the results and close their readings at period ends (HIL meters are closed by
the bridge's polling processes at the exact boundary instead). Settlement process, one second after each period
closes: VEE finalises the periods it can (it holds
them back ``lag`` periods so short gaps can be interpolated) and hands the validated readings to each
capability, which signs, posts and settles them on chain.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import mesa
import numpy as np

from agents.prosumer import Prosumer, ProsumerFleet
from contracts.backends import make_chain
from contracts.eip712 import key_for
from grid_models.feeder import Feeder
from sim.bank import Bank
from sim.capabilities.base import Capability, enabled
from sim.hil.pacing import PacedEnvironment, make_environment
from sim.inputs import compute_inputs, prosumer_params
from sim.measurement.meters import MeterGroup, VirtualMeter, fault_draws, fault_masks, spiked
from sim.phase_timer import PhaseTimer
from sim.recorder import Recorder
from sim.scenario import Scenario
from sim.results.spill import SpillDir
from sim.measurement.vee import MeterVee

SETTLEMENT_DELAY_S = 1
GENESIS_BEFORE_START_S = 86_400
RNG_STREAMS = ("weather", "loads", "meters", "agents", "certificates", "insurance", "heat",
               "insurance_pricing")  # append only: earlier streams keep their seeds


class Twin(mesa.Model):
    def __init__(self, scenario: Scenario, progress=None, spill_dir: Path | None = None):
        """``spill_dir``: where long logs go as the run makes them (``sim.results.spill``; a temporary folder if None)."""
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
        self._timers_by_concern: dict[str, PhaseTimer] = {}
        self.progress = progress
        self.k = 0
        self.spill = SpillDir(spill_dir)

        self.prosumer_groups = prosumer_params(scenario)
        self.prosumer_ids = [pid for pid, _ in self.prosumer_groups]
        with self.timed("physics"):
            self.feeder = (Feeder(scenario.feeder.network, len(self.prosumer_ids), scenario.feeder.solver,
                                  scenario.feeder.transformer) if scenario.feeder else None)
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
        self.hil = None
        if scenario.devices:  # real (or simulated) meters replace virtual ones before anything registers them
            from sim.hil.bridge import HilBridge

            self.hil = HilBridge(scenario.devices, seed=scenario.run.seed, settlement_s=self.settlement_s,
                                 duration_s=scenario.run.duration_s)
            self.meters = self.hil.replace_meters(self.meters, {pid: g.pv_kwp + g.battery_kw
                                                                for pid, g in self.prosumer_groups})
        self.vee = [MeterVee(m.meter_id, m.max_wh_per_period, self.settlement_s) for m in self.meters]

        with self.timed("chain"):
            self.chain = make_chain(scenario.chain.backend, self.inputs.t0_s - GENESIS_BEFORE_START_S,
                                    seed=scenario.run.seed)
            self.chain.events.spill_to(self.spill)
            self.bank = Bank(self.chain, scenario.run.seed)
            self.accounts = dict(zip(self.prosumer_ids,
                                     self.bank.open_accounts([f"prosumer/{pid}" for pid in self.prosumer_ids])))
            self.capabilities: list[Capability] = [cls(self) for cls in enabled(scenario)]
        vpp = self.capability("vpp")
        self.prosumers = [
            Prosumer(self, name=pid, index=j, account=self.accounts[pid], pv_kw=self.inputs.pv_kw[:, j],
                     load_kw=self.inputs.household_load_kw[:, self.feeder.prosumer_pos[j]],
                     capacity_kwh=g.battery_kwh, p_max_kw=g.battery_kw,
                     declarations=vpp.declarations(pid) if vpp else None)
            for j, (pid, g) in enumerate(self.prosumer_groups)
        ]
        self.fleet = ProsumerFleet(self.prosumers)
        self.recorder = Recorder(self.n_steps, self.prosumer_ids, has_feeder=self.feeder is not None)

        self.env = make_environment(scenario.realtime)
        self.paced = isinstance(self.env, PacedEnvironment)
        self.env.process(self._step_process())
        self.env.process(self._settlement_process())
        if self.hil is not None:
            self.hil.start(self.env, {v.meter_id: v for v in self.vee}, self.capabilities, self.timed)
        self._finalised_through = -1

    # helpers -------------------------------------------------------------------------------------------
    def timed(self, concern: str) -> PhaseTimer:
        """A context that adds the time spent inside to ``timers[concern]``; a nested concern pauses the
        enclosing one, so that no second is counted twice (a capability's physics set-up runs inside the chain
        set-up)."""
        timer = self._timers_by_concern.get(concern)
        if timer is None:
            timer = self._timers_by_concern[concern] = PhaseTimer(concern, self.timers, self._timing)
        return timer

    def capability(self, name: str) -> Capability | None:
        return next((c for c in self.capabilities if c.name == name), None)

    def period_of_step(self, k: int) -> int:
        return k // self.steps_per_period

    def add_meter(self, meter: VirtualMeter) -> MeterVee:
        """Join a capability's meter to the measurement layer: it is closed, fault-injected and VEE-validated
        with the prosumers' meters, and its validated readings reach ``settle``. The capability records it."""
        vee = MeterVee(meter.meter_id, meter.max_wh_per_period, self.settlement_s)
        self.meters.append(meter)
        self.vee.append(vee)
        return vee

    @property
    def vee_lag_periods(self) -> int:
        """Periods settlement waits behind the clock: the largest lag of any VEE, the Twin's or a capability's."""
        return max([v.lag_periods for v in self.vee] + [c.vee_lag_periods for c in self.capabilities], default=0)

    # processes -----------------------------------------------------------------------------------------
    def _step_process(self):
        inputs, feeder, rec = self.inputs, self.feeder, self.recorder
        battery_kw = np.zeros(len(self.prosumers))
        order = list(range(len(self.prosumers)))
        n_prosumer_meters = len(self.prosumers) if feeder is not None else 0
        prosumer_meters = MeterGroup([m for m in self.meters[:n_prosumer_meters] if m.source == "virtual"])
        reads_physics = np.array([m.source == "virtual" for m in self.meters[:n_prosumer_meters]], dtype=bool)
        for k in range(self.n_steps):
            self.k = k
            with self.timed("agents"):
                # Prosumers decide independently of each other, so their activation order changes nothing: the
                # fleet runs Prosumer.step's rule for all at once; the shuffle keeps the agents' RNG stream.
                self.random.shuffle(order)
                battery_kw[:] = self.fleet.step(self)
                for cap in self.capabilities:
                    cap.decide(k)
            flow = None
            if feeder is not None:
                load_kw = inputs.household_load_kw[k]
                for cap in self.capabilities:
                    extra = cap.extra_load_kw(k)
                    if extra is not None:
                        load_kw = load_kw + extra
                with self.timed("physics"):
                    feeder.set_injections(load_kw, inputs.pv_kw[k], battery_kw)
                    flow = feeder.solve()
                    export_kw = feeder.prosumer_net_export_kw()
                with self.timed("measurement"):
                    prosumer_meters.record(export_kw[reads_physics], self.step_s)  # a HIL meter reads its device
                    rec.record_step(k, flow, inputs.pv_kw[k], load_kw[feeder.prosumer_pos],
                                    battery_kw, self.fleet.soc_kwh, export_kw)
            with self.timed("physics"):
                for cap in self.capabilities:
                    cap.solve(k)
            with self.timed("measurement"):
                for cap in self.capabilities:
                    cap.measure(k, flow)
                if (k + 1) % self.steps_per_period == 0:
                    self._close_period(self.period_of_step(k), prosumer_meters)
            if self.progress is not None:
                self.progress.update(1)
            if self.paced:
                self.env.step_finished(self.env.now)
            yield self.env.timeout(self.step_s)

    def _close_period(self, period: int, prosumer_meters: MeterGroup) -> None:
        """Close every virtual meter's reading of ``period``, inject the scenario's faults (a pair of seeded
        draws per reading, in meter order) and hand the readings to VEE. HIL meters are closed by the bridge."""
        closed = iter(prosumer_meters.close_period(period))
        grouped = set(map(id, prosumer_meters.meters))
        pairs = [(next(closed) if id(meter) in grouped else meter.close_period(period), vee)
                 for meter, vee in zip(self.meters, self.vee) if meter.source == "virtual"]
        faults = self.scenario.meters
        dropped, spikes = fault_masks(fault_draws(self.rngs["meters"], len(pairs)), faults.drop_probability,
                                      faults.spike_probability)
        for (raw, vee), drop, spike in zip(pairs, dropped, spikes):
            if not drop:
                vee.receive(spiked(raw) if spike else raw)

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
        """Run the clock over the horizon, then settle what VEE held back. A paced clock starts now; HIL
        relays go to their safe state and every device connection is closed, even when the run fails."""
        try:
            if self.paced:
                self.env.sync()
            self.env.run(until=self.n_steps * self.step_s + SETTLEMENT_DELAY_S)
        finally:
            if self.hil is not None:
                self.hil.close(self.env.now)
        self.settle_through(self.n_periods - 1)
        for cap in self.capabilities:
            cap.finish()
