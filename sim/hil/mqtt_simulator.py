"""Simulated MQTT smart plugs (Tasmota-like) and the embedded broker they talk through, for tests and the demo.

Each MQTT device of a table becomes a paho client that answers the topics of its points
(``sim.hil.mqtt_table``): a query gets the point's value on its topic (a relay's state as its ``on``/``off``
payload, retained, as Tasmota's ``PowerRetain`` does; a meter's JSON with the value at ``field``); a command on
a relay's ``command_topic`` switches it and is answered with the new state. The devices' physics (a meter's
power profile and energy register, a relay's state, history and watchdog) is :class:`SimulatedDevice`'s, in
device seconds (wall seconds x ``time_factor``, or ``clock()``).

The broker: one :class:`EmbeddedBroker` on 127.0.0.1 per port of the table's MQTT devices (port 0: an ephemeral
port, ``ports[name]`` tells which). Faults (the table's ``[[faults]]``, timed from the first request, or
:meth:`MqttDeviceSimulator.inject`): ``restart`` stops the broker for ``duration_s`` device seconds (a broker
outage: every client is dropped and refused); ``drop`` the device ignores requests (lost messages); ``slow`` it
answers ``reply_delay_s`` wall seconds late (late state); ``garbage`` it answers with a payload that is no value;
``stuck`` it answers commands with its unchanged state (a plug in manual override).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable
from time import monotonic

from sim.hil.mqtt_broker import EmbeddedBroker
from sim.hil.mqtt_link import RECONNECT_MAX_S, RECONNECT_MIN_S
from sim.hil.simdevices import SimulatedDevice
from sim.hil.table import DeviceSpec, DeviceTable, FaultSpec, check_loopback

TICK_WALL_S = 0.02
log = logging.getLogger("sim.hil.simulator")
CONNECT_TIMEOUT_S = 5.0


def _payload(spec: DeviceSpec, dev: SimulatedDevice, topic: str, t_s: float) -> str:
    """What the device publishes on ``topic`` at device time ``t_s``: every point of that topic, in one payload."""
    points = [p for p in spec.mqtt.points if p.topic == topic]
    if len(points) == 1 and not points[0].field:
        p = points[0]
        if p.point == "state":
            return p.on if dev.value else p.off
        return f"{dev.point_value(p.point, t_s) / p.twin_factor:.6f}"
    doc: dict = {}
    for p in points:
        *path, leaf = p.field.split(".")
        node = doc
        for part in path:
            node = node.setdefault(part, {})
        value = dev.point_value(p.point, t_s) / p.twin_factor
        node[leaf] = (p.on if dev.value else p.off) if p.point == "state" else round(value, 6)
    return json.dumps(doc)


def split_by_protocol(table: DeviceTable) -> tuple[DeviceTable | None, DeviceTable | None]:
    """The table's Modbus devices and its MQTT devices as two tables (None for a protocol without devices); each
    keeps the faults that concern it."""

    def part(devices):
        if not devices:
            return None
        names = {d.name for d in devices}
        return table.model_copy(update={"devices": devices,
                                        "faults": [f for f in table.faults if f.device is None or f.device in names]})

    return (part([d for d in table.devices if d.protocol != "mqtt"]),
            part([d for d in table.devices if d.protocol == "mqtt"]))


class SimulatedPlug:
    """One device as an MQTT client of the broker."""

    def __init__(self, spec: DeviceSpec, port: int, owner: MqttDeviceSimulator):
        import paho.mqtt.client as mqtt

        self.spec, self.owner = spec, owner
        self.device = SimulatedDevice(spec)
        self.requests = 0
        self.published: list[tuple[float, str, str]] = []  # (device time, topic, payload) of every answer
        self.lock = threading.Lock()  # the device is touched by paho's thread and the simulator's ticker
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"simulated-{spec.name}")
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.connected.set()
        self.client.connect_async(spec.host, port, keepalive=spec.mqtt.keepalive_s)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        asked = sorted({p.query_topic for p in self.spec.mqtt.points}
                       | {p.command_topic for p in self.spec.mqtt.points if p.command_topic})
        client.subscribe([(t, self.spec.mqtt.qos) for t in asked])  # connected once acknowledged (on_subscribe)

    def watch(self, t_s: float) -> bool:
        """Apply the watchdog at the device time it expired (not when a tick or a request next looks): True when
        it has just put the device into its safe state."""
        dev = self.device
        if dev.watchdog_s and dev.last_request_s is not None:
            t_s = min(t_s, dev.last_request_s + dev.watchdog_s + 1e-6)
        return dev.tick(t_s)

    def _on_message(self, client, userdata, message) -> None:
        with self.lock:
            self._answer(client, message)

    def _answer(self, client, message) -> None:
        owner, dev = self.owner, self.device
        t_s = owner.now_s()
        self.watch(t_s)
        owner.first_request(t_s)
        fault = owner.fault_on(self.spec.name, t_s)
        self.requests += 1
        owner.stats["requests"] += 1
        if fault is not None and fault.kind == "drop":
            owner.stats["dropped"] += 1
            return
        dev.last_request_s = t_s
        text = message.payload.decode("utf-8", errors="replace").strip()
        answered = set()
        for p in self.spec.mqtt.points:
            if p.point == "state" and message.topic == p.command_topic and text in (p.on, p.off):
                if fault is None or fault.kind != "stuck":
                    dev._set(t_s, 1.0 if text == p.on else 0.0)
                answered.add(p.topic)
            elif message.topic == p.query_topic and text == p.query:
                answered.add(p.topic)
        for topic in sorted(answered):
            payload = "\x00garbage" if fault is not None and fault.kind == "garbage" else _payload(
                self.spec, dev, topic, t_s)
            retain = any(p.point == "state" and p.topic == topic for p in self.spec.mqtt.points)
            self.published.append((t_s, topic, payload))
            if fault is not None and fault.kind == "slow":
                threading.Timer(fault.reply_delay_s, client.publish,
                                args=(topic, payload, self.spec.mqtt.qos, retain)).start()
            else:
                client.publish(topic, payload, qos=self.spec.mqtt.qos, retain=retain)

    def start(self) -> None:
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class MqttDeviceSimulator:
    """The table's MQTT devices as simulated plugs, with their broker(s); ``with MqttDeviceSimulator(t) as sim``."""

    def __init__(self, table: DeviceTable, clock: Callable[[], float] | None = None):
        devices = [d for d in table.devices if d.protocol == "mqtt"]
        check_loopback(devices, allow_remote_hosts=False, what="the simulator serves on and")
        self.table, self.time_factor, self._clock = table, table.simulator.time_factor, clock
        self.brokers = {port: EmbeddedBroker(port) for port in sorted({d.port for d in devices})}
        self.specs = devices
        self.plugs: dict[str, SimulatedPlug] = {}
        self.devices: dict[str, SimulatedDevice] = {}
        self.ports: dict[str, int] = {}
        names = {d.name for d in devices}
        self.pending = sorted((f for f in table.faults if f.device is None or f.device in names), key=lambda f: f.at_s)
        self.active: list[tuple[FaultSpec, float]] = []
        self.stats: Counter[str] = Counter()
        self.events: list[tuple[float, str]] = []
        self.outages = 0
        self._t0 = monotonic()
        self._first_request_s: float | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick_loop, name="gridledger-mqtt-devices", daemon=True)
        self.running = False

    def now_s(self) -> float:
        return self._clock() if self._clock is not None else (monotonic() - self._t0) * self.time_factor

    # life cycle ------------------------------------------------------------------------------------------
    def start(self) -> MqttDeviceSimulator:
        self._t0 = monotonic()
        self.running = True
        try:
            for broker in self.brokers.values():
                broker.start()
            for d in self.specs:
                self.ports[d.name] = self.brokers[d.port].port
                plug = self.plugs[d.name] = SimulatedPlug(d, self.ports[d.name], self)
                self.devices[d.name] = plug.device
                plug.start()
            for plug in self.plugs.values():
                if not plug.connected.wait(CONNECT_TIMEOUT_S):
                    raise RuntimeError(f"simulated plug {plug.spec.name!r} could not connect to its broker")
            self._ticker.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the plugs, the ticker and the brokers (idempotent, bounded)."""
        self._stop.set()
        if self._ticker.is_alive():
            self._ticker.join(5.0)
        for plug in self.plugs.values():
            plug.stop()
        for broker in self.brokers.values():
            broker.close()
        self.running = False

    def __enter__(self) -> MqttDeviceSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def address_of(self, name: str) -> tuple[str, int]:
        return "127.0.0.1", self.ports[name]

    # faults ----------------------------------------------------------------------------------------------
    def first_request(self, t_s: float) -> None:
        if self._first_request_s is None:
            self._first_request_s = t_s

    def inject(self, kind: str, duration_s: float, device: str | None = None, **kw) -> None:
        """Start a fault now, for ``duration_s`` device seconds (``device``: one device, or every one)."""
        self._activate(FaultSpec(kind=kind, at_s=0.0, duration_s=duration_s, device=device, **kw), self.now_s())

    def _activate(self, fault: FaultSpec, t_s: float) -> None:
        with self._lock:
            self.active.append((fault, t_s + fault.duration_s))
            self.events.append((t_s, f"{fault.kind} start" + (f" ({fault.device})" if fault.device else "")))
        if fault.kind == "restart":
            ports = {d.port for d in self.specs if fault.device in (None, d.name)}
            for port in ports:
                self.brokers[port].stop()
            self.outages += 1

    def end(self, kind: str) -> None:
        """End the active faults of ``kind`` now; after a ``restart``, return once every plug is connected to its
        broker again (bounded by ``CONNECT_TIMEOUT_S``). For a test that times an outage in simulated seconds
        whatever the machine's load."""
        with self._lock:
            ended = [(f, end) for f, end in self.active if f.kind == kind]
            self.active = [(f, end) for f, end in self.active if f.kind != kind]
        self._ended(ended, self.now_s())
        if kind == "restart":
            for plug in self.plugs.values():
                plug.connected.wait(CONNECT_TIMEOUT_S)

    def _ended(self, ended: list[tuple[FaultSpec, float]], t_s: float) -> None:
        for f, _ in ended:
            self.events.append((t_s, f"{f.kind} end"))
            if f.kind == "restart":
                for port in {d.port for d in self.specs if f.device in (None, d.name)}:
                    self.brokers[port].start()

    def fault_on(self, name: str, t_s: float) -> FaultSpec | None:
        with self._lock:
            return next((f for f, end in self.active if t_s < end and f.device in (None, name)), None)

    def _tick(self) -> None:
        t_s = self.now_s()
        if self._first_request_s is not None:
            while self.pending and self._first_request_s + self.pending[0].at_s <= t_s:
                self._activate(self.pending.pop(0), t_s)
        with self._lock:
            ended = [(f, end) for f, end in self.active if end <= t_s]
            self.active = [(f, end) for f, end in self.active if end > t_s]
        self._ended(ended, t_s)
        for plug in self.plugs.values():
            with plug.lock:
                if plug.watch(t_s):
                    self.events.append((t_s, f"{plug.spec.name} watchdog: safe state"))

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_WALL_S):
            try:
                self._tick()
            except Exception as exc:  # noqa: BLE001 - e.g. a broker that cannot listen again: logged, ticking on
                self.events.append((self.now_s(), f"error: {exc}"))
                log.warning("MQTT device simulator: %s", exc)
