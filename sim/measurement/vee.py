"""VEE — validation, estimation and editing of meter readings, per meter and settlement period, in the manner
of utility meter-data management systems.

A reading carries the period's energy [Wh] and, when the meter reports it, its cumulative register at the period
end (``RawReading.register_wh``, whole Wh).

Validation rules (a failing reading is rejected and kept with its rule id):
``out_of_order`` (period already finalised), ``duplicate`` (second reading for a period), ``negative``,
``range`` (above rated power x period x 1.1), ``clock_skew`` (the meter stamped the period's end more than
``MAX_CLOCK_SKEW_S`` away from the head-end's clock, so its energy covers another interval), ``frozen`` (the
register did not advance since the meter's previous reading, yet the reading reports at least 1 Wh, which a
whole-Wh register must have counted: a meter that resends its last record, or whose register stopped while its
period energy repeats), ``spike`` (above ``SPIKE_FACTOR`` x both neighbouring readings, the previous accepted
one and the next received one, and above a quarter of the range limit).

Frozen is judged on the register, not on the period's value: a generator at rated output, a cap-limited PV plant
or zero at night repeats the same period energy for hours while its register advances by exactly that energy,
which is a plateau of the physics, not a stuck meter. A register that stops and a reading that reports zero
energy look like zero output and are accepted: VEE has no physics to tell them from a night. A reading without a
register (``register_wh`` None) is never judged frozen: a repeated value alone cannot tell a plateau from a
stuck meter.

Estimation of a period with no accepted reading: linear interpolation between the neighbouring accepted
values when the gap spans at most ``max_interp_s`` (default 2 h), else the value of the same period one day
earlier (proxy day), else 0. Estimated values are flagged (quality 1) and never minted as certificates.

Accounting, always: readings received = accepted + rejected, and periods = accepted + estimated.

Memory: a meter's VEE keeps the finalised values and registers of the last ``window_periods`` periods only
(what the spike, frozen, interpolation and proxy-day rules look back at), so it does not grow with the horizon;
the counts are running totals.

References
----------
Ontario IESO, "Meter Data Management/Repository: VEE standard"; AEIC Guidelines for VEE (2012) (a stuck
register is one that stops while the meter reports consumption).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from contracts.eip712 import QUALITY_ESTIMATED, QUALITY_MEASURED
from sim.measurement.meters import RawReading

SPIKE_FACTOR = 3.0
MAX_CLOCK_SKEW_S = 60.0  # a minute: ~7 % of a 15-min interval's energy; meters keep time to ~0.5 s/day (IEC 62054-21)


@dataclass(frozen=True, slots=True)
class Validated:
    """The value settled for one meter and period [Wh], with its quality flag and how it was obtained."""

    meter_id: str
    period: int
    energy_wh: int
    quality: int
    rule: str  # "measured", "interpolated" or "proxy_day"
    raw_wh: float | None


@dataclass(frozen=True, slots=True)
class Rejected:
    meter_id: str
    period: int
    raw_wh: float
    rule: str


class MeterVee:
    """VEE state of one meter; periods are finalised in order."""

    def __init__(self, meter_id: str, max_wh: int, period_s: int, max_interp_s: int = 7200):
        self.meter_id = meter_id
        self.max_wh = max_wh
        self.periods_per_day = max(1, 86_400 // period_s)
        self.max_interp_periods = max_interp_s // period_s
        self.window_periods = self.periods_per_day + self.max_interp_periods + 1
        self.pending: dict[int, float] = {}
        self.registers: dict[int, float] = {}  # register at the period end [Wh] of readings received (window)
        self.final: dict[int, Validated] = {}  # finalised values of the last ``window_periods`` periods
        self.rejected: list[Rejected] = []
        self.n_received = 0
        self.n_measured = 0
        self.next_period = 0

    @property
    def lag_periods(self) -> int:
        """How many periods after a period closes VEE needs before it can finalise it."""
        return self.max_interp_periods

    def receive(self, r: RawReading) -> None:
        self.n_received += 1
        rule = None
        register = r.register_wh if r.register_wh is not None and math.isfinite(r.register_wh) else None
        if r.period < self.next_period:
            rule = "out_of_order"
        elif r.period in self.pending:
            rule = "duplicate"
        elif not math.isfinite(r.energy_wh) or r.energy_wh < 0:
            rule = "negative"
        elif r.energy_wh > self.max_wh:
            rule = "range"
        elif not abs(r.clock_offset_s) <= MAX_CLOCK_SKEW_S:
            rule = "clock_skew"
        elif register is not None and r.energy_wh >= 1 and self._register_before(r.period) == register:
            rule = "frozen"
        if rule:
            self.rejected.append(Rejected(self.meter_id, r.period, r.energy_wh, rule))
            return
        self.pending[r.period] = r.energy_wh
        if register is not None:
            self.registers[r.period] = register

    def _register_before(self, period: int) -> float | None:
        """The register at the end of the latest earlier period whose reading was received with one."""
        return next((self.registers[p] for p in range(period - 1, period - 1 - self.window_periods, -1)
                     if p in self.registers), None)

    def _measured(self, period: int) -> Validated | None:
        value = self.pending.pop(period, None)
        if value is None:
            return None
        if value > 0.25 * self.max_wh and self._spikes(period, value):
            self.rejected.append(Rejected(self.meter_id, period, value, "spike"))
            return None
        return Validated(self.meter_id, period, int(value), QUALITY_MEASURED, "measured", value)

    def _spikes(self, period: int, value: float) -> bool:
        """``value`` is above ``SPIKE_FACTOR`` x both neighbouring readings (the previous measured one and the
        next received one, those that exist)."""
        prev = self.final.get(period - 1)
        neighbours = [x for x in (prev.energy_wh if prev and prev.quality == QUALITY_MEASURED else None,
                                  self.pending.get(period + 1)) if x is not None]
        return bool(neighbours) and value > SPIKE_FACTOR * max(neighbours)

    def _estimate(self, period: int) -> Validated:
        before = next((p for p in range(period - 1, max(-1, period - 1 - self.max_interp_periods) , -1)
                       if (v := self.final.get(p)) is not None and v.quality == QUALITY_MEASURED), None)
        after = next((p for p in sorted(self.pending) if p > period), None)
        if before is not None and after is not None and after - before - 1 <= self.max_interp_periods:
            v0, v1 = self.final[before].energy_wh, self.pending[after]
            value = v0 + (v1 - v0) * (period - before) / (after - before)
            return Validated(self.meter_id, period, int(value), QUALITY_ESTIMATED, "interpolated", None)
        proxy = self.final.get(period - self.periods_per_day)
        value = proxy.energy_wh if proxy is not None else 0
        return Validated(self.meter_id, period, int(value), QUALITY_ESTIMATED, "proxy_day", None)

    def finalise_through(self, period: int) -> list[Validated]:
        """Finalise every period up to and including ``period``; returns the new values, in order."""
        out = []
        while self.next_period <= period:
            p = self.next_period
            v = self._measured(p) or self._estimate(p)
            self.final[p] = v
            self.n_measured += v.quality == QUALITY_MEASURED
            out.append(v)
            self.next_period += 1
            self.final.pop(p - self.window_periods, None)
            self.registers.pop(p - self.window_periods, None)
        return out

    def counts(self) -> dict[str, int]:
        return {
            "received": self.n_received,
            "accepted": self.n_measured,
            "rejected": len(self.rejected),
            "estimated": self.next_period - self.n_measured,
            "periods": self.next_period,
            "pending": len(self.pending),
        }
