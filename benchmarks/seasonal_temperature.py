"""The synthetic weather's annual temperature cycle against its references (the tables of docs/validation.md).

    python benchmarks/seasonal_temperature.py

1. The default harmonic's monthly means against DWD's monthly means for Germany, 1991-2020.
2. A year of synthetic weather (Munich, seed 5, hourly): each month's mean air temperature against the configured
   curve's (closed-form for the harmonic, the given values for ``monthly_mean_temp_c``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grid_models.climate import DEFAULT_ANNUAL_TEMP_AMPLITUDE_C, DEFAULT_MEAN_TEMP_C, annual_cycle_temp_c
from grid_models.weather import synthetic_weather
from tests.grid_models.test_climate import DWD_GERMANY_1991_2020, _cosine_monthly_means

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _table(columns: dict[str, np.ndarray]) -> str:
    lines = ["| month | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    lines += [f"| {m} | " + " | ".join(f"{v[i]:.2f}" for v in columns.values()) + " |" for i, m in enumerate(MONTHS)]
    return "\n".join(lines)


def main() -> None:
    default = _cosine_monthly_means(DEFAULT_MEAN_TEMP_C, DEFAULT_ANNUAL_TEMP_AMPLITUDE_C, 15)
    dwd = np.array(DWD_GERMANY_1991_2020)
    print(_table({"DWD 1991-2020 [degC]": dwd, "default harmonic [degC]": default, "difference [K]": default - dwd}))

    times = pd.date_range("2025-01-01", "2026-01-01", freq="1h", tz="Europe/Berlin", inclusive="left")
    mid = times + pd.Timedelta(minutes=30)
    cols = {}
    for name, cycle in (("harmonic", {}), ("monthly", {"monthly_mean_temp_c": DWD_GERMANY_1991_2020})):
        w = synthetic_weather(times, lat=48.14, lon=11.58, altitude_m=520.0, rng=np.random.default_rng(5), **cycle)
        curve = annual_cycle_temp_c(mid, mean_temp_c=DEFAULT_MEAN_TEMP_C,
                                    annual_temp_amplitude_c=DEFAULT_ANNUAL_TEMP_AMPLITUDE_C, coldest_day_of_year=15,
                                    **cycle)
        cols[f"{name}: curve [degC]"] = pd.Series(curve, index=times).groupby(times.month).mean().to_numpy()
        cols[f"{name}: weather [degC]"] = pd.Series(w.temp_air, index=times).groupby(times.month).mean().to_numpy()
    print()
    print(_table(cols))
    for name in ("harmonic", "monthly"):
        d = cols[f"{name}: weather [degC]"] - cols[f"{name}: curve [degC]"]
        print(f"{name}: weather - curve, monthly: mean |d| {np.abs(d).mean():.2f} K, worst {np.abs(d).max():.2f} K")


if __name__ == "__main__":
    main()
