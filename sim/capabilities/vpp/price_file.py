"""Prices from a file (``[prices] tariff = "file"``): a day-ahead or retail price series, CSV or Parquet, read and
checked by ``sim.files.series`` and averaged onto the run's settlement periods.

Layout (docs/your_data.md): a ``time`` column (the interval's start, ISO 8601 with its UTC offset or naive
in the site's time zone) and one price column, ``eur_per_mwh`` (as day-ahead markets quote: EPEX SPOT, ENTSO-E)
or ``eur_per_kwh``; any step (hourly, 15 minutes, …), equally spaced. A period's price is the time-weighted mean
of the file's prices over it, rounded to the nearest µEUR/kWh (1 EUR/MWh = 1000 µEUR/kWh). VppSettlement takes
prices as unsigned integers from 1 µEUR/kWh (0 means "no price published"): a period whose mean is below that —
a negative or zero day-ahead price — is paid 1 µEUR/kWh, and the summary counts those periods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.files.series import SeriesFile, line_of, read_series, read_table
from sim.inputs import run_times
from sim.schema import ScenarioError

KIND = "price"
MIN_PRICE_UEUR_PER_KWH = 1  # VppSettlement.publish_price refuses 0 (it means "no price published")
UNITS = {"eur_per_mwh": 1e-3, "eur_per_kwh": 1.0}  # column -> its factor to EUR/kWh
LABELS = {"eur_per_mwh": "EUR/MWh", "eur_per_kwh": "EUR/kWh"}
OTHER_UNITS = ("ct_per_kwh", "ct_per_mwh", "eur_per_wh", "eur_per_gwh", "eur_per_kw", "eur_per_mw",
               "usd_per_mwh", "gbp_per_mwh")  # named in the error when found in place of an accepted column


def price_column(path: Path) -> str:
    """Which accepted price column the file has (``eur_per_mwh`` or ``eur_per_kwh``; not both)."""
    columns = set(map(str, read_table(path, KIND).columns))
    found = [c for c in UNITS if c in columns]
    if len(found) > 1:
        raise ScenarioError(f"{path}: both columns 'eur_per_mwh' and 'eur_per_kwh'; expected one price column")
    return found[0] if found else "eur_per_mwh"


def read_price_file(path: str | Path, tz: str, max_eur_per_kwh: float) -> tuple[SeriesFile, str]:
    """The checked price series with its column converted to EUR/kWh (key ``eur_per_kwh``), and the column's
    name in the file. ScenarioError naming file, line and column: a missing column or one in another unit, a
    value that is not a number, times out of order, repeated or with a gap, a price above ``max_eur_per_kwh``."""
    path = Path(path)
    column = price_column(path)
    what = ("day-ahead or retail price [EUR/MWh]; or a column 'eur_per_kwh' [EUR/kWh]" if column == "eur_per_mwh"
            else "price [EUR/kWh]")
    series = read_series(path, {column: (what, OTHER_UNITS)}, kind=KIND, tz=tz, stamp="start")
    eur_per_kwh = series.columns[column] * UNITS[column]
    high = eur_per_kwh > max_eur_per_kwh
    if high.any():
        i = int(np.argmax(high))
        limit = max_eur_per_kwh / UNITS[column]
        raise ScenarioError(f"{path}: {line_of(read_table(path, KIND), i, path)}: column {column!r}: "
                            f"{series.columns[column][i]:g} is above the highest price the settlement takes "
                            f"({limit:g} {LABELS[column]}); expected a price in {LABELS[column]}")
    return SeriesFile(series.path, series.sha256, series.starts, series.step_s, {"eur_per_kwh": eur_per_kwh}), column


def period_starts(scenario) -> pd.DatetimeIndex:
    """Starts of the run's settlement periods (tz-aware, the site's zone)."""
    return run_times(scenario.run, scenario.site)[::scenario.run.settlement_s // scenario.run.step_s]


def file_prices_eur_per_kwh(scenario, max_eur_per_kwh: float, series: SeriesFile | None = None) -> np.ndarray:
    """Each settlement period's price [EUR/kWh]: the time-weighted mean of the file's prices over it (``series``:
    the file already read). ScenarioError unless the file is good (``read_price_file``) and covers every period."""
    if series is None:
        series, _ = read_price_file(scenario.prices.price_file, scenario.site.tz, max_eur_per_kwh)
    starts, settlement_s = period_starts(scenario), scenario.run.settlement_s
    first, end = series.starts[0], series.starts[-1] + pd.Timedelta(seconds=series.step_s)
    need_end = starts[-1] + pd.Timedelta(seconds=settlement_s)
    if first > starts[0] or end < need_end:
        raise ScenarioError(f"{series.path}: prices from {first.tz_convert(starts.tz).isoformat()} to "
                            f"{end.tz_convert(starts.tz).isoformat()}; the run settles from "
                            f"{starts[0].isoformat()} to {need_end.isoformat()}: expected a file covering every "
                            "settlement period of the run")
    return series.on(starts, settlement_s)["eur_per_kwh"]


def file_prices_ueur(scenario, max_eur_per_kwh: float) -> tuple[np.ndarray, int]:
    """Each period's price [µEUR/kWh] as the buyer publishes it (at least ``MIN_PRICE_UEUR_PER_KWH``), and how
    many periods were raised to that floor (a mean price below it: negative or zero day-ahead prices)."""
    ueur = np.round(file_prices_eur_per_kwh(scenario, max_eur_per_kwh) * 1e6)
    floored = ueur < MIN_PRICE_UEUR_PER_KWH
    return np.where(floored, MIN_PRICE_UEUR_PER_KWH, ueur).astype(np.int64), int(floored.sum())


def file_summary(scenario, published_ueur: np.ndarray) -> dict:
    """The price file's provenance and what became of its prices, for the run's summary: the periods whose mean
    price was below the settlement's floor and were paid ``MIN_PRICE_UEUR_PER_KWH`` instead."""
    series, column = read_price_file(scenario.prices.price_file, scenario.site.tz, float("inf"))
    means = np.round(file_prices_eur_per_kwh(scenario, float("inf"), series) * 1e6)
    return {
        "path": str(series.path),
        "sha256": series.sha256,
        "column": column,
        "step_s": series.step_s,
        "periods_raised_to_floor": int((means < MIN_PRICE_UEUR_PER_KWH).sum()),
        "floor_ueur_per_kwh": MIN_PRICE_UEUR_PER_KWH,
        "mean_published_eur_per_kwh": float(np.mean(published_ueur)) / 1e6,
    }


def check(scenario, max_eur_per_kwh: float) -> None:
    """Validation reads the file: ``gridledger validate`` accepting it means the run starts (raises ValueError
    naming ``prices.price_file``)."""
    try:
        file_prices_eur_per_kwh(scenario, max_eur_per_kwh)
    except ScenarioError as exc:
        raise ValueError(f"prices.price_file: {exc}") from None
