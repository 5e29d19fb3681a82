"""The HIL bridge: the scenario's ``[[devices]]`` mapped onto twin entities, polled by simpy processes.

Design: each device is polled by its own simpy process every ``poll_s`` simulated seconds, with pymodbus's
*synchronous* client and a short timeout (``timeout_s``, wall seconds), inside the (real-time paced) simpy
clock. No thread: a reading belongs to exactly one instant of simulated time, meters close their periods at
the exact boundary, and a relay's command is computed from the same state the twin's step sees. The cost is
that a silent device blocks the clock for at most ``timeout_s`` per request (then the link backs off); the
pacing environment counts that as a missed deadline if it pushes an event past its slack, and reports it.
A device speaks Modbus TCP (``sim.hil.link``) or MQTT (``sim.hil.mqtt_link``): same interface, same rules.

Devices in the physics: a meter with ``inject = true`` stands in the power flow for its prosumer (``inject``):
its latest measured power, if fresh (read within ``STALE_POLLS`` polls), replaces the prosumer's modelled net
injection (PV, household load and battery) at its bus, so the feeder, what the capabilities decide from the power
flow and the settled readings all see the same device. Without a fresh reading the model's injection stays
(counted: ``injection_fallback_steps``).
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd

from contracts.eip712 import key_for
from sim.hil.actuator import Actuator, CommandSource
from sim.hil.link import ModbusLink
from sim.hil.meter import STALE_POLLS, HilMeter
from sim.hil.mqtt_link import FAULT_KINDS
from sim.hil.pacing import PacedEnvironment
from sim.hil.table import DeviceSpec


def link_for(spec: DeviceSpec) -> ModbusLink:
    """The device's link: plain Modbus registers, SunSpec models found by a scan, or an MQTT broker's topics."""
    if spec.protocol == "mqtt":
        from sim.hil.mqtt_link import MqttLink

        return MqttLink(spec)
    if spec.protocol == "sunspec":
        from sim.hil.sunspec_link import SunSpecLink

        return SunSpecLink(spec)
    return ModbusLink(spec)


class HilBridge:
    def __init__(self, devices: list[DeviceSpec], *, seed: int, settlement_s: int, duration_s: int):
        self.devices = devices
        self.seed, self.settlement_s, self.duration_s = seed, settlement_s, duration_s
        self.links = {d.name: link_for(d) for d in devices}
        self.meters: dict[str, HilMeter] = {}
        self.actuators = {d.name: Actuator(d, self.links[d.name]) for d in devices if d.kind != "meter"}
        self._sources: dict[str, CommandSource] = {}
        self.closed = False
        self.injected: dict[str, int] = {}  # meter device -> index of the prosumer it stands in for
        self.injections: list[tuple[float, str, float]] = []  # (t_s, device, export power injected [kW] or nan)
        self.injection_fallback_steps: Counter[str] = Counter()

    # wiring ---------------------------------------------------------------------------------------------
    def replace_meters(self, meters: list, rated_kw: dict[str, float]) -> list:
        """The twin's meters with each ``meter/<prosumer>`` named by a meter device replaced by that device."""
        out = list(meters)
        for d in self.devices:
            if d.kind != "meter":
                continue
            j = next(i for i, m in enumerate(out) if m.meter_id == d.entity)
            pid = d.entity.removeprefix("meter/")
            self.meters[d.name] = out[j] = HilMeter(d, key_for(self.seed, f"hil/{d.name}"), rated_kw[pid],
                                                    self.settlement_s, self.links[d.name])
            if d.inject:
                self.injected[d.name] = j
        return out

    def device_power_kw(self, name: str, t_s: float) -> float | None:
        """The meter device's latest measured export power [kW] if read at most ``STALE_POLLS`` polls before
        ``t_s`` (simulated s), else None."""
        meter = self.meters[name]
        for t, _, p_w in reversed(meter.samples):
            if t_s - t > STALE_POLLS * meter.spec.poll_s + 1e-9:
                return None
            if t <= t_s and not math.isnan(p_w):
                return p_w / 1000.0
        return None

    def inject(self, t_s: float, prosumer_pos, load_kw, pv_kw, battery_kw):
        """``(load_kw, pv_kw, battery_kw)`` for the power flow at ``t_s`` with each injecting meter's measured
        export power in place of its prosumer's modelled net injection: PV = max(P, 0), household load =
        max(-P, 0), battery 0 at that prosumer [kW] (copies; the arguments are not changed)."""
        if not self.injected:
            return load_kw, pv_kw, battery_kw
        load_kw, pv_kw, battery_kw = (np.array(a, dtype=float) for a in (load_kw, pv_kw, battery_kw))
        for name, j in self.injected.items():
            p_kw = self.device_power_kw(name, t_s)
            self.injections.append((t_s, name, math.nan if p_kw is None else p_kw))
            if p_kw is None:
                self.injection_fallback_steps[name] += 1
                continue
            pv_kw[j], load_kw[prosumer_pos[j]], battery_kw[j] = max(p_kw, 0.0), max(-p_kw, 0.0), 0.0
        return load_kw, pv_kw, battery_kw

    def drive(self, entity: str, source: CommandSource) -> None:
        """Set the command source of every relay or set-point bound to ``entity`` (overrides capabilities)."""
        self._sources[entity] = source

    def reported(self, entity: str) -> tuple[float, int] | None:
        """The last reported state of the relay or set-point on ``entity``: (value, quality), quality 0 when
        confirmed by a read-back within two polls, 1 when the safe state is assumed; None before any poll.
        For a capability that should act (e.g. log a delay on chain) only once a switch is confirmed."""
        act = next((a for a in self.actuators.values() if a.entity == entity), None)
        if act is None or not act.samples:
            return None
        _, _, value, quality = act.samples[-1]
        return value, quality

    def read_back_throughout(self, entity: str, t0_s: float, t1_s: float, value: float) -> bool:
        """Whether the relay or set-point on ``entity`` was polled in ``[t0_s, t1_s)`` (simulated s) and every
        one of those polls read it back at ``value`` (a relay: 0.0 off, 1.0 on). For a capability that claims
        something on chain only for what the device confirmed, e.g. a delay minute
        (``sim.capabilities.dsr.capability``)."""
        act = next((a for a in self.actuators.values() if a.entity == entity), None)
        return act is not None and act.read_back_throughout(t0_s, t1_s, value)

    def bind(self, capabilities) -> None:
        """Give every actuator its command source: one set by ``drive``, else the first capability whose
        ``command_source(entity)`` answers. An actuator nobody drives is an error, not a silent relay."""
        for name, act in self.actuators.items():
            source = self._sources.get(act.entity)
            for cap in capabilities:
                if source is None:
                    source = cap.command_source(act.entity)
            if source is None:
                names = [c.name for c in capabilities] or ["none"]
                raise ValueError(
                    f"devices: {name!r} ({act.spec.kind}): nothing drives entity {act.entity!r}; enabled "
                    f"capabilities ({', '.join(names)}) answer for e.g. 'prosumer/<member id>/battery' (vpp), "
                    "'outlet/<prosumer id>/<appliance>' (dsr)")
            act.command = source

    def start(self, env, vee_of: dict, capabilities, timers) -> None:
        """Bind command sources and start one polling process per device on ``env``."""
        self.bind(capabilities)
        for d in self.devices:
            if d.kind == "meter":
                m = self.meters[d.name]
                env.process(self._meter_process(env, m, vee_of[m.meter_id], timers))
            else:
                env.process(self._actuator_process(env, self.actuators[d.name], timers))

    # processes ------------------------------------------------------------------------------------------
    def _meter_process(self, env, meter: HilMeter, vee, timers):
        per_period = round(self.settlement_s / meter.spec.poll_s)
        n_polls = round(self.duration_s / meter.spec.poll_s)
        for i in range(n_polls + 1):
            t = i * meter.spec.poll_s
            if t > env.now:
                yield env.timeout(t - env.now)
            with timers("hil"):
                meter.poll(env.now)
                if i % per_period == 0:
                    b = i // per_period
                    raw = meter.boundary(b, env.now)
                    if (register_wh := meter.boundary_wh[b]) is not None:
                        vee.register_read(b, register_wh)  # also where the period is a gap: VEE shares the gap
                    if raw is not None:
                        vee.receive(raw)

    def _actuator_process(self, env, act: Actuator, timers):
        n_polls = math.floor(self.duration_s / act.spec.poll_s)
        for i in range(n_polls + 1):
            t = i * act.spec.poll_s
            if t > env.now:
                yield env.timeout(t - env.now)
            with timers("hil"):
                act.poll(env.now)

    def close(self, t_s: float) -> None:
        """Relays and set-points to their safe state, then every connection closed (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            for act in self.actuators.values():
                act.shutdown(t_s)
        finally:
            for link in self.links.values():
                link.close()

    # results --------------------------------------------------------------------------------------------
    def silent(self) -> list[str]:
        """Devices that never answered a request in the run (nothing listened, or nothing replied)."""
        return [name for name, link in self.links.items() if not link.answered]

    def estimated_silent(self) -> dict[str, int]:
        """Per meter device: the settlement periods VEE estimated because the device gave no fresh reading."""
        return {name: len(m.gaps) for name, m in self.meters.items() if m.gaps}

    def require_answers(self) -> None:
        """Raise ``DevicesSilent`` naming every device that never answered (``[hil] require_devices``)."""
        if names := self.silent():
            from sim.errors import DevicesSilent

            where = ", ".join(f"{n} at {d.host}:{d.port} unit {d.unit_id}" for d in self.devices if (n := d.name)
                              in names)
            raise DevicesSilent(names, f"device(s) never answered: {where}; is the device (or `gridledger devices "
                                       "simulate`) running there? ([hil] require_devices = false runs on with "
                                       "estimated readings)")

    def report(self) -> dict:
        devices, faults, polls = {}, Counter(), 0
        for d in self.devices:
            part = (self.meters.get(d.name) or self.actuators[d.name]).report()
            link = self.links[d.name].report()
            where = f"{d.host}:{d.port}/{d.unit_id}" if d.mqtt is None else f"mqtt://{d.host}:{d.port}"
            devices[d.name] = {**part, "endpoint": where, "link": link}
            if d.name in self.injected:
                devices[d.name]["injected_steps"] = sum(1 for _, n, p in self.injections if n == d.name
                                                         and not math.isnan(p))
                devices[d.name]["injection_fallback_steps"] = self.injection_fallback_steps[d.name]
            faults.update(link["faults"])
            polls += part["polls"]
        return {"devices": devices, "polls": polls, "silent_devices": self.silent(),
                "periods_estimated_device_silent": self.estimated_silent(),
                "faults": {k: faults[k] for k in FAULT_KINDS if k in faults or k != "late_state"},
                "faults_total": sum(faults.values()),
                "reconnects": sum(link.reconnects for link in self.links.values())}

    def timeseries(self, t0_s: int) -> pd.DataFrame | None:
        """Tidy rows per poll: a meter's register (NaN when the poll failed) and power; an actuator's wanted
        and reported value and the report's quality (0 confirmed by read-back, 1 safe state assumed)."""
        rows = []
        for name, m in self.meters.items():
            with_power = m.spec.register("power") is not None
            for t, e, p in m.samples:
                rows.append((t, name, "energy_register_wh", e, "Wh"))
                if with_power:
                    rows.append((t, name, "power_w", p, "W"))
        for name, a in self.actuators.items():
            for t, wanted, reported, q in a.samples:
                rows += [(t, name, "wanted", wanted, "1"), (t, name, "reported", reported, "1"),
                         (t, name, "reported_quality", float(q), "1")]
        rows += [(t, name, "injected_kw", p, "kW") for t, name, p in self.injections]
        if not rows:
            return None
        df = pd.DataFrame(rows, columns=["t_s", "entity", "quantity", "value", "unit"])
        df.insert(0, "time", pd.to_datetime(t0_s + df.pop("t_s"), unit="s", utc=True))
        return df


def hil_summary(twin) -> dict | None:
    """The summary's ``hil`` section: pacing (deadlines, step latency) and, with devices, polls and faults."""
    env, bridge = twin.env, twin.hil
    if not isinstance(env, PacedEnvironment) and bridge is None:
        return None
    out = {"realtime": env.report() if isinstance(env, PacedEnvironment) else None}
    if isinstance(env, PacedEnvironment):
        out["deadlines_missed"] = env.deadlines_missed
        out["step_latency_s"] = env.report()["step_latency_s"]
    out.update(bridge.report() if bridge is not None else {"devices": {}, "polls": 0, "faults": {}})
    return out
