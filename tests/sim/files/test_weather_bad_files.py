"""A weather file that cannot serve the run is refused when the scenario is read, naming the file, the line or
column and what was expected: one test per case, through ``[weather] file``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.files.weather import pvlib_data_dir
from sim.scenario import validate_scenario

BERLIN = dict(lat=52.5, lon=13.4, tz="Europe/Berlin", altitude_m=34.0)


def rows(n=72, start="2025-06-01T00:00+02:00") -> pd.DataFrame:
    t = pd.date_range(pd.Timestamp(start), periods=n, freq="h")
    i = np.arange(n, dtype=float)
    return pd.DataFrame({"time": [x.isoformat() for x in t], "ghi": i % 24 * 30, "dni": i % 24 * 20,
                         "dhi": i % 24 * 10, "temp_air": 15.0, "wind_speed": 3.0})


def validate(tmp_path, table: pd.DataFrame | None, weather=None, start="2025-06-01T00:00:00", days=2):
    if table is not None:
        table.to_csv(tmp_path / "w.csv", index=False)
    data = {"run": {"name": "w", "start": pd.Timestamp(start).to_pydatetime(), "duration_s": days * 86400,
                    "step_s": 3600, "settlement_s": 3600},
            "site": BERLIN, "weather": weather or {"file": "w.csv"}}
    return validate_scenario(data, base_dir=tmp_path, source="s.toml")


def refused(tmp_path, table, pattern, **kw):
    with pytest.raises(ValueError, match=pattern):
        validate(tmp_path, table, **kw)


def test_the_good_file_is_taken(tmp_path):
    assert validate(tmp_path, rows()).weather.format == "csv"


def test_missing_column(tmp_path):
    refused(tmp_path, rows().drop(columns="dhi"), r"s.toml: <top>: weather.file: .*w.csv: no column 'dhi' "
            r"\(diffuse horizontal irradiance \[W/m2\]\); found 'time', 'ghi', 'dni', 'temp_air', 'wind_speed'")


def test_wrong_unit_by_name_kw_m2(tmp_path):
    refused(tmp_path, rows().rename(columns={"ghi": "ghi_kw_m2"}),
            r"w.csv: no column 'ghi' \(global horizontal irradiance \[W/m2\]\); found 'ghi_kw_m2', which is not in "
            "the unit expected")


def test_wrong_unit_by_name_kelvin(tmp_path):
    refused(tmp_path, rows().rename(columns={"temp_air": "temp_air_k"}),
            r"w.csv: no column 'temp_air' \(air temperature \[degC\]\); found 'temp_air_k'")


def test_wrong_unit_by_value_kelvin(tmp_path):
    t = rows()
    t["temp_air"] = 288.15
    refused(tmp_path, t, r"w.csv: line 2: column 'temp_air': 288.15 is outside \[-90, 60\]; expected air "
            r"temperature \[degC\] in degC \(kelvin would be about 273 higher")


def test_wrong_unit_by_value_kw_m2(tmp_path):
    t = rows()
    t["ghi"] = t["ghi"] / 1000
    refused(tmp_path, t, r"w.csv: column 'ghi': every value is at most 0.69; expected global horizontal "
            r"irradiance \[W/m2\], not kW/m2")


def test_gap(tmp_path):
    refused(tmp_path, rows().drop(index=30),
            r"w.csv: line 32: time 2025-06-02T05:00:00\+00:00 is 7200 s after the row before, the file's step is "
            "3600 s; expected equally spaced rows")


def test_non_monotonic_time(tmp_path):
    t = rows()
    t.loc[[10, 11], "time"] = t.loc[[11, 10], "time"].to_numpy()
    refused(tmp_path, t, r"w.csv: line 13: time 2025-06-01T08:00:00\+00:00 goes back from the row before "
            r"\(2025-06-01T09:00:00\+00:00\); expected strictly increasing times\n")


def test_nan(tmp_path):
    t = rows()
    t.loc[20, "dni"] = np.nan
    refused(tmp_path, t, r"w.csv: line 22: column 'dni': an empty or NaN value is not a number \(direct normal irradiance \[W/m2\]\)")


def test_a_year_that_does_not_cover_the_run(tmp_path):
    refused(tmp_path, rows(start="2024-06-01T00:00+02:00"),
            r"w.csv: covers 2024-05-31T22:00:00\+00:00 to 2024-06-03T22:00:00\+00:00; the run needs "
            r"2025-06-01T00:00:00\+02:00 to 2025-06-03T00:00:00\+02:00 \(for a typical year, set coerce_year\)")


def test_a_typical_year_without_coerce_year(tmp_path):
    refused(tmp_path, None, r"723170TYA.CSV: line 1419: time 1990-03-01T05:00:00\+00:00 goes back .* set coerce_year",
            weather={"file": "pvlib:723170TYA.CSV"})


def test_coerce_year_on_a_file_that_is_not_a_whole_year(tmp_path):
    refused(tmp_path, rows(), r"w.csv: with coerce_year = 2025 the file is a typical year: one whole year .* it "
            "covers 2025-06-01 00:00:00 to 2025-06-04 00:00:00", weather={"file": "w.csv", "coerce_year": 2025})


def test_a_leap_day_with_a_common_coerce_year(tmp_path):
    t = rows(n=366 * 24, start="2024-01-01T00:00+00:00")
    refused(tmp_path, t, r"w.csv: line 1418: a row on 29 February; coerce_year 2025 is not a leap year",
            weather={"file": "w.csv", "coerce_year": 2025})
    assert validate(tmp_path, t, weather={"file": "w.csv", "coerce_year": 2024}).weather.coerce_year == 2024


def test_no_such_file_and_an_unknown_format(tmp_path):
    refused(tmp_path, None, r"s.toml: weather: file: .*nothere.csv: no such weather file", weather={"file": "nothere.csv"})
    (tmp_path / "w.txt").write_text("x")
    refused(tmp_path, None, r"cannot tell the weather file's format from its suffix '.txt'",
            weather={"file": "w.txt"})
    refused(tmp_path, None, r"pvlib:../x.*expected 'pvlib:<file name>'", weather={"file": "pvlib:../x"})


def test_a_malformed_epw(tmp_path):
    (tmp_path / "w.epw").write_text("LOCATION,x\nnot an epw\n")
    refused(tmp_path, None, r"w.epw: not a readable epw weather file \(pvlib's reader: ", weather={"file": "w.epw"})


def test_nan_in_a_tmy3_file_names_its_line(tmp_path):
    lines = (pvlib_data_dir() / "723170TYA.CSV").read_text().splitlines()
    fields = lines[100].split(",")
    fields[4] = ""  # GHI of the 98th row
    lines[100] = ",".join(fields)
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    refused(tmp_path, None, r"t.csv: line 101: column 'GHI \(W/m\^2\)': an empty or NaN value is not a number",
            weather={"file": "t.csv", "coerce_year": 1990})
