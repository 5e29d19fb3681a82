"""Time series from CSV or Parquet files: read, checked and averaged onto the run's steps.

Layout (docs/your_data.md): one row per interval, a ``time`` column and value columns whose names carry their
unit. A time is the interval's start (``stamp = "start"``) or its end (``"end"``), ISO 8601 with its UTC offset
(``2025-06-01T00:00+02:00``, ``...Z``) or naive in a time zone the scenario names. Rows are strictly increasing in
time, equally spaced (one step, any length), with no empty or NaN value. Values are means over their interval
(power [kW], irradiance [W/m2], prices [EUR/MWh]); ``interval_means`` turns them into means over other intervals
by the time-weighted average, so the energy of a power series over any span the file covers is kept exactly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.schema import ScenarioError
from sim.schema import checked_path as schema_checked_path

try:  # what pandas 2 raises for a naive time that happens twice or never in a zone (not a ValueError)
    from pytz.exceptions import InvalidTimeError
except ImportError:  # pragma: no cover - pandas 3 without pytz raises ValueError
    InvalidTimeError = ValueError

MAX_DATA_BYTES = 1024 * 2**20  # a series file larger than this is refused before it is read
SUFFIXES = (".csv", ".parquet", ".pq")


def file_sha256(path: Path) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checked_path(path: Path, kind: str) -> Path:
    """``path`` if it is a readable regular file of at most ``MAX_DATA_BYTES``; else ScenarioError naming it."""
    return schema_checked_path(path, kind, MAX_DATA_BYTES)


def read_table(path: Path, kind: str) -> pd.DataFrame:
    """A CSV (UTF-8, comma-separated, one header line) or Parquet file as a frame of strings/numbers."""
    path = checked_path(path, kind)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8", dtype={"time": str}, skipinitialspace=True)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {exc.start}); CSV files are UTF-8") from None
    except (ValueError, OSError, pd.errors.ParserError) as exc:  # malformed CSV, not Parquet
        raise ScenarioError(f"{path}: not a readable {suffix[1:]} {kind} file: {str(exc).splitlines()[0]}") from None
    raise ScenarioError(f"{path}: a {kind} file is .csv or .parquet, got {suffix or 'no suffix'!r}")


def line_of(table: pd.DataFrame, row: int, path: Path) -> str:
    """Where row ``row`` (0-based) of a table is in its file: ``line N`` of a CSV (the header is line 1; a table
    read from a file with a longer head says where its first row is: ``table.attrs["first_data_line"]``), else
    ``row N``."""
    if "first_data_line" in table.attrs:
        return f"line {row + table.attrs['first_data_line']}"
    return f"line {row + 2}" if path.suffix.lower() == ".csv" else f"row {row + 1}"


def parse_times(table: pd.DataFrame, path: Path, *, tz: str | None, column: str = "time") -> pd.DatetimeIndex:
    """The ``time`` column as tz-aware instants: offsets as written, naive times in ``tz``."""
    if column not in table.columns:
        raise ScenarioError(f"{path}: no column {column!r} (found {', '.join(map(str, table.columns)) or 'none'}); "
                            f"expected the interval's time, ISO 8601 with its UTC offset")
    raw = table[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        times = pd.DatetimeIndex(raw)
    else:
        text = raw.astype(str).str.strip()
        bad = pd.to_datetime(text, errors="coerce", utc=True, format="ISO8601").isna().to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise ScenarioError(f"{path}: {line_of(table, i, path)}: column {column!r}: {text.iloc[i]!r} is not an "
                                "ISO 8601 time (e.g. 2025-06-01T00:00+02:00)")
        aware = text.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True).to_numpy()
        if aware.any() and not aware.all():
            i = int(np.argmax(aware != aware[0]))
            raise ScenarioError(f"{path}: {line_of(table, i, path)}: column {column!r}: {text.iloc[i]!r} mixes times "
                                "with and without a UTC offset; give every time its offset")
        parsed = pd.to_datetime(text, utc=bool(aware.any()), format="ISO8601")
        times = pd.DatetimeIndex(parsed)
    if times.tz is None:
        if tz is None:
            raise ScenarioError(f"{path}: column {column!r}: times without a UTC offset; give each its offset "
                                "(2025-06-01T00:00+02:00) or name the file's time zone in the scenario (tz = ...)")
        try:
            times = times.tz_localize(tz, ambiguous="raise", nonexistent="raise")
        except (ValueError, InvalidTimeError, pd.errors.OutOfBoundsDatetime) as exc:
            raise ScenarioError(f"{path}: column {column!r}: {exc} in {tz} (a naive time that does not exist or "
                                "happens twice there; give times with their UTC offset)") from None
    return times.tz_convert("UTC")


def regular_step_s(times: pd.DatetimeIndex, table: pd.DataFrame, path: Path) -> int:
    """The one step [s] between consecutive times; ScenarioError at the first row out of order, repeated or off
    the step (a gap)."""
    if len(times) < 2:
        raise ScenarioError(f"{path}: {len(times)} row(s); a series needs at least two intervals")
    ns = np.diff(times.asi8)
    back = ns <= 0
    if back.any():
        i = int(np.argmax(back)) + 1
        what = "repeats" if ns[i - 1] == 0 else "goes back from"
        raise ScenarioError(f"{path}: {line_of(table, i, path)}: time {times[i].isoformat()} {what} the row before "
                            f"({times[i - 1].isoformat()}); expected strictly increasing times")
    step_ns = int(ns[0])
    off = ns != step_ns
    if off.any():
        i = int(np.argmax(off)) + 1
        raise ScenarioError(f"{path}: {line_of(table, i, path)}: time {times[i].isoformat()} is "
                            f"{ns[i - 1] / 1e9:g} s after the row before, the file's step is {step_ns / 1e9:g} s; "
                            "expected equally spaced rows (a gap or an irregular stamp)")
    if step_ns % 10**9:
        raise ScenarioError(f"{path}: step {step_ns / 1e9} s; expected a whole number of seconds")
    return step_ns // 10**9


def numeric_column(table: pd.DataFrame, column: str, path: Path, *, what: str,
                   alternatives: Sequence[str] = ()) -> np.ndarray:
    """Column ``column`` as float64; ScenarioError if missing (naming columns in other units found), not numeric
    or empty/NaN/infinite at some line."""
    if column not in table.columns:
        others = [c for c in alternatives if c in table.columns]
        hint = (f"; found {', '.join(map(repr, others))}, which is not in the unit expected" if others else
                f"; found {', '.join(map(repr, map(str, table.columns)))}")
        raise ScenarioError(f"{path}: no column {column!r} ({what}){hint}")
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        cell = table[column].iloc[i]
        shown = ("an empty or NaN value" if pd.isna(cell)
                 else repr(cell.item() if isinstance(cell, np.generic) else cell))
        raise ScenarioError(f"{path}: {line_of(table, i, path)}: column {column!r}: {shown} is not "
                            f"a number ({what}); expected a finite value in every row")
    return values


COVER_HINT = " (for a typical year, set coerce_year)"


def covers(times: pd.DatetimeIndex, step_s: int, start: pd.Timestamp, end: pd.Timestamp, path: Path,
           hint: str = COVER_HINT) -> None:
    """ScenarioError unless the file's intervals cover ``[start, end)``; ``hint`` ends the message."""
    first, last = times[0], times[-1] + pd.Timedelta(seconds=step_s)
    if first > start or last < end:
        raise ScenarioError(f"{path}: covers {first.isoformat()} to {last.isoformat()}; the run needs "
                            f"{start.isoformat()} to {end.isoformat()}{hint}")


def interval_means(src_start_s: np.ndarray, src_step_s: int, values: np.ndarray, dst_start_s: np.ndarray,
                   dst_step_s: int) -> np.ndarray:
    """Time-weighted means over the intervals ``[t, t + dst_step_s)`` of a series of interval means (``values``,
    shape (n,) or (n, k), on the intervals ``[s, s + src_step_s)``); times in seconds of one epoch. The integral
    of the result equals the source's over any span both cover: a power series keeps its energy exactly."""
    values = np.asarray(values, dtype=float)
    edges = np.append(src_start_s, src_start_s[-1] + src_step_s).astype(float)
    cum = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values * src_step_s, axis=0)])

    def integral(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        if cum.ndim == 1:
            return np.interp(t, edges, cum)
        return np.column_stack([np.interp(t, edges, cum[:, j]) for j in range(cum.shape[1])])

    lo = np.asarray(dst_start_s, dtype=float)
    return (integral(lo + dst_step_s) - integral(lo)) / dst_step_s


@dataclass(frozen=True)
class SeriesFile:
    """A checked series: interval starts (UTC), its step [s], the requested columns (float64) and the file's
    sha256."""

    path: Path
    sha256: str
    starts: pd.DatetimeIndex
    step_s: int
    columns: dict[str, np.ndarray]

    def on(self, run_times: pd.DatetimeIndex, run_step_s: int, hint: str = COVER_HINT) -> dict[str, np.ndarray]:
        """Each column's means over the run's intervals (``run_times``: their starts, tz-aware); the file must
        cover them (``covers``, whose error ends with ``hint``)."""
        end = run_times[-1] + pd.Timedelta(seconds=run_step_s)
        covers(self.starts.tz_convert(run_times.tz), self.step_s, run_times[0], end, self.path, hint)  # run's zone
        src = self.starts.asi8 // 10**9
        dst = pd.DatetimeIndex(run_times).asi8 // 10**9
        return {k: interval_means(src, self.step_s, v, dst, run_step_s) for k, v in self.columns.items()}


def read_series(path: Path, columns: dict[str, tuple[str, Sequence[str]]], *, kind: str, tz: str | None = None,
                stamp: str = "start") -> SeriesFile:
    """A checked ``SeriesFile`` from a CSV/Parquet file. ``columns``: name -> (what it is, with its unit; names of
    the same quantity in other units, named in the error if found instead). ``stamp``: a time is its interval's
    ``"start"`` or ``"end"``."""
    path = Path(path)
    table, starts, step_s = _timed_table(path, kind, tz, stamp)
    values = {name: numeric_column(table, name, path, what=what, alternatives=alts)
              for name, (what, alts) in columns.items()}
    return SeriesFile(path, file_sha256(path), starts, step_s, values)


def _timed_table(path: Path, kind: str, tz: str | None, stamp: str) -> tuple[pd.DataFrame, pd.DatetimeIndex, int]:
    """The table, its interval starts (UTC) and its step [s], checked."""
    table = read_table(path, kind)
    times = parse_times(table, path, tz=tz)
    step_s = regular_step_s(times, table, path)
    return table, (times - pd.Timedelta(seconds=step_s) if stamp == "end" else times), step_s


# a power series is given as mean power over the interval [kW] or as the energy in the interval [kWh]; the same
# quantity in other units is refused, naming the unit expected
POWER, ENERGY = "p_kw", "energy_kwh"
OTHER_POWER_UNITS = ("p_w", "p_mw", "energy_wh", "energy_mwh", "kw", "kwh", "w", "wh", "power_kw", "e_kwh")


def power_column(table: pd.DataFrame, prefix: str, path: Path, *, what: str, step_s: int) -> np.ndarray:
    """The series ``{prefix}p_kw`` (mean power over each interval [kW]) or ``{prefix}energy_kwh`` (the energy
    in each interval [kWh], turned into its mean power), exactly one of them; ScenarioError naming the file, the
    columns expected and any found in another unit."""
    p, e = prefix + POWER, prefix + ENERGY
    have = [c for c in (p, e) if c in table.columns]
    if len(have) == 2:
        raise ScenarioError(f"{path}: both {p!r} and {e!r} ({what}); give one of them")
    if not have:
        others = [prefix + o for o in OTHER_POWER_UNITS if prefix + o in table.columns]
        hint = (f"; found {', '.join(map(repr, others))}, which is not in the unit expected" if others else
                f"; found {', '.join(map(repr, map(str, table.columns)))}")
        raise ScenarioError(f"{path}: no column {p!r} ({what}, mean power over the interval in kW) or {e!r} "
                            f"(the energy in the interval in kWh){hint}")
    values = numeric_column(table, have[0], path, what=what)
    return values if have[0] == p else values * 3600.0 / step_s


def read_power_series(path: Path, keys: Sequence[str], *, kind: str, what: str, tz: str | None = None,
                      stamp: str = "start") -> SeriesFile:
    """A checked ``SeriesFile`` of power [kW] per key: with a column of its own for any key
    (``{key}_p_kw`` / ``{key}_energy_kwh``, or the same in another unit) every key needs one; else one column
    ``p_kw`` / ``energy_kwh`` is every key's. Values must not be negative."""
    path = Path(path)
    table, starts, step_s = _timed_table(path, kind, tz, stamp)
    units = (POWER, ENERGY, *OTHER_POWER_UNITS)
    own = any(f"{k}_{u}" in table.columns for k in keys for u in units)
    values = {}
    for k in keys:
        kw = power_column(table, f"{k}_" if own else "", path, what=f"{what} of {k}" if own else what,
                          step_s=step_s)
        if (kw < 0).any():
            i = int(np.argmax(kw < 0))
            column = next(c for c in (f"{k}_{POWER}", f"{k}_{ENERGY}", POWER, ENERGY) if c in table.columns)
            raise ScenarioError(f"{path}: {line_of(table, i, path)}: column {column!r}: {table[column].iloc[i]!r} "
                                f"is negative; expected {what} of at least 0")
        values[k] = kw
    return SeriesFile(path, file_sha256(path), starts, step_s, values)
