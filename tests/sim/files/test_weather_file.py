"""Weather from files (sim/files/weather.py): each format's stamps onto interval starts in UTC, typical years laid
onto the run's years (29 February, year boundaries), energy kept on finer steps, the file's place exact, its
sha256 in the record hashes and the manifest; EPW and PVGIS files are written here, after pvlib's own layouts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pvlib
import pytest

from grid_models.weather import RECORD_FIELDS, record_hash
from sim.cli import parse_sets
from sim.files.weather import file_weather, pvlib_data_dir, read_weather
from sim.inputs import run_times
from sim.runner import base_manifest
from sim.scenario import load_scenario, validate_scenario
from sim.sites.generation import site_series

TMY3 = "pvlib:723170TYA.CSV"
GREENSBORO = dict(lat=36.1, lon=-79.95, tz="America/New_York", altitude_m=273.0)


def scenario(weather: dict, *, start="2025-06-01T00:00:00", days=2, step_s=3600, site=None, base_dir=None,
             sites=None):
    data = {"run": {"name": "w", "start": pd.Timestamp(start).to_pydatetime(), "duration_s": days * 86400,
                    "step_s": step_s, "settlement_s": 3600},
            "site": site or GREENSBORO, "weather": weather}
    if sites:
        data["certificates"] = {"sites": sites, "consumers": [{"name": "c", "count": 1, "profile": "g1",
                                                               "annual_kwh": 1e5}]}
    return validate_scenario(data, base_dir=base_dir)


def weather_of(s):
    return file_weather(s.weather, s.site, run_times(s.run, s.site), s.run.step_s)


def tmy3_rows():
    data, _ = pvlib.iotools.read_tmy3(pvlib_data_dir() / "723170TYA.CSV", coerce_year=2025, map_variables=True)
    return data


def test_tmy3_hour_ending_local_standard_time_onto_interval_starts():
    rows = tmy3_rows()
    s = scenario({"file": TMY3, "coerce_year": 1990}, start="2025-06-01T00:00:00", days=1)
    w = weather_of(s)
    assert s.weather.model == "file" and s.weather.format == "tmy3"
    # 2025-06-01 00:00 EDT = 04:00 UTC = 23:00 EST of 31 May: the row stamped 24:00 EST of 31 May (hour-ending)
    stamp = pd.Timestamp("2025-06-01 00:00", tz="Etc/GMT+5")
    assert w.ghi[12] == rows.ghi.loc[stamp + pd.Timedelta(hours=12)]  # 12:00-13:00 EDT = 11:00-12:00 EST
    np.testing.assert_array_equal(w.ghi, rows.ghi.loc[stamp:stamp + pd.Timedelta(hours=23)].to_numpy(dtype=float))
    np.testing.assert_array_equal(w.temp_air, rows.temp_air.loc[stamp:stamp + pd.Timedelta(hours=23)])


def test_a_finer_step_repeats_the_hour_and_keeps_the_energy():
    hourly = weather_of(scenario({"file": TMY3, "coerce_year": 1990}, days=3))
    quarter = weather_of(scenario({"file": TMY3, "coerce_year": 1990}, days=3, step_s=900))
    for k in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        np.testing.assert_array_equal(np.repeat(getattr(hourly, k), 4), getattr(quarter, k))
    assert quarter.ghi.sum() * 900 == pytest.approx(hourly.ghi.sum() * 3600, rel=1e-12)


def test_a_run_over_new_year_and_a_leap_day_takes_the_typical_year_day_by_day():
    wf = read_weather(TMY3, coerce_year=1990)
    per_day = wf.columns["ghi"].reshape(365, 24)
    s = scenario({"file": TMY3, "coerce_year": 1990}, start="2023-12-30T00:00:00", days=800,
                 site={**GREENSBORO, "tz": "Etc/GMT+5"})
    ghi = weather_of(s).ghi.reshape(800, 24)
    np.testing.assert_array_equal(ghi[0], per_day[363])  # 30 December 2023
    np.testing.assert_array_equal(ghi[2], per_day[0])  # 1 January 2024
    feb28, feb29, mar1 = 2 + 58, 2 + 59, 2 + 60
    np.testing.assert_array_equal(ghi[feb29], per_day[58])  # 29 February 2024 takes the file's 28 February
    np.testing.assert_array_equal(ghi[feb28], per_day[58])
    np.testing.assert_array_equal(ghi[mar1], per_day[59])
    np.testing.assert_array_equal(ghi[2 + 366], per_day[0])  # 1 January 2025


def _epw(path, rows: pd.DataFrame, lat=52.5, lon=13.4, tz=1.0, alt=34.0):
    """An EPW file after pvlib's test data: 8 head lines, then year,month,day,hour (1-24, hour-ending),minute,…"""
    head = [f"LOCATION,Berlin,BE,DEU,TEST,103840,{lat},{lon},{tz},{alt}", "DESIGN CONDITIONS,0",
            "TYPICAL/EXTREME PERIODS,0", "GROUND TEMPERATURES,0", "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
            "COMMENTS 1,written by a test", "COMMENTS 2,", "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31"]
    lines = []
    for r in rows.itertuples():
        lines.append(",".join(str(x) for x in [
            r.year, r.month, r.day, r.hour, 0, "?", r.temp_air, 5.0, 70, r.pressure, 1300, 1360, 300, r.ghi, r.dni,
            r.dhi, 0, 0, 0, 0, 180, r.wind_speed, 5, 5, 20, 77777, 9, 999999999, 10, 0.1, 0, 88, 0.2, 0, 1]))
    path.write_text("\n".join(head + lines) + "\n")
    return path


def _hours(start: str, n: int, tz: float) -> pd.DataFrame:
    """Rows of ``n`` hours from ``start`` (local standard time, UTC offset ``tz`` h): the hour-ending stamp's
    year, month, day, hour (1-24) and values; the irradiance grows with the row so that each row is known."""
    ends = pd.date_range(start, periods=n, freq="h") + pd.Timedelta(hours=1)
    hour = np.where(ends.hour == 0, 24, ends.hour)
    day = ends - pd.to_timedelta((ends.hour == 0).astype(int), unit="D")
    i = np.arange(n, dtype=float)
    return pd.DataFrame({"year": day.year, "month": day.month, "day": day.day, "hour": hour, "ghi": i,
                         "dni": i / 2, "dhi": i / 4, "temp_air": 10 + i / 10, "wind_speed": 3.0,
                         "pressure": 101000})


def test_epw_hour_ending_rows_onto_the_hour_that_starts_an_hour_earlier(tmp_path):
    f = _epw(tmp_path / "b.epw", _hours("2025-06-01 00:00", 72, 1.0))
    berlin = dict(lat=52.5, lon=13.4, tz="Etc/GMT-1", altitude_m=34.0)
    s = scenario({"file": "b.epw"}, start="2025-06-01T05:00:00", days=1, site=berlin, base_dir=tmp_path)
    assert s.weather.format == "epw" and s.weather.file == str(f)
    w = weather_of(s)
    np.testing.assert_array_equal(w.ghi, np.arange(5, 29))  # row 5 (hour 6): 05:00-06:00 UTC+1
    assert w.lat == 52.5 and w.altitude_m == 34.0  # the site is the file's place: its values as given
    wf = read_weather(str(f))
    assert wf.lines[0] == 9 and wf.rows_for(pd.Timestamp("2025-06-01T04:00Z"), pd.Timestamp("2025-06-01T05:00Z"))[
        0]["line"] == 9 + 5


def _pvgis_csv(path, year_rows: pd.DataFrame, offset_line=True):
    """A PVGIS TMY CSV after pvlib's test data: lat, lon, elevation, [time offset], month,year and 12 months, the
    header, exactly 8760 rows ``YYYYMMDD:HHMM`` in UTC, then the field descriptions."""
    head = ["Latitude (decimal degrees): 45.000", "Longitude (decimal degrees): 8.000", "Elevation (m): 250.0"]
    head += ["Irradiance Time Offset (h): 0.1761"] * offset_line + ["month,year"]
    head += [f"{m},{2005 + m % 7}" for m in range(1, 13)]
    head += ["time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP"]
    rows = [f"{t:%Y%m%d:%H%M},{r.temp_air},80,{r.ghi},{r.dni},{r.dhi},300,{r.wind_speed},200,{r.pressure}"
            for t, r in zip(year_rows.index, year_rows.itertuples(), strict=True)]
    tail = ["T2m: 2-m air temperature (degree Celsius)", "G(h): Global irradiance on the horizontal plane (W/m2)"]
    path.write_text("\r\n".join(head + rows + tail) + "\r\n")
    return path


def _pvgis_year(typical: bool) -> pd.DataFrame:
    t = pd.date_range("2010-01-01", periods=8760, freq="h")
    if typical:  # each month from another year, as PVGIS selects them
        t = pd.DatetimeIndex([x.replace(year=2005 + x.month % 7) for x in t])
    i = np.arange(8760, dtype=float) % 1000
    return pd.DataFrame({"ghi": i, "dni": i / 2, "dhi": i / 4, "temp_air": 12.0, "wind_speed": 2.0,
                         "pressure": 98000.0}, index=t)


def test_pvgis_tmy_csv_utc_hour_starts(tmp_path):
    f = _pvgis_csv(tmp_path / "tmy_45.000_8.000_2005_2020.csv", _pvgis_year(typical=True))
    turin = dict(lat=45.0, lon=8.0, tz="Europe/Rome", altitude_m=250.0)
    s = scenario({"file": str(f), "coerce_year": 2021}, start="2025-01-01T01:00:00", days=1, site=turin)
    assert s.weather.format == "pvgis_tmy"
    np.testing.assert_array_equal(weather_of(s).ghi, np.arange(24))  # 01:00 CET = 00:00 UTC: the first row
    # 1 July (row 4345 after 18 head lines) is from 2005, June from 2011
    with pytest.raises(ValueError, match=r"tmy_45.*line 4363: time 2005-07-01T00:00:00\+00:00 goes back.*set coerce_year"):
        scenario({"file": str(f)}, start="2005-01-01T01:00:00", days=1, site=turin)


def test_pvgis_tmy_json(tmp_path):
    t = pd.date_range("2025-03-01", periods=48, freq="h")
    hourly = [{"time(UTC)": f"{x:%Y%m%d:%H%M}", "T2m": 5.0, "RH": 80.0, "G(h)": float(i), "Gb(n)": i / 2,
               "Gd(h)": i / 4, "IR(h)": 300.0, "WS10m": 3.0, "WD10m": 90.0, "SP": 99000.0} for i, x in enumerate(t)]
    doc = {"inputs": {"location": {"latitude": 45.0, "longitude": 8.0, "elevation": 250.0}},
           "outputs": {"months_selected": [{"month": 3, "year": 2025}], "tmy_hourly": hourly},
           "meta": {"inputs": {}}}
    f = tmp_path / "tmy.json"
    f.write_text(json.dumps(doc))
    s = scenario({"file": str(f)}, start="2025-03-01T12:00:00", days=1, site=dict(lat=45.0, lon=8.0, tz="UTC",
                                                                                    altitude_m=250.0))
    np.testing.assert_array_equal(weather_of(s).ghi, np.arange(12, 36))


def test_a_site_at_the_file_place_takes_its_rows_exactly_elsewhere_its_own_sun_and_the_hash_has_the_file():
    sites = [{"name": "here", "technology": "pv", "lat": 36.1, "lon": -79.95, "altitude_m": 273.0,
              "nameplate_kw": 100.0},
             {"name": "west", "technology": "pv", "lat": 36.1, "lon": -80.5, "altitude_m": 273.0,
              "nameplate_kw": 100.0}]
    s = scenario({"file": TMY3, "coerce_year": 1990}, days=2, sites=sites)
    regional = weather_of(s)
    wf = read_weather(TMY3, coerce_year=1990)
    here, west = (site_series(x, regional, step_s=3600, settlement_s=3600, rng=np.random.default_rng(0))
                  for x in s.certificates.sites)
    for k in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        np.testing.assert_array_equal(getattr(here.weather, k), getattr(regional, k))
    assert not np.array_equal(west.weather.ghi, regional.ghi)
    np.testing.assert_array_equal(west.weather.clear_sky_index, regional.clear_sky_index)
    np.testing.assert_array_equal(west.weather.temp_air, regional.temp_air)
    start = regional.times[12].tz_convert("UTC").isoformat()
    record = here.record(slice(12, 13))
    assert here.record_hashes[12] == record_hash("here", start, record, wf.sha256)
    assert here.record_hashes[12] != record_hash("here", start, record)
    assert west.weather.file_sha256 == wf.sha256


def test_synthetic_record_hashes_are_unchanged():
    record = {k: [1.5, 2.25] for k in RECORD_FIELDS}  # the value main gave before weather files existed
    assert record_hash("pv-stade", "2025-04-07T10:00:00+00:00", record) == (
        "6cf4b5f6df6d6e1895d74bae0ab092f70f5fb48ecccbeca3155467cdf2f34c8b")


def test_manifest_names_the_file_and_its_sha256_and_the_digest_takes_the_content():
    s = load_scenario(_repo("scenarios/year_tmy3.toml"))
    m = base_manifest(s, "scenarios/year_tmy3.toml", "x")
    wf = read_weather(TMY3, coerce_year=1990)
    assert m["weather"]["file"] == TMY3 and m["weather"]["sha256"] == wf.sha256 == (
        "1e96f84638ce98e6b29002bc45a27aa69bb29b0ed0368d3b52b7b1f81610c6c9")
    assert m["weather"]["format"] == "tmy3" and m["weather"]["coerce_year"] == 1990
    assert s.digest() == s.with_overrides({"run.seed": 19}).digest()
    moved = s.model_dump(mode="json")
    assert moved["weather"]["file"] == TMY3


@pytest.mark.parametrize(("name", "digest"), [  # main's digests at 9df5f5b, before this turn's new keys (files,
    # equator-facing PV default, hil.require_devices): a scenario written then keeps its run id
    ("certificates", "781d966bac90f851685c663fbc422e2e0efaf62b529b5538a842ea6d4a6e5d97"),
    ("vpp", "fa0086b844158801b8deaadaac2e8607f0eb4ed8ee462110340312b1c7b2311c"),
    ("insurance", "32ebe6dab1e9a11ae42ca2cfdb8ffb872095c49a0b5de2802123f8387c6d4d38"),
    ("community", "fd4fe81042bfbf58dbd3e131a6aedb91d7b3484243eaba7756cba83ac8e33192"),
    ("district_heating", "fc9738d2d9b0640ce1aa0859f844ee71423b48b5acbf32a5a75f438e1331998d"),
    ("micro_dsr", "92b3f40935ee16643b7b3181696588ad14ab4ca98fd7950b6165663785495ef8"),
])
def test_existing_scenario_ids_do_not_change(name, digest):
    assert load_scenario(_repo(f"scenarios/{name}.toml")).digest() == digest


def test_set_weather_file_replaces_the_synthetic_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _epw(tmp_path / "b.epw", _hours("2025-04-06 00:00", 24 * 16, 1.0))
    base = load_scenario(_repo("scenarios/certificates.toml"))
    over = parse_sets(['weather.file="b.epw"'])
    s = base.with_overrides(over)
    assert s.weather.model == "file" and s.weather.file == str(tmp_path / "b.epw")
    assert s.weather.mean_clear_sky_index == 0.7  # the synthetic section is gone (its defaults are ignored)


def _repo(path: str):
    from pathlib import Path

    return Path(__file__).parents[3] / path


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("coerce_year", 1990, "coerce_year needs a weather file"),
    ("model", "file", "model = 'file' needs a weather file"),
])
def test_file_fields_need_a_file(field, value, problem):
    with pytest.raises(ValueError, match=problem):
        scenario({field: value})


def test_synthetic_fields_are_refused_with_a_file():
    with pytest.raises(ValueError, match=r"mean_clear_sky_index: synthetic weather's.*723170TYA"):
        scenario({"file": TMY3, "coerce_year": 1990, "mean_clear_sky_index": 0.5})
    with pytest.raises(ValueError, match=r"model 'clearsky_ar1' is synthetic weather"):
        scenario({"file": TMY3, "coerce_year": 1990, "model": "clearsky_ar1"})
