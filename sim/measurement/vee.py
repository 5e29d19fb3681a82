"""VEE — validation, estimation and editing of meter readings, per meter and settlement period, in the manner
of utility meter-data management systems.

A reading carries the period's energy [Wh] and, when the meter reports it, its cumulative register at the period
end (``RawReading.register_wh``, whole Wh). A HIL meter also reports the register it read at every period
boundary (``MeterVee.register_read``), also at a boundary where it could not close a period.

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

Estimation of a period with no accepted reading:

1. ``register``: when the register is known at the gap's two ends (the last boundary where it is known with
   every earlier period final, and the first boundary after the period where it is known again: a register read
   or the start of the next received reading, its register minus its energy), the energy of the gap is known in
   total. What is left of it after the gap's periods already finalised is shared over the gap's remaining periods
   pro rata to the profile estimate below (evenly where that is zero), in whole Wh by largest remainders, so the
   gap's estimates add up to the register's difference to the Wh. A negative remainder (a register that went
   back, a corrupted reading at the gap's end) is shared as 0.
2. otherwise the profile estimate: linear interpolation between the neighbouring accepted values when the gap
   spans at most ``max_interp_s`` (default 2 h), else the value of the same period one day earlier (proxy
   day), else 0 (``interpolated``, ``proxy_day``).

So nothing is lost or invented across a gap whenever the register is read again before the gap's last period is
finalised (VEE finalises a period ``max_interp_s`` after it ends), the periods of a longer gap finalised before
from the profile did not already exceed the total, and the readings agree with their registers. Estimated
values are flagged (quality 1) and never minted as certificates.

Accounting, always: readings received = accepted + rejected (+ pending), and periods = accepted + estimated.

Memory: a meter's VEE keeps the finalised values, registers and register reads of the last ``window_periods``
periods only (what the rules look back at), so it does not grow with the horizon; the counts are running
totals.

References
----------
Ontario IESO, "Meter Data Management/Repository: VEE standard"; AEIC Guidelines for VEE (2012) (register-to-
interval consistency: the interval data of a span must sum to the register's difference over it; a stuck
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
    rule: str  # "measured", "register", "interpolated" or "proxy_day"
    raw_wh: float | None


@dataclass(frozen=True, slots=True)
class Rejected:
    meter_id: str
    period: int
    raw_wh: float
    rule: str


def shares_wh(total_wh: int, weights: list[int]) -> list[int]:
    """Whole Wh proportional to ``weights`` (evenly if they sum to 0) summing to exactly ``total_wh`` >= 0:
    floors, then one Wh each to the largest remainders, ties to the earliest (Hamilton's method, in integers)."""
    if sum(weights) <= 0:
        weights = [1] * len(weights)
    w_sum = sum(weights)
    out = [total_wh * w // w_sum for w in weights]
    order = sorted(range(len(weights)), key=lambda i: -(total_wh * weights[i] % w_sum))
    for i in order[: total_wh - sum(out)]:
        out[i] += 1
    return out


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
        self.boundary_wh: dict[int, float] = {}  # register reads at the start of period b [Wh] (window)
        self.final: dict[int, Validated] = {}  # finalised values of the last ``window_periods`` periods
        self.rejected: list[Rejected] = []
        self.n_received = 0
        self.n_measured = 0
        self.next_period = 0
        self._anchor: tuple[int, float] | None = None  # (boundary, register Wh): known, every earlier period final
        self._since_anchor_wh = 0  # energy finalised since the anchor's boundary [Wh]

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

    def register_read(self, boundary: int, register_wh: float) -> None:
        """The meter's cumulative register [Wh] read at the start of period ``boundary`` (a HIL meter reads one
        at every boundary it can, also where it cannot close a period); used to estimate gaps."""
        if boundary == self.next_period:
            self._anchor, self._since_anchor_wh = (boundary, register_wh), 0
        elif boundary > self.next_period:
            self.boundary_wh[boundary] = register_wh

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

    def _profile(self, period: int) -> Validated:
        """Interpolated between the neighbouring measured values within ``max_interp_s``, else proxy day, else 0."""
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

    def _gap_end(self, period: int) -> tuple[int, float] | None:
        """The first boundary after ``period`` where the register is known: a register read, or the start of
        the next received reading (its register minus its energy); None if neither is known before it."""
        after = min((p for p in self.pending if p > period), default=None)
        read = min((b for b in self.boundary_wh if period < b and (after is None or b <= after)), default=None)
        if read is not None:
            return read, self.boundary_wh[read]
        if after is not None and after in self.registers:
            return after, self.registers[after] - self.pending[after]
        return None

    def _estimate(self, period: int) -> Validated:
        profile = self._profile(period)
        end = self._gap_end(period) if self._anchor is not None else None
        if end is None:
            return profile
        b1, r1 = end
        left_wh = max(0, round(r1 - self._anchor[1]) - self._since_anchor_wh)
        weights = [profile.energy_wh] + [self._profile(p).energy_wh for p in range(period + 1, b1)]
        value = shares_wh(left_wh, [max(0, w) for w in weights])[0]
        return Validated(self.meter_id, period, value, QUALITY_ESTIMATED, "register", None)

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
            end = self.boundary_wh.pop(p + 1, None)  # the register at the period's end, if known
            if v.quality == QUALITY_MEASURED and p in self.registers:
                end = self.registers[p]
            if end is not None:
                self._anchor, self._since_anchor_wh = (p + 1, end), 0
            else:
                self._since_anchor_wh += v.energy_wh
            self.final.pop(p - self.window_periods, None)
            self.registers.pop(p - self.window_periods, None)
            self.boundary_wh.pop(p - self.window_periods, None)
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
