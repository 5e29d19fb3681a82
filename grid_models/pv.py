"""PV output per kWp from weather, by pvlib: Hay-Davies transposition, Faiman cell temperature, PVWatts DC and
inverter models.

References
----------
Dobos, A. P. (2014). PVWatts Version 5 Manual. NREL/TP-6A20-62641.
Faiman, D. (2008). Assessing the outdoor operating temperature of photovoltaic modules.
"""

from __future__ import annotations

import numpy as np
import pvlib

GAMMA_PDC_PER_K = -0.004  # PVWatts default for crystalline silicon [1/K]
DC_AC_RATIO = 1.1  # inverter nameplate = kWp / 1.1
SYSTEM_LOSSES = 0.14  # PVWatts default: soiling, wiring, mismatch, availability …


def pv_ac_kw_per_kwp(
    *,
    tilt_deg: float,
    azimuth_deg: float,
    solar_zenith: np.ndarray,
    solar_azimuth: np.ndarray,
    dni: np.ndarray,
    ghi: np.ndarray,
    dhi: np.ndarray,
    temp_air: np.ndarray,
    wind_speed: np.ndarray,
    day_of_year: np.ndarray,
) -> np.ndarray:
    """AC output of 1 kWp of modules [kW], non-negative; arrays over the horizon."""
    dni_extra = pvlib.irradiance.get_extra_radiation(day_of_year)
    poa = pvlib.irradiance.get_total_irradiance(
        tilt_deg, azimuth_deg, solar_zenith, solar_azimuth, dni, ghi, dhi, dni_extra=dni_extra, model="haydavies"
    )["poa_global"]
    poa = np.nan_to_num(np.asarray(poa, dtype=float))
    temp_cell = pvlib.temperature.faiman(poa, temp_air, wind_speed)
    pdc_w = pvlib.pvsystem.pvwatts_dc(poa, temp_cell, pdc0=1000.0, gamma_pdc=GAMMA_PDC_PER_K)
    pdc_w = np.asarray(pdc_w) * (1.0 - SYSTEM_LOSSES)
    pac_w = pvlib.inverter.pvwatts(pdc_w, pdc0=1000.0 / DC_AC_RATIO)
    return np.clip(np.nan_to_num(np.asarray(pac_w, dtype=float)), 0.0, None) / 1000.0
