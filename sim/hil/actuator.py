"""A relay or set-point bound to a twin entity and driven by a command source.

The command source is a callable ``source(t_s) -> value | None`` set by whoever owns the entity (a capability,
through ``Capability.command_source(entity)``, or code calling ``HilBridge.drive``). Each poll the actuator
asks it for the wanted value (None: keep the last one; before any command: the safe state), reads the device's
value, writes when they differ, and confirms the write by reading it back; a device that does not take the
write is a ``readback_mismatch`` fault. A relay is on when the command is truthy (e.g. a declared power > 0).

Lost communication: the device's own watchdog (``watchdog_s``, written into its watchdog register on every new
connection when the map has one) puts it into ``safe_state``; the bridge never reports a read-back older than
``STALE_POLLS`` polls as the device's state, it reports the safe state, flagged as assumed. When the bridge
stops it writes the safe state.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from sim.hil.link import LinkError, ModbusLink
from sim.hil.meter import STALE_POLLS
from sim.hil.registers import round_trip
from sim.hil.table import DeviceSpec

CommandSource = Callable[[float], "float | bool | None"]
QUALITY_CONFIRMED, QUALITY_ASSUMED_SAFE = 0, 1


class Actuator:
    def __init__(self, spec: DeviceSpec, link: ModbusLink):
        self.spec, self.link = spec, link
        self.entity = spec.entity
        self.point = spec.register("state" if spec.kind == "relay" else "setpoint")
        self.watchdog = spec.register("watchdog")
        self.safe = self._expected(spec.safe_state)
        self.command: CommandSource | None = None
        self.wanted = self.safe
        self.confirmed: tuple[float, float] | None = None  # (t_s, value read back)
        self.samples: list[tuple[float, float, float, int]] = []  # (t_s, wanted, reported, quality)
        self.readbacks: list[tuple[float, float]] = []  # (t_s, value read back by the poll at t_s)
        self.polls = self.polls_skipped = self.writes = self.confirmations = self.assumed_safe_polls = 0
        self.safe_on_close: bool | None = None
        self._armed_connection = 0

    def _expected(self, value) -> float:
        """The value the device reads back after being given ``value`` (a relay: 0.0 or 1.0)."""
        if self.spec.kind == "relay":
            return float(bool(value))
        return round_trip(float(value), self.point.type, self.point.unit, scale=self.point.scale)

    def poll(self, t_s: float) -> None:
        self.polls += 1
        if self.command is not None and (cmd := self.command(t_s)) is not None:
            self.wanted = self._expected(cmd)
        if not self.link.ready(t_s):
            self.polls_skipped += 1
        else:
            try:
                self._apply(t_s, self.wanted)
            except LinkError:
                pass  # counted by the link
        self.samples.append((t_s, self.wanted, *self.reported(t_s)))

    def _apply(self, t_s: float, wanted: float) -> None:
        have = self.link.read(t_s, self.point)
        if self.watchdog is not None and self.link.connections != self._armed_connection:
            self.link.write(t_s, self.watchdog, self.spec.watchdog_s)
            self._armed_connection = self.link.connections
        if have != wanted:
            self.link.write(t_s, self.point, wanted)
            self.writes += 1
            have = self.link.read(t_s, self.point)
            if have != wanted:
                self.confirmed = (t_s, have)
                self.readbacks.append(self.confirmed)
                raise self.link.mismatch(t_s, f"wrote {wanted:g} to {self.point.point}, read back {have:g}")
            self.confirmations += 1
        self.confirmed = (t_s, have)
        self.readbacks.append(self.confirmed)

    def read_back_throughout(self, t0_s: float, t1_s: float, value: float) -> bool:
        """Whether every poll in ``[t0_s, t1_s)`` read the device back at ``value`` (and there was one): stricter
        than a reported state, which may rest on a read-back up to ``STALE_POLLS`` polls old."""
        polls = [s[0] for s in self.samples if t0_s <= s[0] < t1_s]
        fresh = {t for t, v in self.readbacks if t0_s <= t < t1_s and v == value}
        return bool(polls) and all(t in fresh for t in polls)

    def reported(self, t_s: float) -> tuple[float, int]:
        """The device's state as the bridge may report it: the read-back if fresh, else the safe state (assumed)."""
        if self.confirmed is not None and t_s - self.confirmed[0] <= STALE_POLLS * self.spec.poll_s + 1e-9:
            return self.confirmed[1], QUALITY_CONFIRMED
        self.assumed_safe_polls += 1
        return self.safe, QUALITY_ASSUMED_SAFE

    def shutdown(self, t_s: float) -> None:
        """Put the device into its safe state (one attempt, whatever the backoff): the bridge is going away."""
        try:
            self._apply(t_s, self.safe)
            self.safe_on_close = True
        except LinkError:
            self.safe_on_close = False

    def report(self) -> dict:
        last = self.samples[-1] if self.samples else None
        return {"kind": self.spec.kind, "entity": self.entity, "driven": self.command is not None,
                "polls": self.polls, "polls_skipped_backoff": self.polls_skipped, "writes": self.writes,
                "writes_confirmed": self.confirmations, "assumed_safe_polls": self.assumed_safe_polls,
                "safe_state": self.safe, "safe_state_written_on_close": self.safe_on_close,
                "last_reported": None if last is None or math.isnan(last[2]) else last[2]}
