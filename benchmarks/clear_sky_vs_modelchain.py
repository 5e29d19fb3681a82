"""A PV site's clear-sky cap against pvlib's ModelChain under pvlib's Ineichen clear sky, per place, season
and orientation (the cases of tests/sim/sites/test_clear_sky_caps.py): the table of docs/validation.md.

    python benchmarks/clear_sky_vs_modelchain.py            # markdown table on stdout

Columns: the day's ModelChain energy [kWh/kWp], the cap's deviation over the day [%], the worst hour among the
hours above 5 % of the day's peak [%], the worst hour of all [Wh per kWp and % of that hour], and the sun's
highest elevation that day [deg].
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.sim.sites.test_clear_sky_caps import (
    CASES,
    NAMEPLATE_KW,
    STEP_S,
    caps_hourly_wh,
    day_times,
    modelchain_hourly_wh,
)


def row(place, orientation) -> dict:
    caps, clear = caps_hourly_wh(place, orientation)
    ref = modelchain_hourly_wh(place, orientation, clear.temp_air, clear.wind_speed)
    dev = caps - ref
    big = ref > 0.05 * ref.max() if ref.max() > 0 else np.zeros(24, bool)
    rel = np.divide(dev, ref, out=np.zeros(24), where=ref > 0) * 100
    worst = int(np.argmax(np.abs(dev)))
    times = day_times(place[4], place[5]) + pd.Timedelta(seconds=STEP_S / 2)
    return {
        "place": place[0], "face": orientation[0], "kwh_per_kwp": ref.sum() / NAMEPLATE_KW / 1000,
        "day_pct": dev.sum() / ref.sum() * 100 if ref.sum() > 0 else 0.0,
        "worst_big_hour_pct": float(np.abs(rel[big]).max()) if big.any() else 0.0,
        "worst_hour_wh_per_kwp": dev[worst] / NAMEPLATE_KW, "worst_hour_pct": rel[worst],
        "worst_hour": f"{times[worst * 3600 // STEP_S].hour:02d}h",
        "max_elevation_deg": float(90 - clear.solar_zenith.min()),
    }


def main() -> None:
    rows = pd.DataFrame([row(p, o) for p, o in CASES])
    print("| " + " | ".join(rows.columns) + " |\n|" + "---|" * len(rows.columns))
    for r in rows.itertuples(index=False):
        print("| " + " | ".join(f"{v:.3g}" if isinstance(v, float) else str(v) for v in r) + " |")
    print(f"\nworst day {rows.day_pct.abs().max():.3g} %, worst hour above 5 % of peak "
          f"{rows.worst_big_hour_pct.max():.3g} %, worst hour {rows.worst_hour_wh_per_kwp.abs().max():.3g} Wh/kWp")


if __name__ == "__main__":
    main()
