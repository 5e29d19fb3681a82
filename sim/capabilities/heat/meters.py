"""Virtual heat meters: integrate each step of the pipe flow into the registers a district-heating meter keeps
(heat energy, volume, and the flow-weighted temperature registers Σ V·T_supply and Σ V·T_return, as
MULTICAL-type meters do), close one reading per settlement period, and sign validated readings (EIP-712
``HeatReading``) with their own key.

Registers: heat [Wh], volume [ml], Σ V·T [ml·milli-degC] (1 ml resolution keeps the flow-weighted temperatures
of a small house's hourly reading exact to a few mK). A period's reading is the difference of the floored
register values at its end and start, so nothing is lost to rounding over a run.

Ranges (registered on chain, where a reading beyond is refused): heat ``max_wh_per_period`` (design heat x 2 x
1.1), volume ``max_volume_ml_per_period`` (that heat at ``METER_MIN_COOLING_K``, half the smallest cooling a
substation keeps).

References
----------
EN 1434-1:2022 Thermal energy meters; Kamstrup MULTICAL 603 data sheet (volume-weighted average temperature
registers, "TA2/TA3").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from eth_keys import keys

from contracts.eip712 import SignedHeatReading, sign_heat_reading
from grid_models.substation import MIN_COOLING_K

METER_RATING_FACTOR = 2.0  # a heat meter is rated well above the building's design load
RANGE_MARGIN = 1.1
WH_PER_L_K = 1.136  # rho * c_p of water between 30 and 90 degC is 1.13-1.14 Wh/(l K)
# the flow sensor passes the meter's rated heat at half the smallest cooling a substation keeps: its volume range
METER_MIN_COOLING_K = MIN_COOLING_K / 2


@dataclass(frozen=True)
class HeatRawReading:
    """What a heat meter reports for a settlement period. ``energy_wh`` is the heat register's difference (named
    like the electricity reading's so that VEE rules and fault injection apply to it unchanged);
    ``register_wh`` the heat register's whole-Wh value at the period end [Wh] (None: not reported)."""

    meter_id: str
    period: int
    energy_wh: float
    volume_ml: float
    vt_supply_mlmc: float
    vt_return_mlmc: float
    register_wh: float | None = None


class HeatMeter:
    """A heat meter at a building's substation; ``source = "virtual"`` (reads the pipe flow)."""

    unit = "Wh"
    source = "virtual"

    def __init__(self, meter_id: str, key: keys.PrivateKey, consumer: str, design_heat_w: float, period_s: int):
        self.meter_id, self.key, self.consumer = meter_id, key, consumer
        self.address = key.public_key.to_checksum_address()
        self.max_wh_per_period = int(math.ceil(design_heat_w * METER_RATING_FACTOR * period_s / 3600 * RANGE_MARGIN))
        self.max_volume_ml_per_period = int(math.ceil(self.max_wh_per_period / (WH_PER_L_K * METER_MIN_COOLING_K)
                                                      * 1000))
        self.registers = [0.0, 0.0, 0.0, 0.0]  # heat_wh, volume_ml, vt_supply_mlmc, vt_return_mlmc
        self._closed = [0, 0, 0, 0]

    def record(self, heat_w: float, vdot_m3_per_s: float, t_supply_c: float, t_return_c: float, dt_s: float) -> None:
        """Integrate one step: heat, volume and volume-weighted supply and return temperatures."""
        volume_ml = vdot_m3_per_s * dt_s * 1e6
        reg = self.registers
        reg[0] += heat_w * dt_s / 3600.0
        reg[1] += volume_ml
        reg[2] += volume_ml * t_supply_c * 1000.0
        reg[3] += volume_ml * t_return_c * 1000.0

    def close_period(self, period: int) -> HeatRawReading:
        now = [math.floor(x) for x in self.registers]
        delta = [float(a - b) for a, b in zip(now, self._closed)]
        self._closed = now
        return HeatRawReading(self.meter_id, period, *delta, register_wh=float(now[0]))

    def sign(self, domain_separator: bytes, period: int, heat_wh: int, volume_ml: int, vt_supply_mlmc: int,
             vt_return_mlmc: int, quality: int) -> SignedHeatReading:
        return sign_heat_reading(self.key, domain_separator, self.consumer, period, heat_wh, volume_ml,
                                 vt_supply_mlmc, vt_return_mlmc, quality)
