"""Each settlement period's energy price under a tariff design [EUR/kWh]: flat, time-of-use bands on local-time
calendars (weekdays, weekends, holidays), or a day-ahead series from a file (``sim.capabilities.tariffs.spec``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.files.series import read_series, read_table
from sim.inputs import run_times

KIND = "price"
UNITS = {"eur_per_mwh": 1e-3, "eur_per_kwh": 1.0}  # column -> its factor to EUR/kWh
OTHER_UNITS = ("ct_per_kwh", "eur_per_wh", "usd_per_mwh", "gbp_per_mwh")


def period_starts(scenario) -> pd.DatetimeIndex:
    """Starts of the run's settlement periods (tz-aware, the site's zone)."""
    return run_times(scenario.run, scenario.site)[::scenario.run.settlement_s // scenario.run.step_s]


def time_of_use_eur_per_kwh(starts: pd.DatetimeIndex, bands, default_eur_per_kwh: float, holidays=()) -> np.ndarray:
    """Price per period [EUR/kWh]: the first band ``(price_eur_per_kwh, start_h, end_h, days)`` whose local hours and
    days hold the period's start (``starts``: tz-aware local times; a date in ``holidays`` is a weekend day),
    ``default_eur_per_kwh`` elsewhere."""
    hour = (starts.hour + starts.minute / 60.0).to_numpy()
    dates = np.array([t.date() for t in starts])
    weekend = np.asarray(starts.dayofweek >= 5) | np.isin(dates, list(holidays))
    out = np.full(len(starts), float(default_eur_per_kwh))
    done = np.zeros(len(starts), dtype=bool)
    for b in bands:
        on_day = {"all": np.ones(len(starts), dtype=bool), "weekdays": ~weekend, "weekends": weekend}[b.days]
        hit = on_day & (hour >= b.start_h) & (hour < b.end_h) & ~done
        out[hit], done = b.price_eur_per_kwh, done | hit
    return out


def spot_eur_per_kwh(path, tz: str, starts: pd.DatetimeIndex, settlement_s: int) -> np.ndarray:
    """The file's time-weighted mean price over each period [EUR/kWh] (``eur_per_mwh`` or ``eur_per_kwh``
    column); ScenarioError naming file, line and column when it is not a good series covering the run."""
    columns = set(map(str, read_table(path, KIND).columns))
    column = "eur_per_kwh" if "eur_per_kwh" in columns and "eur_per_mwh" not in columns else "eur_per_mwh"
    series = read_series(path, {column: ("day-ahead price [EUR/MWh] or a column 'eur_per_kwh'", OTHER_UNITS)},
                         kind=KIND, tz=tz, stamp="start")
    return series.on(starts, settlement_s)[column] * UNITS[column]


def period_prices_eur_per_kwh(scenario, side: str) -> np.ndarray:
    """Price of each of the run's settlement periods [EUR/kWh] for ``side`` (``"import_price"`` or
    ``"export_price"``) of the scenario's ``[tariff]``."""
    price = getattr(scenario.tariff, side)
    starts = period_starts(scenario)
    if price.kind == "flat":
        return np.full(len(starts), float(price.price_eur_per_kwh))
    if price.kind == "time_of_use":
        return time_of_use_eur_per_kwh(starts, price.bands, price.price_eur_per_kwh, price.holidays)
    spot = spot_eur_per_kwh(price.price_file, scenario.site.tz, starts, scenario.run.settlement_s)
    return price.spot_factor * spot + price.price_eur_per_kwh


def co2_g_per_kwh(scenario) -> np.ndarray:
    """The grid's emission intensity over each settlement period [g/kWh]: the time-weighted mean of
    ``[tariff] co2_file`` (a ``time`` and a ``g_per_kwh`` column); ScenarioError naming file, line and column."""
    starts = period_starts(scenario)
    series = read_series(scenario.tariff.co2_file, {"g_per_kwh": ("grid emission intensity [g CO2/kWh]",
                                                                 ("kg_per_kwh", "g_per_mwh", "t_per_mwh"))},
                         kind="emission", tz=scenario.site.tz, stamp="start")
    return series.on(starts, scenario.run.settlement_s)["g_per_kwh"]
