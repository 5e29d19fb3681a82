"""``[prices] tariff = "file"``: a price series from CSV/Parquet. Validation reads the file, so that a bad one is
refused before the run, naming file, line or column and what was expected (one test per case, through the
scenario path); a 15-minute file on hourly settlement averages time-weighted; negative prices are raised to the
settlement's floor and counted. The runs themselves: test_price_file_run.py."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.capabilities.vpp import price_file, prices
from sim.files.provenance import input_files
from sim.inputs import run_times
from sim.scenario import load_scenario
from sim.schema import ScenarioError
from tests.conftest import ROOT, SMALL

VPP = ROOT / "scenarios" / "vpp.toml"
DAY1 = "2025-06-02T00:00+02:00"  # the run's start (scenarios/vpp.toml, local)


def price_csv(path, values, *, start=DAY1, freq="h", column="eur_per_mwh", naive=False):
    times = pd.date_range(start, periods=len(values), freq=freq)
    stamps = [t.strftime("%Y-%m-%d %H:%M") if naive else t.isoformat() for t in times]
    path.write_text(f"time,{column}\n" + "".join(f"{t},{v}\n" for t, v in zip(stamps, values, strict=True)))
    return path


def two_days(path):
    """Hand-made: 100 EUR/MWh every hour of day 1, 200 EUR/MWh every hour of day 2."""
    return price_csv(path, [100.0] * 24 + [200.0] * 24)


def scenario_with(path, **more):
    return load_scenario(VPP).with_overrides({**SMALL, "run.duration_s": 2 * 86_400, "prices.tariff": "file",
                                              "prices.price_file": str(path), **more})


def schedule(s):
    return prices.price_schedule_ueur(s, run_times(s.run, s.site), s.n_periods)


def test_each_hour_is_priced_as_the_file_says(tmp_path):
    s = scenario_with(two_days(tmp_path / "p.csv"))
    assert schedule(s).tolist() == [100_000] * 24 + [200_000] * 24  # 1 EUR/MWh = 1000 µEUR/kWh


def test_eur_per_kwh_and_parquet_and_naive_local_times_read_the_same(tmp_path):
    kwh = price_csv(tmp_path / "k.csv", [0.1] * 24 + [0.2] * 24, column="eur_per_kwh")
    naive = price_csv(tmp_path / "n.csv", [100.0] * 24 + [200.0] * 24, naive=True)  # site's zone: Europe/Berlin
    pq = tmp_path / "p.parquet"
    pd.DataFrame({"time": pd.date_range(DAY1, periods=48, freq="h"),
                  "eur_per_mwh": [100.0] * 24 + [200.0] * 24}).to_parquet(pq)
    for path in (kwh, naive, pq):
        assert schedule(scenario_with(path)).tolist() == [100_000] * 24 + [200_000] * 24, path


def test_a_quarter_hourly_file_on_hourly_settlement_averages(tmp_path):
    """Hand-made: each hour's quarters 10, 20, 30, 60 EUR/MWh (mean 30), +1 per hour."""
    quarters = [q + h for h in range(48) for q in (10.0, 20.0, 30.0, 60.0)]
    s = scenario_with(price_csv(tmp_path / "q.csv", quarters, freq="15min"))
    assert schedule(s).tolist() == [(30 + h) * 1000 for h in range(48)]


def test_a_file_offset_from_the_periods_is_averaged_over_each_period(tmp_path):
    """Half-hourly stamps shifted by 30 min: a period straddles two of the file's hours (time-weighted)."""
    values = [100.0 * (i % 2) for i in range(2 * 48 + 2)]  # 0, 100, 0, 100 … every half hour from 23:30
    s = scenario_with(price_csv(tmp_path / "h.csv", values, start="2025-06-01T23:30+02:00", freq="30min"))
    assert set(schedule(s).tolist()) == {50_000}


def test_negative_and_zero_prices_are_raised_to_the_floor_and_counted(tmp_path):
    s = scenario_with(price_csv(tmp_path / "neg.csv", [-20.0, 0.0, 0.0004, 80.0] * 12))
    published, raised = price_file.file_prices_ueur(s, 1000.0)
    assert published.tolist() == [1, 1, 1, 80_000] * 12 and raised == 36
    assert price_file.file_summary(s, published)["periods_raised_to_floor"] == 36


def test_the_spec_names_its_input_file_with_its_hash_and_the_digest_follows_the_content(tmp_path):
    path = two_days(tmp_path / "p.csv")
    s = scenario_with(path)
    [entry] = input_files(s)
    assert entry["role"] == "prices.price_file" and entry["path"] == str(path) and len(entry["sha256"]) == 64
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    before = s.digest()
    assert scenario_with(two_days(moved / "q.csv")).digest() == before  # the content, not where it lies
    price_csv(path, [100.0] * 24 + [201.0] * 24)
    assert scenario_with(path).digest() != before


def test_a_relative_price_file_is_found_next_to_the_scenario(tmp_path):
    two_days(tmp_path / "prices.csv")
    text = VPP.read_text().replace("604800", "172800").replace('member_collateral_eur = 50.0',
                                   'member_collateral_eur = 50.0\ntariff = "file"\nprice_file = "prices.csv"')
    (tmp_path / "s.toml").write_text(text)
    s = load_scenario(tmp_path / "s.toml")
    assert s.prices.price_file == str(tmp_path / "prices.csv")


@pytest.mark.parametrize("values, kwargs, expected", [
    # missing column / another unit
    (None, {"text": "time,price\n2025-06-02T00:00+02:00,1\n2025-06-02T01:00+02:00,1\n"},
     r"p.csv: no column 'eur_per_mwh' \(day-ahead or retail price \[EUR/MWh\]; or a column 'eur_per_kwh'.*found 'time', 'price'"),
    ([10.0] * 48, {"column": "ct_per_kwh"}, r"p.csv: no column 'eur_per_mwh'.*found 'ct_per_kwh', which is not in the unit expected"),
    ([10.0] * 48, {"column": "eur_per_kw"}, r"found 'eur_per_kw', which is not in the unit expected"),
    (None, {"text": "time,eur_per_mwh,eur_per_kwh\n2025-06-02T00:00+02:00,1,1\n2025-06-02T01:00+02:00,1,1\n"},
     r"p.csv: both columns 'eur_per_mwh' and 'eur_per_kwh'"),
    # NaN, empty, not a number
    ([100.0] * 5 + ["NaN"] + [100.0] * 42, {}, r"p.csv: line 7: column 'eur_per_mwh': an empty or NaN value is not a number \(day-ahead"),
    ([100.0] * 5 + [""] + [100.0] * 42, {}, r"p.csv: line 7: column 'eur_per_mwh':.* is not a number"),
    ([100.0] * 5 + ["12,5"] + [100.0] * 42, {}, r"p.csv: not a readable csv price file: .*line 7"),
    # a price beyond the settlement's bound
    ([100.0] * 10 + [2e6] + [100.0] * 37, {}, r"p.csv: line 12: column 'eur_per_mwh': 2e\+06 is above the highest price "
                                              r"the settlement takes \(1e\+06 EUR/MWh\)"),
    # the run not covered
    ([100.0] * 47, {}, r"p.csv: prices from 2025-06-02T00:00:00\+02:00 to 2025-06-03T23:00:00\+02:00; the run settles "
                       r"from 2025-06-02T00:00:00\+02:00 to 2025-06-04T00:00:00\+02:00"),
    ([100.0] * 48, {"start": "2025-06-02T01:00+02:00"}, r"p.csv: prices from 2025-06-02T01:00.*expected a file covering"),
])
def test_a_bad_price_file_is_refused_naming_file_line_and_expectation(tmp_path, values, kwargs, expected):
    path = tmp_path / "p.csv"
    if values is None:
        path.write_text(kwargs["text"])
    else:
        price_csv(path, values, **kwargs)
    with pytest.raises(ScenarioError, match=r"prices.price_file: .*" + expected):
        scenario_with(path)


def _lines(path, edit):
    lines = two_days(path).read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("edit, expected", [
    (lambda lines: lines.pop(10), r"p.csv: line 11: time 2025-06-02T08:00:00\+00:00 is 7200 s after the row before, "
                                  r"the file's step is 3600 s; expected equally spaced rows \(a gap"),
    (lambda lines: lines.insert(10, lines[8]), r"p.csv: line 11: time .* goes back from the row before .*expected "
                                               "strictly increasing times"),
    (lambda lines: lines.insert(10, lines[9]), r"p.csv: line 11: time .* repeats the row before"),
    (lambda lines: lines.__setitem__(5, lines[5].replace("T", " ").replace("+02:00", "")),
     r"p.csv: line 6: column 'time': .* mixes times with and without a UTC offset"),
    (lambda lines: lines.__setitem__(5, "tomorrow,100"), r"p.csv: line 6: column 'time': 'tomorrow' is not an ISO 8601"),
])
def test_bad_times_are_refused_naming_the_line(tmp_path, edit, expected):
    with pytest.raises(ScenarioError, match=r"prices.price_file: .*" + expected):
        scenario_with(_lines(tmp_path / "p.csv", edit))


def test_a_missing_or_unnamed_file_and_a_file_without_the_file_tariff_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"prices.price_file: .*none.csv: no such price file"):
        scenario_with(tmp_path / "none.csv")
    with pytest.raises(ScenarioError, match=r"tariff = 'file' needs price_file"):
        load_scenario(VPP).with_overrides({"prices.tariff": "file"})
    with pytest.raises(ScenarioError, match=r"price_file is only read with tariff = 'file' \(tariff is 'flat'\)"):
        load_scenario(VPP).with_overrides({"prices.price_file": str(two_days(tmp_path / "p.csv"))})


def test_naive_times_on_the_autumn_hour_that_happens_twice_are_refused(tmp_path):
    path = price_csv(tmp_path / "p.csv", [100.0] * 72, start="2025-10-25T00:00", naive=True)
    with pytest.raises(ScenarioError, match=r"p.csv: column 'time': .*Europe/Berlin.*UTC offset"):
        scenario_with(path, **{"run.start": pd.Timestamp("2025-10-25").to_pydatetime()})


def test_the_day_ahead_example_prices_each_hour_from_its_file_with_three_raised_to_the_floor():
    s = load_scenario(ROOT / "scenarios" / "tariffs" / "day_ahead.toml")
    table = pd.read_csv(ROOT / "scenarios" / "tariffs" / "day_ahead_prices.csv")
    hours = table.eur_per_mwh.to_numpy()[24:72]  # 2 and 3 June (the file starts on 1 June)
    published, raised = price_file.file_prices_ueur(s, 1000.0)
    assert published.tolist() == [max(1, round(p * 1000)) for p in hours] and raised == (hours < 0).sum() == 3
    assert round(hours.mean()) == 109


def test_the_run_line_names_the_periods_raised_to_the_floor():
    from sim.capabilities.vpp.cli import run_line

    v = {"periods_settled": 48, "periods": 48, "delivered_kwh": 1.0, "declared_kwh": 1.0, "revenue_eur": 1.0,
         "penalties_eur": 0.0}
    assert "floor" not in run_line(v, "vpp")
    line = run_line({**v, "price_file": {"periods_raised_to_floor": 3, "floor_ueur_per_kwh": 1}}, "vpp")
    assert line.endswith("; 3 period(s) priced at or below 0 in the price file paid the settlement's floor, "
                         "1 µEUR/kWh (docs/your_data.md)")
