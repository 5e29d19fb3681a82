"""Series files: every bad file is refused naming file, line/column and what was expected; averaging onto the
run's steps keeps a power series' energy (against hand-made series whose totals are known)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.files.series import interval_means, read_series
from sim.schema import ScenarioError

LOAD = {"p_kw": ("household load [kW]", ("p_w", "p_mw"))}


def write(tmp_path, text: str, name: str = "load.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def hourly_csv(values, start="2025-06-01T00:00+02:00", column="p_kw") -> str:
    times = pd.date_range(start, periods=len(values), freq="h")
    return "time," + column + "\n" + "".join(f"{t.isoformat()},{v}\n" for t, v in zip(times, values, strict=True))


def test_a_good_file_reads_with_its_step_and_hash(tmp_path):
    path = write(tmp_path, hourly_csv([1.0, 2.0, 3.0]))
    s = read_series(path, LOAD, kind="load")
    assert s.step_s == 3600 and s.starts[0] == pd.Timestamp("2025-05-31T22:00Z")
    assert s.columns["p_kw"].tolist() == [1.0, 2.0, 3.0] and len(s.sha256) == 64


def test_end_stamps_shift_to_starts(tmp_path):
    s = read_series(write(tmp_path, hourly_csv([1.0, 2.0])), LOAD, kind="load", stamp="end")
    assert s.starts[0] == pd.Timestamp("2025-05-31T21:00Z")


def test_naive_times_take_the_named_zone_and_need_one(tmp_path):
    path = write(tmp_path, "time,p_kw\n2025-01-01 00:00,1\n2025-01-01 01:00,2\n")
    assert read_series(path, LOAD, kind="load", tz="Europe/Berlin").starts[0] == pd.Timestamp("2024-12-31T23:00Z")
    with pytest.raises(ScenarioError, match="without a UTC offset"):
        read_series(path, LOAD, kind="load")


@pytest.mark.parametrize("text, expected", [
    ("time,p_w\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,2\n", r"load.csv: no column 'p_kw'.*found 'p_w'.*unit"),
    ("time,load\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,2\n", r"no column 'p_kw' \(household load \[kW\]\)"),
    ("when,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,2\n", r"no column 'time'"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,\n", r"line 3: column 'p_kw'.*not a number"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,NaN\n", r"line 3: column 'p_kw': an empty or NaN value is not a number"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,x\n", r"line 3: column 'p_kw'.*not a number"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T01:00Z,2\n2025-01-01T03:00Z,2\n",
     r"line 4: .*7200 s after the row before, the file's step is 3600 s"),
    ("time,p_kw\n2025-01-01T01:00Z,1\n2025-01-01T00:00Z,2\n", r"line 3: .*goes back"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01T00:00Z,2\n", r"line 3: .*repeats"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n2025-01-01 01:00,2\n", r"line 3: .*mixes times"),
    ("time,p_kw\n2025-01-01T00:00Z,1\nyesterday,2\n", r"line 3: .*'yesterday' is not an ISO 8601 time"),
    ("time,p_kw\n2025-01-01T00:00Z,1\n", r"at least two intervals"),
])
def test_bad_files_are_refused_naming_file_line_and_expectation(tmp_path, text, expected):
    with pytest.raises(ScenarioError, match=expected):
        read_series(write(tmp_path, text), LOAD, kind="load")


def test_a_naive_time_that_happens_twice_in_the_zone_is_refused_naming_it(tmp_path):
    path = write(tmp_path, "time,p_kw\n2025-10-26 01:00,1\n2025-10-26 02:00,2\n2025-10-26 03:00,2\n")
    with pytest.raises(ScenarioError, match=r"load.csv: column 'time': .*in Europe/Berlin .*give times with their UTC"):
        read_series(path, LOAD, kind="load", tz="Europe/Berlin")


def test_unreadable_files_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no such load file"):
        read_series(tmp_path / "none.csv", LOAD, kind="load")
    with pytest.raises(ScenarioError, match="not a regular file"):
        read_series(tmp_path, LOAD, kind="load")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("time,p_kw,Zähler\n2025-01-01T00:00Z,1,a\n".encode("latin-1"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        read_series(latin, LOAD, kind="load")
    with pytest.raises(ScenarioError, match="is .csv or .parquet"):
        read_series(write(tmp_path, "x", "load.xlsx"), LOAD, kind="load")
    with pytest.raises(ScenarioError, match="not a readable parquet"):
        read_series(write(tmp_path, "not parquet", "load.parquet"), LOAD, kind="load")


def test_parquet_with_datetime_column(tmp_path):
    path = tmp_path / "load.parquet"
    pd.DataFrame({"time": pd.date_range("2025-01-01", periods=4, freq="15min", tz="UTC"),
                  "p_kw": [1.0, 2.0, 3.0, 4.0]}).to_parquet(path)
    s = read_series(path, LOAD, kind="load")
    assert s.step_s == 900 and s.columns["p_kw"].sum() == 10.0


def test_run_outside_the_file_is_refused(tmp_path):
    s = read_series(write(tmp_path, hourly_csv([1.0] * 24)), LOAD, kind="load")
    run = pd.date_range("2025-06-01T12:00+02:00", periods=48, freq="h")
    with pytest.raises(ScenarioError, match=r"covers .* the run needs .*coerce_year"):
        s.on(run, 3600)


def test_means_keep_energy_on_finer_coarser_and_shifted_steps():
    """Hand-made: 1, 2, 3, 4 kW over four hours = 10 kWh; 15-min steps repeat each hour's mean, 2-hour steps
    average pairs, a half-hour shift splits hours — the total over the covered span stays 10 kWh."""
    src = np.arange(4) * 3600
    p_kw = np.array([1.0, 2.0, 3.0, 4.0])
    quarter = interval_means(src, 3600, p_kw, np.arange(16) * 900, 900)
    assert quarter.tolist() == np.repeat(p_kw, 4).tolist() and quarter.sum() * 0.25 == 10.0
    assert interval_means(src, 3600, p_kw, np.array([0, 7200]), 7200).tolist() == [1.5, 3.5]
    shifted = interval_means(src, 3600, p_kw, np.array([1800, 5400, 9000]), 3600)
    assert shifted.tolist() == [1.5, 2.5, 3.5]
    two = interval_means(src, 3600, np.column_stack([p_kw, 2 * p_kw]), np.arange(4) * 3600, 3600)
    assert two.shape == (4, 2) and two[:, 1].tolist() == (2 * p_kw).tolist()
