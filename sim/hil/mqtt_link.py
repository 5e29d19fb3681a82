"""One MQTT device's link: a paho-mqtt 2.x client of the broker, with the same interface, fault kinds and
backoff as :class:`sim.hil.link.ModbusLink`, so that meters and actuators use either unchanged.

Every read is a request and its reply (``sim.hil.mqtt_table``): publish the point's query, wait at most
``timeout_s`` wall seconds for the next message on its topic. A write publishes the command (QoS ``mqtt.qos``,
acknowledged by the broker within ``timeout_s`` for QoS >= 1) and waits for the device's answer on the state
topic; the actuator then reads the state back, as for a Modbus relay. Faults, counted by kind:

- ``connection``: the broker cannot be reached or dropped the client (a broker outage);
- ``timeout``: no reply in time (a lost message, a silent device);
- ``garbage``: a reply that does not hold the point's value (not JSON, no such field, not ON/OFF);
- ``late_state``: a reply that arrived when no request waited for it (the answer to a request that had already
  timed out); it is counted and not taken. A late reply that arrives while the *next* request on its topic waits
  cannot be told from that request's own answer (Tasmota's replies carry no request id) and is taken for it: after
  a ``timeout`` the DSR has already cut the delay under way (the read-back rule), so no held minute is claimed on
  it, but a free minute's read-back can be one poll stale;
- ``readback_mismatch``: a command the device did not take.

A ``connection`` or ``timeout`` fault makes the link back off (``poll_s, 2 poll_s, …`` up to ``backoff_max_s``,
simulated seconds), as the Modbus link does; paho's network thread reconnects in the background.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from time import monotonic, perf_counter

from sim.hil.link import FAULT_KINDS as MODBUS_FAULT_KINDS
from sim.hil.link import LinkError, LinkHealth
from sim.hil.mqtt_table import MqttPoint
from sim.hil.table import DeviceSpec

FAULT_KINDS = MODBUS_FAULT_KINDS + ("late_state",)
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.05, 1.0  # paho's reconnect delays [wall s]
log = logging.getLogger("sim.hil")


def parse_value(point: MqttPoint, payload: bytes) -> float:
    """The point's value in the twin's unit from a message payload (a state: 1.0 on, 0.0 off); ValueError."""
    text = payload.decode("utf-8", errors="strict").strip()
    if point.field:
        node = json.loads(text)
        for part in point.field.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ValueError(f"no field {point.field!r} in {text[:80]!r}")
            node = node[part]
        text = node if isinstance(node, str) else json.dumps(node)
    if point.point == "state":
        if text == point.on:
            return 1.0
        if text == point.off:
            return 0.0
        raise ValueError(f"state {text[:40]!r} is neither {point.on!r} nor {point.off!r}")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text[:40]!r}")
    return value * point.twin_factor


class MqttLink(LinkHealth):
    """Requests to one MQTT device; ``t_s`` arguments are simulated seconds (backoff and the fault log)."""

    def __init__(self, spec: DeviceSpec):
        import paho.mqtt.client as mqtt

        super().__init__(spec)
        self.mqtt = spec.mqtt
        self._cond = threading.Condition()
        self._waiting: str | None = None  # the topic a request waits on
        self._reply: bytes | None = None
        self._connected = False
        self._started = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"gridledger-{spec.name}",
                                  clean_session=True)
        self.client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # paho callbacks (its network thread) ----------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        topics = sorted({p.topic for p in self.mqtt.points})
        client.subscribe([(t, self.mqtt.qos) for t in topics])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        """The broker acknowledged the subscriptions: only now can a reply reach us, so only now are we connected."""
        if any(rc.is_failure for rc in reason_codes):
            return
        with self._cond:
            self._connected = True
            self.connections += 1
            self._cond.notify_all()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._cond:
            self._connected = False
            self._cond.notify_all()

    def _on_message(self, client, userdata, message) -> None:
        if message.retain:
            return  # the broker's stored state on subscribing: no answer to any request
        with self._cond:
            if self._waiting == message.topic and self._reply is None:
                self._reply = message.payload
                self._cond.notify_all()
                return
        self.faults["late_state"] += 1
        self.recent_faults.append({"t_s": None, "kind": "late_state", "message": message.topic})

    def _connect(self, t_s: float) -> None:
        """Start paho's network thread once; wait at most ``timeout_s`` for a session with the broker."""
        if not self._started:
            self._started = True
            self.client.connect_async(self.spec.host, self.spec.port, keepalive=self.mqtt.keepalive_s)
            self.client.loop_start()
        deadline = monotonic() + self.spec.timeout_s
        with self._cond:
            while not self._connected and (left := deadline - monotonic()) > 0:
                self._cond.wait(left)
            if not self._connected:
                raise self._fail(t_s, "connection", f"no session with the broker at {self.spec.host}:"
                                 f"{self.spec.port}", close=True)

    def _request(self, t_s: float, topic: str, payload: str, point: MqttPoint) -> bytes:
        """Publish ``payload`` on ``topic`` and wait for the next message on the point's topic."""
        self.requests += 1
        started = perf_counter()
        self._connect(t_s)
        deadline = monotonic() + self.spec.timeout_s
        with self._cond:
            self._waiting, self._reply = point.topic, None
        try:
            info = self.client.publish(topic, payload, qos=self.mqtt.qos,
                                       retain=self.mqtt.retain_commands and payload != point.query)
            if info.rc != 0:
                raise self._fail(t_s, "connection", f"publish on {topic!r} refused (rc {info.rc})", close=True)
            with self._cond:
                while self._reply is None and (left := deadline - monotonic()) > 0:
                    self._cond.wait(left)
                reply = self._reply
                connected = self._connected
        finally:
            with self._cond:
                self._waiting = None
        if reply is None:
            kind = "timeout" if connected else "connection"
            raise self._fail(t_s, kind, f"no reply on {point.topic!r} within {self.spec.timeout_s:g} s", close=True)
        self._ok(t_s, started)
        return reply

    def read(self, t_s: float, point: MqttPoint) -> float:
        """A point's value in the twin's unit (Wh, W; a state as 0/1)."""
        payload = self._request(t_s, point.query_topic, point.query, point)
        try:
            return parse_value(point, payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._fail(t_s, "garbage", f"{point.topic}: {exc}", close=False) from None

    def write(self, t_s: float, point: MqttPoint, value: float) -> None:
        """Switch a relay (truthy = on): publish the command and take the device's answer."""
        payload = point.on if value else point.off
        reply = self._request(t_s, point.command_topic, payload, point)
        try:
            parse_value(point, reply)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._fail(t_s, "garbage", f"{point.topic}: {exc}", close=False) from None

    def mismatch(self, t_s: float, message: str) -> LinkError:
        return self._fail(t_s, "readback_mismatch", message, close=False)

    @property
    def answered(self) -> bool:
        return bool(self.latency_s) or self.faults["garbage"] > 0 or self.faults["readback_mismatch"] > 0

    def close(self) -> None:
        """Disconnect and stop paho's network thread (bounded: paho joins its thread)."""
        if self._started:
            self.client.disconnect()
            self.client.loop_stop()
            self._started = False

    def report(self) -> dict:
        from sim.hil.pacing import percentiles

        return {"requests": self.requests, "answers": len(self.latency_s), "reconnects": self.reconnects,
                "faults": {k: self.faults[k] for k in FAULT_KINDS if self.faults[k]},
                "request_latency_s": percentiles(self.latency_s), "recent_faults": list(self.recent_faults)}

