"""VEE for multi-register heat readings, built on the electricity VEE (``sim.measurement.vee.MeterVee``).

Before a heat reading reaches the shared rules, two heat-meter checks run on its registers (a failing
reading is rejected with its rule id, like any other):

- ``heat_temperature``: the flow-weighted temperatures Σ V·T / Σ V must lie in [0, 130] degC with the return
  not above the supply;
- ``heat_consistency``: the heat register must agree with the volume and temperature registers,
  heat ≈ ρ·c_p·(Σ V·T_supply − Σ V·T_return), within ``CONSISTENCY_TOLERANCE`` (an energy calculator check);
- ``heat_volume``: the volume must lie within the meter's range (``HeatMeter.max_volume_ml_per_period``, as
  registered on chain).

The heat register then goes through every ``MeterVee`` rule (negative, range, duplicate, out-of-order, spike,
frozen: the heat register did not advance while the reading reports heat) and its estimation (a gap's share of
the heat register's difference across it, else interpolation ≤ 2 h, else proxy day). For an estimated period
the other registers are rebuilt from the estimated heat with the flow-weighted temperatures of the last measured
period (the volume capped at the meter's range), so that an estimated reading stays physically consistent.
Estimated readings carry quality 1 and earn no tokens.

Accounting, as for electricity: received = accepted + rejected (+ pending); periods = accepted + estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from contracts.eip712 import QUALITY_MEASURED
from sim.capabilities.heat.meters import WH_PER_L_K, HeatRawReading
from sim.measurement.meters import RawReading
from sim.measurement.vee import MeterVee, Rejected

CONSISTENCY_TOLERANCE = 0.05
CONSISTENCY_FLOOR_WH = 20.0
T_MIN_C, T_MAX_C = 0.0, 130.0
ML_MK_PER_L_K = 1e6


@dataclass(frozen=True)
class HeatValidated:
    """The registers settled for one heat meter and period, with quality flag and how they were obtained."""

    meter_id: str
    period: int
    heat_wh: int
    volume_ml: int
    vt_supply_mlmc: int
    vt_return_mlmc: int
    quality: int
    rule: str
    raw_wh: float | None


def check_registers(r: HeatRawReading, max_volume_ml: float = math.inf) -> str | None:
    """The heat-meter rule a reading fails, or None."""
    values = (r.energy_wh, r.volume_ml, r.vt_supply_mlmc, r.vt_return_mlmc)
    if not all(math.isfinite(x) for x in values) or min(values) < 0:
        return None  # negative or NaN: left to MeterVee's "negative" rule on the heat channel
    if r.volume_ml > max_volume_ml:
        return "heat_volume"
    if r.volume_ml > 0:
        t_supply, t_return = r.vt_supply_mlmc / r.volume_ml / 1000, r.vt_return_mlmc / r.volume_ml / 1000
        if not T_MIN_C <= t_return <= t_supply <= T_MAX_C:
            return "heat_temperature"
    expected_wh = WH_PER_L_K * (r.vt_supply_mlmc - r.vt_return_mlmc) / ML_MK_PER_L_K
    if abs(r.energy_wh - expected_wh) > CONSISTENCY_TOLERANCE * expected_wh + CONSISTENCY_FLOOR_WH:
        return "heat_consistency"
    return None


class HeatVee:
    """VEE state of one heat meter; periods are finalised in order."""

    def __init__(self, meter_id: str, max_wh: int, period_s: int, max_interp_s: int = 7200,
                 max_volume_ml: float = math.inf):
        self.meter_id = meter_id
        self.max_volume_ml = max_volume_ml
        self.energy = MeterVee(meter_id, max_wh, period_s, max_interp_s)
        self.registers: dict[int, HeatRawReading] = {}
        self.heat_rejected: list[Rejected] = []
        self._last_temps: tuple[float, float] | None = None  # flow-weighted (supply, return) last measured

    @property
    def lag_periods(self) -> int:
        return self.energy.lag_periods

    @property
    def rejected(self) -> list[Rejected]:
        return self.heat_rejected + self.energy.rejected

    def receive(self, r: HeatRawReading) -> None:
        rule = check_registers(r, self.max_volume_ml)
        if rule:
            self.heat_rejected.append(Rejected(self.meter_id, r.period, r.energy_wh, rule))
            return
        if r.period >= self.energy.next_period:
            self.registers.setdefault(r.period, r)  # a duplicate keeps the first, as MeterVee does
        self.energy.receive(RawReading(self.meter_id, r.period, r.energy_wh, register_wh=r.register_wh))

    def _validated(self, period: int, heat_wh: int, quality: int, rule: str, raw_wh) -> HeatValidated:
        raw = self.registers.pop(period, None)
        if quality == QUALITY_MEASURED and raw is not None:
            volume, vts, vtr = int(raw.volume_ml), int(raw.vt_supply_mlmc), int(raw.vt_return_mlmc)
            if volume > 0:
                self._last_temps = (vts / volume, vtr / volume)
        elif self._last_temps is not None and self._last_temps[0] > self._last_temps[1]:
            ts, tr = self._last_temps
            volume = int(min(heat_wh / (WH_PER_L_K * (ts - tr)) * ML_MK_PER_L_K, self.max_volume_ml))
            vts, vtr = round(volume * ts), round(volume * tr)
        else:
            volume = vts = vtr = 0
        return HeatValidated(self.meter_id, period, heat_wh, volume, vts, vtr, quality, rule, raw_wh)

    def finalise_through(self, period: int) -> list[HeatValidated]:
        """Finalise every period up to and including ``period``; returns the new values, in order."""
        return [self._validated(v.period, v.energy_wh, v.quality, v.rule, v.raw_wh)
                for v in self.energy.finalise_through(period)]

    def counts(self) -> dict[str, int]:
        out = self.energy.counts()
        out["received"] += len(self.heat_rejected)
        out["rejected"] += len(self.heat_rejected)
        return out
