"""Weather from files, offline: EPW, TMY3 and PVGIS TMY through pvlib's readers, or the CSV/Parquet layout of
docs/your_data.md (``time``, ``ghi``, ``dni``, ``dhi`` [W/m2], ``temp_air`` [degC], ``wind_speed`` [m/s],
optional ``pressure`` [Pa]).

Every format becomes the same thing: one row per interval, stamped at the interval's *start* in UTC, the values
means over the interval. How each format's stamps are read (docs/your_data.md):

* TMY3 (``read_tmy3``): hour-ending local standard time (the row stamped 01:00 holds midnight to 1 am): start =
  stamp - 1 h, in the file's fixed UTC offset (its header's ``TZ``), never daylight saving time.
* EPW (``read_epw``): hour ``h`` (1..24) holds the hour ending at ``h``:00 local standard time; pvlib's index is
  already its start (``h - 1``), in the header's fixed offset.
* PVGIS TMY (``read_pvgis_tmy``, CSV or JSON): ``time(UTC)`` ``YYYYMMDD:HH00`` is the start of the hour in UTC.
  PVGIS's irradiance is a satellite value of that hour (its "irradiance time offset", minutes into the hour,
  is reported in the file's head); it is taken as the mean of the hour that starts at the stamp.
* CSV/Parquet: ``time`` ISO 8601 with its offset (or naive in the site's time zone), the interval's start
  (``stamp = "end"``: its end).

A typical year (``coerce_year``): its months come from different years, so every row's year is set to
``coerce_year`` (in the file's own clock: the UTC offset of its stamps); the rows must then be one whole year,
1 January 00:00 to 31 December 24:00, and that year is laid onto every year the run touches, day by day on the
same month and day: 29 February of a leap run year takes the file's 29 February, or its 28 February if it has
none; a file's 29 February is skipped in other years (and needs a leap ``coerce_year``).

Onto the run's steps by time-weighted interval means (``sim.files.series.interval_means``): the irradiation
[Wh/m2] over any span is kept exactly; a step finer than the file's repeats the file's mean.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib

from grid_models.weather import RECORD_FIELDS, Weather, at_site, given_weather
from sim.files.series import (
    checked_path,
    covers,
    file_sha256,
    interval_means,
    numeric_column,
    parse_times,
    read_table,
    regular_step_s,
)
from sim.schema import ScenarioError

FORMATS = ("epw", "tmy3", "pvgis_tmy", "csv")
PVLIB_PREFIX = "pvlib:"  # a file of pvlib's bundled data folder, e.g. "pvlib:723170TYA.CSV"
KIND = "weather"
FIELDS = (*RECORD_FIELDS, "pressure")
WHAT = {"ghi": "global horizontal irradiance [W/m2]", "dni": "direct normal irradiance [W/m2]",
        "dhi": "diffuse horizontal irradiance [W/m2]", "temp_air": "air temperature [degC]",
        "wind_speed": "wind speed at 10 m [m/s]", "pressure": "air pressure [Pa]"}
OTHER_UNITS = {**{k: (f"{k}_kw_m2", f"{k}_wh_m2", f"{k}_kwh_m2", f"{k}_j_cm2") for k in ("ghi", "dni", "dhi")},
               "temp_air": ("temp_air_k", "temp_air_f", "temp_air_kelvin", "temp_air_fahrenheit"),
               "wind_speed": ("wind_speed_km_h", "wind_speed_kmh", "wind_speed_kn", "wind_speed_mph"),
               "pressure": ("pressure_hpa", "pressure_mbar", "pressure_kpa", "pressure_bar")}
# plausible values, and what a value outside says about the unit
RANGES = {"ghi": (-20.0, 1500.0, "W/m2 (kW/m2 would be 1000 times smaller, Wh per longer interval larger)"),
          "dni": (-20.0, 1500.0, "W/m2"), "dhi": (-20.0, 1500.0, "W/m2"),
          "temp_air": (-90.0, 60.0, "degC (kelvin would be about 273 higher, Fahrenheit higher too)"),
          "wind_speed": (0.0, 75.0, "m/s (km/h would be 3.6 times larger)"),
          "pressure": (30_000.0, 110_000.0, "Pa (hPa or mbar would be 100 times smaller)")}
# the file's own column names (pvlib's readers, map_variables=False) and their scale to our units
NATIVE = {"tmy3": ({"ghi": "GHI (W/m^2)", "dni": "DNI (W/m^2)", "dhi": "DHI (W/m^2)", "temp_air": "Dry-bulb (C)",
                    "wind_speed": "Wspd (m/s)", "pressure": "Pressure (mbar)"}, {"pressure": 100.0}),
          "epw": ({k: {"pressure": "atmospheric_pressure"}.get(k, k) for k in FIELDS}, {}),
          "pvgis_tmy": ({"ghi": "G(h)", "dni": "Gb(n)", "dhi": "Gd(h)", "temp_air": "T2m", "wind_speed": "WS10m",
                         "pressure": "SP"}, {}),
          "csv": ({k: k for k in FIELDS}, {})}


def pvlib_data_dir() -> Path:
    return Path(pvlib.__file__).parent / "data"


def weather_path(file: str) -> Path:
    """The file a ``[weather] file`` value names: ``pvlib:<name>`` in pvlib's data folder, else the path."""
    if file.startswith(PVLIB_PREFIX):
        name = file[len(PVLIB_PREFIX):]
        if not name or "/" in name or "\\" in name or name.startswith("."):
            raise ScenarioError(f"{file!r}: expected 'pvlib:<file name>' of pvlib's data folder, e.g. "
                                "'pvlib:723170TYA.CSV'")
        return pvlib_data_dir() / name
    return Path(file)


def infer_format(path: Path) -> str:
    """The format of a weather file from its suffix and first line."""
    suffix = path.suffix.lower()
    if suffix == ".epw":
        return "epw"
    if suffix == ".json":
        return "pvgis_tmy"
    if suffix in (".parquet", ".pq"):
        return "csv"
    if suffix == ".csv":
        with open(checked_path(path, KIND), "rb") as f:
            head = [f.readline().decode("utf-8", "replace") for _ in range(2)]
        if head[0].startswith("Latitude"):
            return "pvgis_tmy"
        if head[1].startswith("Date (MM/DD/YYYY)"):
            return "tmy3"
        return "csv"
    raise ScenarioError(f"{path}: cannot tell the weather file's format from its suffix {suffix or '(none)'!r}; "
                        f"give [weather] format, one of {', '.join(FORMATS)}")


@dataclass(frozen=True)
class WeatherFile:
    """A checked weather file: interval starts (UTC, after ``coerce_year``), its step [s], the values in our units,
    each row's line in the file, the place the file gives (None: a CSV names none) and how its years repeat."""

    path: Path
    sha256: str
    format: str
    starts: pd.DatetimeIndex
    step_s: int
    columns: dict[str, np.ndarray]
    lines: np.ndarray
    clock_offset_s: int  # the UTC offset of the file's stamps (its own clock) [s]
    typical_year: int | None  # coerce_year, or None: the file's own dates
    place: tuple[float, float, float] | None  # lat, lon, altitude [m]

    def mapped(self, start: pd.Timestamp, end: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
        """Interval starts [epoch s] and the file rows (indices) of a regular series covering ``[start, end)``:
        the file itself, or its typical year laid onto every year the span touches (module docstring)."""
        src = self.starts.asi8 // 10**9
        if self.typical_year is None:
            covers(self.starts, self.step_s, start, end, self.path)
            return src, np.arange(len(src))
        off = pd.Timedelta(seconds=self.clock_offset_s)
        local = self.starts.tz_convert(None) + off
        spd = 86_400 // self.step_s
        days = local[::spd]
        day_of = {(d.month, d.day): i for i, d in enumerate(days)}
        rows = np.arange(len(src)).reshape(-1, spd)
        t, idx = [], []
        first = (start.tz_convert("UTC").tz_convert(None) + off).year
        last = (end.tz_convert("UTC").tz_convert(None) + off - pd.Timedelta(seconds=1)).year
        for year in range(first, last + 1):
            dates = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
            keys = [(d.month, d.day) if (d.month, d.day) in day_of else (2, 28) for d in dates]
            idx.append(rows[[day_of[k] for k in keys]].ravel())
            t0 = int((pd.Timestamp(f"{year}-01-01") - off).tz_localize("UTC").timestamp())
            t.append(t0 + np.arange(len(dates) * spd) * self.step_s)
        return np.concatenate(t), np.concatenate(idx)

    def on(self, run_times: pd.DatetimeIndex, run_step_s: int) -> dict[str, np.ndarray]:
        """Each column's means over the run's intervals (starts ``run_times``, tz-aware)."""
        end = run_times[-1] + pd.Timedelta(seconds=run_step_s)
        src, idx = self.mapped(run_times[0], end)
        dst = pd.DatetimeIndex(run_times).asi8 // 10**9
        return {k: interval_means(src, self.step_s, v[idx], dst, run_step_s) for k, v in self.columns.items()}

    def rows_for(self, start: pd.Timestamp, end: pd.Timestamp) -> list[dict]:
        """The file's rows an interval ``[start, end)`` was averaged from: line, the row's interval start (UTC, as
        mapped onto the run), the share of the interval it fills and its values."""
        src, idx = self.mapped(start, end)
        a, b = start.timestamp(), end.timestamp()
        out = []
        for s, i in zip(src, idx, strict=True):
            overlap = min(b, s + self.step_s) - max(a, s)
            if overlap > 0:
                out.append({"line": int(self.lines[i]),
                            "start_utc": pd.Timestamp(int(s), unit="s", tz="UTC").isoformat(),
                            "share": float(overlap / (b - a)), **{k: float(v[i]) for k, v in self.columns.items()}})
        return out


def _pvlib_read(path: Path, fmt: str):
    """pvlib's reader of ``fmt``: (table with the file's column names, interval starts (tz-aware), clock offset
    [s], place, the file line of the first row)."""
    try:
        if fmt == "tmy3":
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=False)
            # hour-ending stamps, from the file's own date and time (pvlib's index moves a 24:00 on 28 February of
            # a leap year to 1 March)
            hhmm = data["Time (HH:MM)"].str.split(":", expand=True).astype(int)
            ending = (pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
                      + pd.to_timedelta(hhmm[0], unit="h") + pd.to_timedelta(hhmm[1], unit="min"))
            offset_s = int(meta["TZ"] * 3600)
            starts = pd.DatetimeIndex(ending - pd.Timedelta(hours=1)).tz_localize(offset_s)
            return data, starts, offset_s, meta, 3
        if fmt == "epw":
            data, meta = pvlib.iotools.read_epw(path)
            return data, data.index, int(meta["TZ"] * 3600), meta, 9  # index: hour - 1, the start
        data, meta = pvlib.iotools.read_pvgis_tmy(path, map_variables=False)
        inputs = meta["inputs"]
        lat, lon = (inputs["latitude"], inputs["longitude"]) if "latitude" in inputs else (
            inputs["location"]["latitude"], inputs["location"]["longitude"])
        alt = inputs.get("elevation", inputs.get("location", {}).get("elevation", 0.0))
        first = None  # JSON: rows of outputs.tmy_hourly
        if path.suffix.lower() == ".csv":
            with open(path, "rb") as f:
                first = next(n for n, line in enumerate(f, start=1) if line.startswith(b"time(UTC)")) + 1
        return data, data.index, 0, {"latitude": lat, "longitude": lon, "altitude": alt}, first
    except Exception as exc:  # pvlib's readers raise anything on a malformed file
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ScenarioError(f"{path}: not a readable {fmt} weather file (pvlib's reader: {msg})") from None


def _coerced(starts: pd.DatetimeIndex, offset_s: int, year: int, table: pd.DataFrame, path: Path) -> pd.DatetimeIndex:
    """``starts`` with every year set to ``year`` in the file's clock (UTC + ``offset_s``)."""
    from sim.files.series import line_of

    local = pd.DatetimeIndex(starts).tz_convert("UTC").tz_convert(None) + pd.Timedelta(seconds=offset_s)
    feb29 = np.asarray((local.month == 2) & (local.day == 29))
    if feb29.any() and not calendar.isleap(year):
        i = int(np.argmax(feb29))
        raise ScenarioError(f"{path}: {line_of(table, i, path)}: a row on 29 February; coerce_year {year} is not a "
                            "leap year (choose a leap coerce_year for a file with 29 February)")
    days = pd.to_datetime(pd.DataFrame({"year": year, "month": local.month, "day": local.day}))
    out = pd.DatetimeIndex(days) + (local - local.normalize()) - pd.Timedelta(seconds=offset_s)
    return out.tz_localize("UTC")


def _check_values(name: str, values: np.ndarray, table: pd.DataFrame, path: Path, column: str) -> None:
    from sim.files.series import line_of

    lo, hi, unit = RANGES[name]
    bad = (values < lo) | (values > hi)
    if bad.any():
        i = int(np.argmax(bad))
        raise ScenarioError(f"{path}: {line_of(table, i, path)}: column {column!r}: {values[i]:g} is outside "
                            f"[{lo:g}, {hi:g}]; expected {WHAT[name]} in {unit}")
    if name == "ghi" and len(values) >= 24 and 0 < values.max() <= 2.0:
        raise ScenarioError(f"{path}: column {column!r}: every value is at most {values.max():g}; expected "
                            f"{WHAT[name]}, not kW/m2")


def read_weather(file: str, fmt: str | None = None, *, coerce_year: int | None = None, tz: str | None = None,
                 stamp: str = "start") -> WeatherFile:
    """A checked ``WeatherFile``; ScenarioError naming the file, line or column and what was expected. ``tz``: the
    zone of a CSV's naive times; ``stamp``: whether a CSV's time is its interval's start or end."""
    path = checked_path(weather_path(file), KIND)
    fmt = fmt or infer_format(path)
    return _read_cached(str(path), path.stat().st_mtime_ns, path.stat().st_size, fmt, coerce_year, tz, stamp)


@functools.lru_cache(maxsize=8)
def _read_cached(path_s: str, _mtime: int, _size: int, fmt: str, coerce_year: int | None, tz: str | None,
                 stamp: str) -> WeatherFile:
    path = Path(path_s)
    names, scale = NATIVE[fmt]
    if fmt == "csv":
        table = read_table(path, KIND)
        starts = parse_times(table, path, tz=tz)
        first = str(table["time"].iloc[0]).strip() if "time" in table else ""
        t0 = pd.Timestamp(first) if first else starts[0]
        offset = t0.utcoffset() if t0.tzinfo is not None else (starts[0].tz_convert(tz).utcoffset() if tz else None)
        offset_s = int(offset.total_seconds()) if offset is not None else 0
        place = None
    else:
        table, starts, offset_s, meta, first_line = _pvlib_read(path, fmt)
        table = table.reset_index(drop=True)
        if first_line is not None:
            table.attrs["first_data_line"] = first_line
        place = (float(meta["latitude"]), float(meta["longitude"]), float(meta["altitude"]))
    columns = {}
    for k in FIELDS:
        if k == "pressure" and names[k] not in table.columns:
            continue  # optional
        values = numeric_column(table, names[k], path, what=WHAT[k], alternatives=OTHER_UNITS[k]) * scale.get(k, 1.0)
        _check_values(k, values, table, path, names[k])
        columns[k] = values
    starts = pd.DatetimeIndex(starts).tz_convert("UTC")
    if coerce_year is not None:
        starts = _coerced(starts, offset_s, coerce_year, table, path)
    try:
        step_s = regular_step_s(starts, table, path)
    except ScenarioError as exc:
        typical = coerce_year is None and fmt != "csv"
        hint = " (a typical year's months come from different years: set coerce_year)" if typical else ""
        raise ScenarioError(f"{exc}{hint}") from None
    if fmt == "csv" and stamp == "end":
        starts = starts - pd.Timedelta(seconds=step_s)
    if coerce_year is not None:
        _whole_year(starts, step_s, offset_s, coerce_year, path)
    lines = np.arange(len(starts)) + table.attrs.get("first_data_line", 2 if path.suffix.lower() == ".csv" else 1)
    return WeatherFile(path, file_sha256(path), fmt, starts, step_s, columns, lines, offset_s, coerce_year, place)


def _whole_year(starts: pd.DatetimeIndex, step_s: int, offset_s: int, year: int, path: Path) -> None:
    off = pd.Timedelta(seconds=offset_s)
    first, end = starts[0] + off, starts[-1] + off + pd.Timedelta(seconds=step_s)
    want = pd.Timestamp(f"{year}-01-01", tz="UTC"), pd.Timestamp(f"{year + 1}-01-01", tz="UTC")
    if 86_400 % step_s or (first, end) != want:
        raise ScenarioError(
            f"{path}: with coerce_year = {year} the file is a typical year: one whole year of intervals of a step "
            f"that divides a day, {year}-01-01 00:00 to {year}-12-31 24:00 in its clock (UTC{offset_s / 3600:+g} h); "
            f"it covers {first.tz_localize(None)} to {end.tz_localize(None)} in steps of {step_s} s")


def load(spec, site) -> WeatherFile:
    """The weather file of a ``WeatherSpec`` (``spec.file`` set), read for a run at ``site`` (``SiteSpec``)."""
    return read_weather(spec.file, spec.format, coerce_year=spec.coerce_year, tz=site.tz, stamp=spec.stamp)


def check(spec, site, times: pd.DatetimeIndex, step_s: int) -> WeatherFile:
    """Read the file and check it covers the run (``times``: its steps' starts); what ``validate`` runs."""
    wf = load(spec, site)
    wf.mapped(times[0], times[-1] + pd.Timedelta(seconds=step_s))
    return wf


def file_weather(spec, site, times: pd.DatetimeIndex, step_s: int) -> Weather:
    """The run's weather at the site from the file: the file's values averaged onto the run's steps, at the file's
    place (a CSV's: the site's) exactly as given; at a site elsewhere, ``at_site`` (its own sun under the file's
    clear-sky index)."""
    wf = load(spec, site)
    cols = wf.on(times, step_s)
    lat, lon, alt = wf.place or (site.lat, site.lon, site.altitude_m)
    given = given_weather(times, **{k: cols[k] for k in RECORD_FIELDS}, lat=lat, lon=lon, altitude_m=alt,
                          file_sha256=wf.sha256)
    return at_site(given, lat=site.lat, lon=site.lon, altitude_m=site.altitude_m)


def provenance(spec, site) -> dict:
    """The manifest's ``weather`` block: the file, its sha256, format, typical year and place."""
    wf = load(spec, site)
    return {"file": spec.file, "path": str(wf.path), "sha256": wf.sha256, "format": wf.format, "stamp": spec.stamp,
            "coerce_year": wf.typical_year, "step_s": wf.step_s, "rows": len(wf.starts),
            "place": None if wf.place is None else dict(zip(("lat", "lon", "altitude_m"), wf.place, strict=True))}



def normals(spec, site) -> dict:
    """What the weather file says of the site's climate, for what is forecast from climate alone (the VPP's
    day-ahead net-load forecast, the heat demand's reference year): ``annual_cycle`` (keyword arguments of
    ``grid_models.climate.annual_cycle_temp_c``: the file's twelve monthly mean temperatures [degC] in the site's
    local months; the default cycle if the file does not hold every month), ``daily_temp_swing_c`` (the mean
    difference of each local day's warmest and coldest interval [K]), ``mean_wind_speed_m_per_s`` and
    ``mean_clear_sky_index`` (the file's irradiation over the clear sky's at its place, energy-weighted [1])."""
    from grid_models.climate import DEFAULT_ANNUAL_TEMP_AMPLITUDE_C, DEFAULT_MEAN_TEMP_C, coldest_day
    from grid_models.weather import clear_sky

    wf = load(spec, site)
    local = wf.starts.tz_convert(site.tz)
    temp = pd.Series(wf.columns["temp_air"], index=local)
    monthly = temp.groupby(local.month).mean()
    cycle = dict(mean_temp_c=DEFAULT_MEAN_TEMP_C, annual_temp_amplitude_c=DEFAULT_ANNUAL_TEMP_AMPLITUDE_C,
                 coldest_day_of_year=coldest_day(site.lat),
                 monthly_mean_temp_c=[float(monthly[m]) for m in range(1, 13)] if len(monthly) == 12 else None)
    daily = temp.groupby(local.date)
    lat, lon, alt = wf.place or (site.lat, site.lon, site.altitude_m)
    ghi_clear = clear_sky(wf.starts, lat=lat, lon=lon, altitude_m=alt)["ghi_clear"]
    return dict(annual_cycle=cycle, daily_temp_swing_c=float((daily.max() - daily.min()).mean()),
                mean_wind_speed_m_per_s=float(np.mean(wf.columns["wind_speed"])),
                mean_clear_sky_index=float(np.sum(wf.columns["ghi"]) / np.sum(ghi_clear)))
