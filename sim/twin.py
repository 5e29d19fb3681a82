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

import gc
from collections import defaultdict
from pathlib import Path

import mesa
import numpy as np

from agents.prosumer import Prosumer, ProsumerFleet
from contracts.backends import make_chain
from contracts.eip712 import key_for
from grid_models.feeder import Feeder
from sim.bank import Bank
from sim.capabilities.base import Capability, load
from sim.context import CapabilityContext, Clock, Community
from sim.hil.pacing import PacedEnvironment, make_environment
from sim.inputs import compute_inputs, prosumer_params
from sim.measurement.layer import MeasurementLayer
from sim.measurement.meters import VirtualMeter
from sim.phase_timer import PhaseTimer
from sim.recorder import Recorder
from sim.registry import REGISTRY
from sim.results.spill import SpillDir
from sim.scenario import Scenario

SETTLEMENT_DELAY_S = 1
GENESIS_BEFORE_START_S = 86_400
RNG_STREAMS = {"weather": 0, "loads": 1, "meters": 2, "agents": 3}  # the kernel's; capabilities register theirs
# (sim.registry.REGISTRY): each stream is the run seed's child of that index, fixed forever


def seeded_streams(seed: int, streams: dict[str, int]) -> dict[str, np.random.Generator]:
    """A generator per stream name: the ``index``-th child of the run's ``SeedSequence(seed)``."""
    return {name: np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
            for name, index in streams.items()}


class Twin(mesa.Model):
    def __init__(self, scenario: Scenario, progress=None, spill_dir: Path | None = None, archive=None):
        """``spill_dir``: where long logs go as the run makes them (``sim.results.spill``; a temporary folder if
        None); ``archive``: a ``contracts.archive.ChainRecorder`` recording the chain from genesis, or None."""
        self.rngs = seeded_streams(scenario.run.seed, RNG_STREAMS)
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
            spec = scenario.feeder
            self._phase("building feeder")
            self.feeder = (Feeder(spec.network, len(self.prosumer_ids), spec.solver, spec.transformer,
                                  spec.prosumer_loads) if spec else None)
            self._phase("weather")
            self.inputs = compute_inputs(
                scenario, n_households=self.feeder.n_households if self.feeder else 0,
                prosumer_pos=self.feeder.prosumer_pos if self.feeder else None,
                rng_weather=self.rngs["weather"], rng_loads=self.rngs["loads"],
                load_profiles=self.feeder.load_profiles if spec and spec.loads == "network" else None,
            )
        meters = [
            VirtualMeter(f"meter/{pid}", key_for(scenario.run.seed, f"meter/{pid}"), g.pv_kwp + g.battery_kw,
                         self.settlement_s)
            for pid, g in self.prosumer_groups
        ]
        self.hil = None
        if scenario.devices:  # real (or simulated) meters replace virtual ones before anything registers them
            from sim.hil.bridge import HilBridge

            self.hil = HilBridge(scenario.devices, seed=scenario.run.seed, settlement_s=self.settlement_s,
                                 duration_s=scenario.run.duration_s)
            meters = self.hil.replace_meters(meters, {pid: g.pv_kwp + g.battery_kw for pid, g in self.prosumer_groups})
        faults = scenario.meters
        self.measurement = MeasurementLayer(self.settlement_s, self.rngs["meters"], faults.drop_probability,
                                            faults.spike_probability, self.spill)
        for meter in meters:  # a capability that settles a prosumer's meter claims it (MeasurementLayer.log)
            self.measurement.add_meter(meter, claimed=False)
        self.prosumer_meters = meters

        self.recorder = Recorder(self.n_steps, self.prosumer_ids, has_feeder=self.feeder is not None)
        self._phase("deploying contracts")
        with self.timed("chain"):
            self.chain = make_chain(scenario.chain.backend, self.inputs.t0_s - GENESIS_BEFORE_START_S,
                                    seed=scenario.run.seed)
            self.chain.events.spill_to(self.spill)
            if archive is not None:
                self.chain.record_to(archive)
            self.bank = Bank(self.chain, scenario.run.seed)
            self.accounts = dict(zip(self.prosumer_ids,
                                     self.bank.open_accounts([f"prosumer/{pid}" for pid in self.prosumer_ids])))
            self.capabilities: list[Capability] = [load(info.capability)(self._context(info))
                                                   for info in REGISTRY if info.enabled(scenario)]
        self.prosumers = [
            Prosumer(self, name=pid, index=j, account=self.accounts[pid], pv_kw=self.inputs.pv_kw[:, j],
                     load_kw=self.inputs.household_load_kw[:, self.feeder.prosumer_pos[j]],
                     capacity_kwh=g.battery_kwh, p_max_kw=g.battery_kw,
                     declarations=self._declarations(pid))
            for j, (pid, g) in enumerate(self.prosumer_groups)
        ]
        self.fleet = ProsumerFleet(self.prosumers)

        self.env = make_environment(scenario.realtime)
        self.paced = isinstance(self.env, PacedEnvironment)
        self.env.process(self._step_process())
        self.env.process(self._settlement_process())
        if self.hil is not None:
            self.hil.start(self.env, {v.meter_id: v for v in self.measurement.vee}, self.capabilities, self.timed)
        self._finalised_through = -1

    # helpers -------------------------------------------------------------------------------------------
    def _phase(self, name: str) -> None:
        """Name the phase on the progress line (``sim.progress.Progress``), if there is one."""
        if self.progress is not None and hasattr(self.progress, "phase"):
            self.progress.phase(name)

    def timed(self, concern: str) -> PhaseTimer:
        """A context that adds the time spent inside to ``timers[concern]``; a nested concern pauses the
        enclosing one, so that no second is counted twice (a capability's physics set-up runs inside the chain
        set-up)."""
        timer = self._timers_by_concern.get(concern)
        if timer is None:
            timer = self._timers_by_concern[concern] = PhaseTimer(concern, self.timers, self._timing)
        return timer

    def _declarations(self, prosumer_id: str):
        """What a capability asks of the prosumer's battery (see ``Capability.declarations``), or None."""
        return next((d for c in self.capabilities if (d := c.declarations(prosumer_id)) is not None), None)

    def _price_signal(self, appliance: str):
        """The retail price the customers answer with ``appliance`` (see ``Capability.price_signal``), or None."""
        return next((s for c in self.capabilities if (s := c.price_signal(appliance)) is not None), None)

    def capability(self, name: str) -> Capability | None:
        return next((c for c in self.capabilities if c.name == name), None)

    def period_of_step(self, k: int) -> int:
        return k // self.steps_per_period

    def _context(self, info) -> CapabilityContext:
        """What the capability ``info`` sees of the run (its own RNG streams only)."""
        feeder = self.feeder
        return CapabilityContext(
            scenario=self.scenario,
            clock=Clock(self.step_s, self.settlement_s, self.n_steps, self.n_periods, lambda: self.env.now),
            inputs=self.inputs, chain=self.chain, bank=self.bank,
            community=Community(self.prosumer_ids, self.prosumer_groups, self.accounts, self.prosumer_meters,
                                feeder.prosumer_pos if feeder else None, feeder.n_households if feeder else 0),
            measurement=self.measurement, rngs=seeded_streams(self.scenario.run.seed, info.rng_streams),
            timed=self.timed, model=self, hil=self.hil, feeder_results=self.recorder,
            price_signals=self._price_signal,
        )

    # processes -----------------------------------------------------------------------------------------
    def _hooked(self, hook: str) -> list:
        """The bound ``hook`` of each capability that has one of its own, in order (the base's are no-ops)."""
        return [getattr(c, hook) for c in self.capabilities if getattr(type(c), hook) is not getattr(Capability, hook)]

    def _step_process(self):
        inputs, feeder, rec = self.inputs, self.feeder, self.recorder
        battery_kw = np.zeros(len(self.prosumers))
        order = list(range(len(self.prosumers)))
        n_prosumer_meters = len(self.prosumers) if feeder is not None else 0
        prosumer_meters = self.measurement.record_in_arrays(n_prosumer_meters)
        reads_physics = np.array([m.source == "virtual" for m in self.prosumer_meters[:n_prosumer_meters]],
                                 dtype=bool)
        agents_timer, physics_timer, measurement_timer = (self.timed(c) for c in ("agents", "physics", "measurement"))
        decide, extra_load_kw, solve, measure = (self._hooked(h)
                                                 for h in ("decide", "extra_load_kw", "solve", "measure"))
        steps_per_period = self.steps_per_period
        for k in range(self.n_steps):
            self.k = k
            with agents_timer:
                # Prosumers decide independently of each other, so their activation order changes nothing: the
                # fleet runs Prosumer.step's rule for all at once; the shuffle keeps the agents' RNG stream.
                self.random.shuffle(order)
                battery_kw[:] = self.fleet.step(self)
                for cap_decide in decide:
                    cap_decide(k)
            flow = None
            if feeder is not None:
                load_kw = inputs.household_load_kw[k]
                for cap_extra_load_kw in extra_load_kw:
                    extra = cap_extra_load_kw(k)
                    if extra is not None:
                        load_kw = load_kw + extra
                pv_kw, bat_kw = inputs.pv_kw[k], battery_kw
                if self.hil is not None:  # a device meter's measured power in place of its prosumer's (sim.hil.bridge)
                    load_kw, pv_kw, bat_kw = self.hil.inject(self.env.now, feeder.prosumer_pos, load_kw, pv_kw, bat_kw)
                with physics_timer:
                    feeder.set_injections(load_kw, pv_kw, bat_kw)
                    flow = feeder.solve()
                    export_kw = feeder.prosumer_net_export_kw()
                with measurement_timer:
                    prosumer_meters.record(export_kw[reads_physics], self.step_s)  # a HIL meter reads its device
                    rec.record_step(k, flow, pv_kw, load_kw[feeder.prosumer_pos],
                                    bat_kw, self.fleet.soc_kwh, export_kw)
            with physics_timer:
                for cap_solve in solve:
                    cap_solve(k)
            with measurement_timer:
                for cap_measure in measure:
                    cap_measure(k, flow)
                if (k + 1) % steps_per_period == 0:
                    self.measurement.close_period(self.period_of_step(k))
            if self.progress is not None:
                self.progress.update(1)
            if self.paced:
                self.env.step_finished(self.env.now)
            yield self.env.timeout(self.step_s)

    def _settlement_process(self):
        yield self.env.timeout(self.settlement_s + SETTLEMENT_DELAY_S)
        for closed in range(self.n_periods):
            self.settle_through(closed - self.measurement.lag_periods)
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
            validated = self.measurement.finalise_through(last_period)
        with self.timed("chain"):
            self.chain.set_time(self.inputs.t0_s + int(self.env.now))
            for cap in self.capabilities:
                cap.settle(validated, last_period)
        self._finalised_through = last_period

    def run(self) -> None:
        """``_run``, then ``close``, even when the run fails."""
        try:
            self._run()
        finally:
            self.close()

    def close(self) -> None:
        """Every capability's ``close()``: the threads, servers and sockets a capability holds released."""
        for cap in self.capabilities:
            cap.close()

    def _run(self) -> None:
        """Run the clock over the horizon, then settle what VEE held back. A paced clock starts now; HIL
        relays go to their safe state and every device connection is closed, even when the run fails."""
        self._phase("clock")
        # The set-up's objects (networks, weather frames, compiled contracts, imported modules) live as long as the
        # run: frozen, the collector's full collections no longer walk them (0.2 s CPU of a community day's 2.8 s)
        gc.freeze()
        try:
            if self.paced:
                self.env.sync()
            self.env.run(until=self.n_steps * self.step_s + SETTLEMENT_DELAY_S)
        finally:
            gc.unfreeze()
            if self.hil is not None:
                self.hil.close(self.env.now)
        if self.hil is not None and self.scenario.hil.require_devices:
            self.hil.require_answers()
        self.settle_rest()

    def settle_rest(self) -> None:
        """After the clock: settle what VEE held back, and let every capability finish."""
        self.settle_through(self.n_periods - 1)
        for cap in self.capabilities:
            cap.finish()

    # an external driver (sim/cosim: gridledger as a mosaik simulator) ----------------------------------------
    @property
    def settled_through(self) -> int:
        """The last period VEE finalised and the capabilities settled (-1: none yet)."""
        return self._finalised_through

    def feed_step_kw(self, k: int, *, pv_kw: dict[int, float], load_kw: dict[int, float]) -> None:
        """Replace step ``k``'s PV output and household load of prosumers (by their index) [kW] before the step
        runs: measured power an external simulator gives step by step. ValueError for a step already run."""
        if k < 0 or k >= self.n_steps or (self.env.now > k * self.step_s):
            raise ValueError(f"step {k} cannot be fed: the clock is at {self.env.now:g} s, the run has "
                             f"{self.n_steps} steps of {self.step_s} s")
        for j, kw in pv_kw.items():
            self.inputs.pv_kw[k, j] = self.fleet.pv_kw[k, j] = kw
        for j, kw in load_kw.items():
            self.inputs.household_load_kw[k, self.feeder.prosumer_pos[j]] = self.fleet.load_kw[k, j] = kw
