"""The results' tables written a row group at a time (``sim.results.tables``) lose nothing: what reads back from
``timeseries.parquet``, ``ledger.parquet`` and ``readings.parquet`` equals, value for value and dtype for dtype,
the whole frames the run made before (``Recorder.tidy`` over every capability's frame, ``ledger_frame`` of every
event, the measurement layer's table), on a short community run and on two days of insurance; and the same
scenario and seed give byte-identical files."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import sim.results.tables as tables
from sim.recorder import FEEDER_QUANTITIES, Recorder
from sim.registry import plotters
from sim.results.report import plot_feeder
from sim.results.summary import ledger_frame
from sim.runner import TABLES, run_scenario, weather_series
from sim.scenario import load_scenario
from tests.conftest import ROOT

COMMUNITY_3H = {"run.start": dt.datetime(2025, 3, 10, 16), "run.duration_s": 3 * 3600}
INSURANCE_2D = {"run.duration_s": 2 * 86_400}


def whole_frames(result) -> dict[str, pd.DataFrame]:
    """The frames as the run assembled them before: every table whole in memory, from the same twin."""
    twin = result.twin
    more = [df if isinstance(df, pd.DataFrame) else tables.series_frame(df)
            for cap in twin.capabilities if (df := cap.timeseries()) is not None]
    return {"timeseries": twin.recorder.tidy(twin.inputs.times, extra=weather_series(twin), more=more),
            "ledger": ledger_frame(twin.chain.events), "readings": twin.measurement.readings()}


def small_groups(monkeypatch):
    """Row groups of a few hundred rows, so that every table is written in many pieces."""
    monkeypatch.setattr(tables, "TIMESERIES_ROWS", 97)
    monkeypatch.setattr(tables, "LEDGER_ROWS", 101)


@pytest.mark.slow
@pytest.mark.parametrize("file, overrides", [("community.toml", COMMUNITY_3H), ("insurance.toml", INSURANCE_2D)])
def test_the_chunked_files_equal_the_whole_frames(file, overrides, tmp_path, monkeypatch):
    small_groups(monkeypatch)
    scenario = load_scenario(ROOT / "scenarios" / file).with_overrides(overrides)
    result = run_scenario(scenario, out=tmp_path / "run")
    old = whole_frames(result)
    for name in TABLES:
        new = pd.read_parquet(tmp_path / "run" / f"{name}.parquet")
        pd.testing.assert_frame_equal(new, old[name], check_exact=True)
        assert result.rows(name) == len(old[name])
    assert len(old["timeseries"]) > 10 * tables.TIMESERIES_ROWS and len(old["ledger"]) > 10 * tables.LEDGER_ROWS
    assert pq_groups(tmp_path / "run" / "ledger.parquet") > 10
    summaries = {cap.name: cap.summary(old["ledger"]) for cap in result.twin.capabilities}
    assert json.dumps(summaries, sort_keys=True, default=str) == \
        json.dumps({k: result.summary[k] for k in summaries}, sort_keys=True, default=str)
    if file == "community.toml":  # every kind of row: prosumers, feeder, weather and all five capabilities
        entities = set(old["timeseries"].entity)
        assert {"feeder", "site", "heat-network", "dsr"} <= entities and len(entities) > 50
        # the plots drawn through the views (rows read as selected) are those drawn from the whole frames
        whole = tmp_path / "run" / "plots-whole"
        whole.mkdir()
        for plotter in [plot_feeder, *plotters()]:
            plotter(old["timeseries"], old["ledger"], whole)
        drawn = sorted(p.name for p in (tmp_path / "run" / "plots").glob("*.png"))
        assert drawn == sorted(p.name for p in whole.glob("*.png")) and len(drawn) >= 8
        for name in drawn:
            assert (tmp_path / "run" / "plots" / name).read_bytes() == (whole / name).read_bytes(), name


def pq_groups(path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).num_row_groups


@pytest.mark.slow
def test_same_scenario_and_seed_give_identical_files(tmp_path, monkeypatch):
    small_groups(monkeypatch)
    scenario = load_scenario(ROOT / "scenarios" / "insurance.toml").with_overrides({"run.duration_s": 86_400})
    digests = []
    for name in ("a", "b"):
        run_scenario(scenario, out=tmp_path / name)
        digests.append({t: hashlib.sha256((tmp_path / name / f"{t}.parquet").read_bytes()).hexdigest()
                        for t in TABLES})
    assert digests[0] == digests[1]


def test_an_empty_ledger_and_a_run_without_a_folder(tmp_path):
    assert tables.write_ledger([], tmp_path / "ledger.parquet") == 0
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ledger.parquet"), ledger_frame([]))
    writer = tables.TimeseriesWriter(tmp_path / "parts")
    assert writer.write(tmp_path / "ts.parquet", []) == 0
    assert list(pd.read_parquet(tmp_path / "ts.parquet").columns) == list(tables.TIDY_COLUMNS)


def test_series_at_their_own_step_and_frames_keep_their_place(tmp_path, monkeypatch):
    """A capability's rows as a frame or as ``Series`` at its own (hourly) step, after the kernel's per-minute
    rows: the file equals ``Recorder.tidy`` with the same rows given as frames, in the same order."""
    small_groups(monkeypatch)
    times = pd.date_range("2025-03-10", periods=180, freq="min", tz="Europe/Berlin")
    rng = np.random.default_rng(5)
    rec = Recorder(len(times), ["pv-02", "pv-01"], has_feeder=True)
    for k in range(len(times)):
        flow = SimpleNamespace(**{q: float(v) for q, v in zip(FEEDER_QUANTITIES, rng.random(len(FEEDER_QUANTITIES)))})
        rec.record_step(k, flow, *(rng.random(2) for _ in range(5)))
    extra = {"ghi": (rng.random(len(times)), "W/m2")}
    hourly = pd.date_range("2025-03-10", periods=3, freq="h", tz="UTC")
    own_step = [tables.Series(hourly, ("site/a", "site/b"), "potential_kw", "kW", rng.random((3, 2))),
                tables.Series(hourly, ("pool",), "balance_eur", "EUR", np.array([1.0, np.nan, 3.0]))]
    frame = pd.DataFrame({"time": times.tz_convert("UTC"), "entity": "dsr", "quantity": "p_kw",
                          "value": rng.random(len(times)), "unit": "kW"})
    writer = tables.TimeseriesWriter(tmp_path / "parts")
    writer.add(own_step)
    writer.add(frame)
    n = writer.write(tmp_path / "ts.parquet", tables.recorder_series(rec, times, extra))
    expected = rec.tidy(times, extra=extra, more=[tables.series_frame(own_step), frame])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ts.parquet"), expected, check_exact=True)
    assert n == len(expected) == 2 * 5 * 180 + 9 * 180 + 180 + 6 + 3 + 180
    assert not list((tmp_path / "parts").iterdir())


def test_the_views_answer_as_the_whole_frames(small_run, monkeypatch):
    """``TimeseriesView`` and ``LedgerView`` (what the summaries and plotters get) give what the same selection
    of the whole table gives; what they do not select on falls back to the whole table."""
    from sim.results.summary import event_args

    folder = small_run.folder
    ts, view = pd.read_parquet(folder / "timeseries.parquet"), tables.TimeseriesView(folder / "timeseries.parquet")
    for pick in (lambda t: t.entity == "feeder", lambda t: (t.entity == "site") & (t.quantity != "ghi"),
                 lambda t: t.quantity.isin(["pv_kw", "soc_kwh"]) | (t.unit == "pu"), lambda t: ~(t.entity == "feeder"),
                 lambda t: t.entity == "no such entity"):
        pd.testing.assert_frame_equal(view[pick(view)], pick_rows(ts, pick), check_exact=True)
    assert len(view) == len(ts) and sorted(view.entity.unique()) == sorted(ts.entity.unique())
    ledger = pd.read_parquet(folder / "ledger.parquet")
    for rows in (7, 10_000):  # one row group, many
        monkeypatch.setattr(tables, "LEDGER_ROWS", rows)
        tables.write_ledger(small_run.twin.chain.events, folder.parent / "ledger-again.parquet")
        lv = tables.LedgerView(folder.parent / "ledger-again.parquet")
        assert len(lv) == len(ledger) > 100
        for contract, event in {(c, e) for c, e in zip(ledger.contract, ledger.event)} | {("None", "None")}:
            pd.testing.assert_frame_equal(event_args(lv, contract, event), event_args(ledger, contract, event),
                                          check_exact=True)
        some = ledger.index[ledger.event == "Transfer"][::3][::-1]
        pd.testing.assert_frame_equal(lv.loc[some], ledger.loc[some], check_exact=True)
        pd.testing.assert_series_equal(lv.loc[some, "address"], ledger.loc[some, "address"], check_exact=True)
        pd.testing.assert_frame_equal(lv[lv.contract == "EuroToken"], ledger[ledger.contract == "EuroToken"],
                                      check_exact=True)
        assert lv.args.tolist() == ledger.args.tolist()  # anything else: the whole table


def pick_rows(frame, pick):
    return frame[pick(frame)].reset_index(drop=True)
