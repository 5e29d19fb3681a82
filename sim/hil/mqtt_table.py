"""The MQTT part of a device-table entry (``protocol = "mqtt"``): the broker's client settings and, per point,
where the device publishes it, where the twin asks for it (or commands it) and which field of the payload holds it.

Every read is a request and its reply, as a Modbus read is: the twin publishes ``query`` on ``query_topic`` and
waits (``timeout_s`` wall seconds) for the next message on ``topic``. A relay is switched by publishing ``on`` /
``off`` on ``command_topic``; the device answers on ``topic``, and the twin then reads the state back (the same
read-back rule as for a Modbus coil). The default convention is Tasmota's (``tasmota_points``):

- relay: ``cmnd/<plug>/POWER`` with ``ON`` / ``OFF`` (an empty payload asks for the state), answer on
  ``stat/<plug>/POWER`` (``ON`` / ``OFF``);
- meter: ``cmnd/<plug>/STATUS`` with ``8`` (Tasmota's sensor status), answer on ``stat/<plug>/STATUS8``,
  a JSON object whose ``StatusSNS.ENERGY.Total`` is the energy register [kWh] and ``StatusSNS.ENERGY.Power``
  the power [W]. (Tasmota also pushes the same ``ENERGY`` object in ``tele/<plug>/SENSOR`` every TelePeriod; the
  twin asks instead of listening, so that every value belongs to one poll.)

References: Tasmota documentation, "Commands" (``Power``, ``Status 8``) and "MQTT" (``cmnd``/``stat``/``tele``
prefixes), https://tasmota.github.io/docs/Commands/ and https://tasmota.github.io/docs/MQTT/.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.hil.registers import UNITS
from sim.schema import _Frozen

TOPIC = r"^[^#+\x00]+$"  # a topic to publish on: no wildcards
POINT_UNIT = {"energy": "Wh", "power": "W", "state": "1"}  # the twin's unit of each point (as sim.hil.table's)


class MqttPoint(_Frozen):
    """One point of an MQTT device: ``topic`` where its value arrives, ``field`` the dotted path of the value in a
    JSON payload (empty: the whole payload), ``query_topic``/``query`` how to ask for it, and for a relay's
    ``state`` the ``command_topic`` and the ``on``/``off`` payloads. ``scale`` x the payload's number, in ``unit``."""

    point: Literal["energy", "power", "state"]
    topic: str = Field(min_length=1, pattern=TOPIC)
    field: str = ""
    query_topic: str = Field(min_length=1, pattern=TOPIC)
    query: str = ""
    command_topic: str | None = Field(default=None, pattern=TOPIC)
    on: str = "ON"
    off: str = "OFF"
    scale: float = 1.0
    unit: Literal[tuple(UNITS)] = "1"  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _consistent(self) -> MqttPoint:
        if self.scale == 0:
            raise ValueError("scale must not be 0")
        if UNITS[self.unit][0] != POINT_UNIT[self.point]:
            allowed = sorted(u for u, (base, _) in UNITS.items() if base == POINT_UNIT[self.point])
            raise ValueError(f"point {self.point!r} needs a unit among {allowed}, got {self.unit!r}")
        if self.point == "state" and self.command_topic is None:
            raise ValueError("point 'state' is switched: give its command_topic (Tasmota: 'cmnd/<plug>/POWER')")
        if self.point == "state" and self.on == self.off:
            raise ValueError(f"on and off payloads must differ, both are {self.on!r}")
        return self

    @property
    def twin_factor(self) -> float:
        """Payload number -> the twin's unit (Wh, W)."""
        return self.scale * UNITS[self.unit][1]


class MqttSpec(_Frozen):
    """The device's MQTT settings: ``qos`` of requests, commands and subscriptions (0, 1 or 2; default 0: a switch
    is confirmed by reading the state back, not by the broker's delivery guarantee; on amqtt 0.12.1 a QoS 1 round trip
    costs ~48 ms on loopback against ~2 ms at QoS 0);
    ``retain_commands``: publish commands retained (a plug that reconnects finds the last command; Tasmota's
    ``PowerRetain`` is the device-side counterpart: its state topic retained); ``keepalive_s``: MQTT keep-alive
    [wall s]; ``points``: see :class:`MqttPoint`."""

    qos: Literal[0, 1, 2] = 0
    retain_commands: bool = False
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    points: list[MqttPoint] = Field(min_length=1)


def tasmota_points(plug: str, kind: str) -> list[dict]:
    """Tasmota's topics for a relay (``state``) or a metering plug (``energy`` in kWh and ``power`` in W)."""
    if kind == "relay":
        return [{"point": "state", "topic": f"stat/{plug}/POWER", "query_topic": f"cmnd/{plug}/POWER",
                 "command_topic": f"cmnd/{plug}/POWER"}]
    status = {"topic": f"stat/{plug}/STATUS8", "query_topic": f"cmnd/{plug}/STATUS", "query": "8"}
    return [{"point": "energy", **status, "field": "StatusSNS.ENERGY.Total", "unit": "kWh"},
            {"point": "power", **status, "field": "StatusSNS.ENERGY.Power", "unit": "W"}]
