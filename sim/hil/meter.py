"""A real (or simulated) meter in place of a prosumer's virtual meter.

It is polled every ``poll_s`` for its cumulative export-energy register. At each settlement-period boundary
the register value at that boundary closes the period: the reading is the difference of the whole-Wh values
at the period's two boundaries, exactly as a virtual meter closes its own register, with the register at the
period end (``RawReading.register_wh``), and goes into the same VEE, is signed with this meter's own key and
settled by the same contract. A boundary value must be fresh: a sample older than ``STALE_POLLS`` polls is
never used; without a fresh value at either boundary the period is a gap, which VEE estimates and flags
(quality 1). Nothing is lost across a gap: every fresh boundary value also goes to VEE as a register read
(``MeterVee.register_read``, by the bridge), so once the register is read again VEE knows the gap's energy in
total (the register's difference across it) and shares exactly that over the gap's periods.
"""

from __future__ import annotations

import math

from sim.hil.link import LinkError, ModbusLink
from sim.hil.table import DeviceSpec
from sim.measurement.meters import RawReading, VirtualMeter

STALE_POLLS = 2


class HilMeter(VirtualMeter):
    """Same identity, range and signing as a virtual meter; ``source = "hil"``; values come from the device."""

    source = "hil"

    def __init__(self, spec: DeviceSpec, key, rated_kw: float, period_s: int, link: ModbusLink):
        super().__init__(f"hil/{spec.name}", key, rated_kw, period_s)
        self.spec, self.link = spec, link
        self.entity = spec.entity
        self.last_good: tuple[float, float] | None = None  # (t_s, register Wh)
        self.boundary_wh: dict[int, float | None] = {}  # boundary b = start of period b -> register [Wh]
        self.gaps: list[int] = []
        self.samples: list[tuple[float, float, float]] = []  # (t_s, register Wh or nan, power W or nan)
        self.polls = self.polls_ok = self.polls_skipped = 0

    def record(self, p_export_kw: float, dt_s: float) -> None:
        """The physics does not drive a real meter: its register is read from the device."""

    def close_period(self, period: int) -> RawReading:
        raise RuntimeError(f"{self.meter_id} is closed by the HIL bridge at the period boundary, not by the step")

    def poll(self, t_s: float) -> None:
        """Read the energy (and power) registers; a failure leaves the last good sample to age."""
        self.polls += 1
        energy_wh = power_w = math.nan
        if not self.link.ready(t_s):
            self.polls_skipped += 1
        else:
            try:
                energy_wh = self.link.read(t_s, self.spec.register("energy"))
                self.last_good = (t_s, energy_wh)
                self.polls_ok += 1
                if (reg := self.spec.register("power")) is not None:
                    power_w = self.link.read(t_s, reg)
            except LinkError:
                pass  # counted by the link; the sample stays missing
        self.samples.append((t_s, energy_wh, power_w))

    def fresh_wh(self, t_s: float) -> float | None:
        """The latest good register value if it is at most ``STALE_POLLS`` polls old at ``t_s``, else None."""
        if self.last_good is None or t_s - self.last_good[0] > STALE_POLLS * self.spec.poll_s + 1e-9:
            return None
        return self.last_good[1]

    def boundary(self, b: int, t_s: float) -> RawReading | None:
        """At the start of period ``b``: close period ``b - 1`` (None, and a gap, without two fresh values)."""
        value = self.fresh_wh(t_s)
        self.boundary_wh[b] = None if value is None else float(math.floor(value))
        if b == 0:
            return None
        before, now = self.boundary_wh.get(b - 1), self.boundary_wh[b]
        if before is None or now is None:
            self.gaps.append(b - 1)
            return None
        return RawReading(self.meter_id, b - 1, now - before, register_wh=now)

    def report(self) -> dict:
        return {"kind": "meter", "entity": self.entity, "meter_id": self.meter_id, "address": self.address,
                "polls": self.polls, "polls_ok": self.polls_ok, "polls_skipped_backoff": self.polls_skipped,
                "periods_read": len(self.boundary_wh) - 1 - len(self.gaps) if self.boundary_wh else 0,
                "gap_periods": list(self.gaps)}
