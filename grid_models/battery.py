"""Home battery: energy bookkeeping with charge/discharge efficiency and power and energy limits.

Sign convention (pandapower's storage): ``p_kw`` > 0 charges, < 0 discharges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ETA_CHARGE = 0.95
ETA_DISCHARGE = 0.95


@dataclass(frozen=True)
class BatteryLimits:
    capacity_kwh: np.ndarray
    p_max_kw: np.ndarray


def feasible_power_kw(
    p_request_kw: np.ndarray, soc_kwh: np.ndarray, limits: BatteryLimits, dt_s: float
) -> np.ndarray:
    """The requested power clipped to power limits and to what the state of charge allows over ``dt_s``."""
    dt_h = dt_s / 3600.0
    p_charge_max = np.minimum(limits.p_max_kw, (limits.capacity_kwh - soc_kwh) / (ETA_CHARGE * dt_h))
    p_discharge_max = np.minimum(limits.p_max_kw, soc_kwh * ETA_DISCHARGE / dt_h)
    return np.clip(p_request_kw, -np.maximum(p_discharge_max, 0.0), np.maximum(p_charge_max, 0.0))


def next_soc_kwh(p_kw: np.ndarray, soc_kwh: np.ndarray, limits: BatteryLimits, dt_s: float) -> np.ndarray:
    """State of charge after holding ``p_kw`` for ``dt_s`` [kWh], within [0, capacity]."""
    dt_h = dt_s / 3600.0
    delta = np.where(p_kw > 0, p_kw * ETA_CHARGE, p_kw / ETA_DISCHARGE) * dt_h
    return np.clip(soc_kwh + delta, 0.0, limits.capacity_kwh)
