"""Wind farm output from the weather, by windpowerlib: 10 m wind speed to hub height by a documented profile,
then the turbine type's power curve from windpowerlib's bundled (offline) turbine library.

Profiles (chosen by name from ``WIND_PROFILES``):

- ``"logarithmic"`` (default): v_hub = v_10 * ln(h_hub / z0) / ln(10 / z0), neutral stratification, no
  obstacles; z0 the site's roughness length [m] (0.1-0.2 for farmland with hedges).
- ``"hellman"``: v_hub = v_10 * (h_hub / 10) ** alpha with alpha = 1 / ln(h_hub / z0) (windpowerlib's choice
  when a roughness length is given).

Power: windpowerlib's ``power_curve`` (linear interpolation of the manufacturer's curve, 0 below the first
and above the last tabulated wind speed, i.e. outside cut-in/cut-out), no air-density correction, times the
number of turbines. A few manufacturer curves plateau slightly above the rated power (E-53/800: 810 kW); the
curve is used as published, not clipped.

References
----------
Haas, S., Krien, U., Schachler, B., et al. (2024). windpowerlib. https://github.com/wind-python/windpowerlib
Hau, E. (2013). Wind Turbines: Fundamentals, Technologies, Application, Economics. Springer (profiles).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
from windpowerlib import power_output, wind_speed
from windpowerlib.data import get_turbine_types
from windpowerlib.wind_turbine import WindTurbine

MEASUREMENT_HEIGHT_M = 10.0  # the weather's wind speed is at 10 m


def _logarithmic(v10: np.ndarray, hub_height_m: float, roughness_length_m: float) -> np.ndarray:
    return np.asarray(wind_speed.logarithmic_profile(v10, MEASUREMENT_HEIGHT_M, hub_height_m, roughness_length_m))


def _hellman(v10: np.ndarray, hub_height_m: float, roughness_length_m: float) -> np.ndarray:
    return np.asarray(wind_speed.hellman(v10, MEASUREMENT_HEIGHT_M, hub_height_m, roughness_length_m))


WIND_PROFILES: dict[str, Callable[[np.ndarray, float, float], np.ndarray]] = {
    "logarithmic": _logarithmic,
    "hellman": _hellman,
}


@cache
def bundled_turbine_types() -> tuple[str, ...]:
    """Turbine types with a power curve in windpowerlib's bundled library (read offline)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        df = get_turbine_types("local", print_out=False)
    return tuple(sorted(df[df.has_power_curve.astype(bool)].turbine_type))


@dataclass(frozen=True)
class TurbineCurve:
    turbine_type: str
    rated_kw: float  # the library's nominal power
    wind_speed_m_per_s: np.ndarray
    power_kw: np.ndarray

    @property
    def cut_in_m_per_s(self) -> float:
        """Power is zero at and below this wind speed (the last tabulated zero before the curve rises)."""
        first = int(np.argmax(self.power_kw > 0))
        return float(self.wind_speed_m_per_s[max(first - 1, 0)])

    @property
    def rated_m_per_s(self) -> float:
        """Lowest tabulated wind speed at which the curve reaches its maximum."""
        return float(self.wind_speed_m_per_s[int(np.argmax(self.power_kw))])


@cache
def turbine_curve(turbine_type: str) -> TurbineCurve:
    """The bundled power curve of ``turbine_type``; ValueError naming the choices if it is not bundled."""
    if turbine_type not in bundled_turbine_types():
        raise ValueError(f"a turbine type bundled with windpowerlib, e.g. 'E-82/2350' or 'V112/3450' "
                         f"(see windpowerlib.data.get_turbine_types('local')), got {turbine_type!r}")
    t = WindTurbine(turbine_type=turbine_type, hub_height=100.0)  # hub height does not change the curve
    pc = t.power_curve
    return TurbineCurve(turbine_type, float(t.nominal_power) / 1000.0, pc.wind_speed.to_numpy(dtype=float),
                        pc.value.to_numpy(dtype=float) / 1000.0)


@dataclass(frozen=True)
class WindResult:
    hub_wind_speed: np.ndarray  # [m/s]
    p_kw: np.ndarray  # farm output [kW]


def wind_farm_kw(
    wind_speed_10m: np.ndarray,
    *,
    turbine_type: str,
    hub_height_m: float,
    n_turbines: int = 1,
    roughness_length_m: float = 0.15,
    profile: str = "logarithmic",
) -> WindResult:
    """Output of ``n_turbines`` turbines of ``turbine_type`` at ``hub_height_m`` [kW] from 10 m wind [m/s]."""
    v_hub = WIND_PROFILES[profile](np.asarray(wind_speed_10m, dtype=float), hub_height_m, roughness_length_m)
    curve = turbine_curve(turbine_type)
    p_w = power_output.power_curve(v_hub, curve.wind_speed_m_per_s, curve.power_kw * 1000.0)
    return WindResult(v_hub, np.asarray(p_w, dtype=float) * n_turbines / 1000.0)
