"""``gridledger trace``: from a retirement back to the site, the hour, the signed meter reading and the weather
record, from the results folder alone; the weather record hash is recomputed from the stored weather, and a
tampered weather record is caught."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from contracts.certificates import split_id
from sim.capabilities.certificates.trace import trace
from sim.cli import main
from sim.results.summary import event_args

pytestmark = pytest.mark.slow


def _a_retired_pv_certificate(run) -> int:
    retired = event_args(run.ledger, "Certificates", "Retired")
    pv_ids = [i for i in retired.id if split_id(i)[0] <= 3]  # devices 1-3 are the PV parks
    return pv_ids[len(pv_ids) // 2]


def test_trace_names_site_hour_reading_and_weather_hash(certs_run, capsys):
    id_ = _a_retired_pv_certificate(certs_run)
    assert main(["trace", str(certs_run.folder), str(id_)]) == 0
    out = capsys.readouterr().out
    device_id, period = split_id(id_)
    cap = certs_run.twin.capability("certificates")
    site, series = cap.sites[device_id - 1], cap.series[device_id - 1]
    start = certs_run.twin.inputs.times[period * 4].tz_convert("UTC").isoformat()
    issued = event_args(certs_run.ledger, "Certificates", "Issued").set_index("id").loc[id_]
    assert f"site {site.name}, interval {start}" in out
    assert f"{issued.metered_wh} Wh, measured" in out and issued.meter in out
    assert f"weather record sha256 {series.record_hashes[period]}" in out
    assert out.count(": match") == 3 and "MISMATCH" not in out
    assert "retired" in out and "(same hour: 24/7 match)" in out


def test_trace_recomputes_hash_and_cap_from_the_stored_weather(certs_run):
    id_ = _a_retired_pv_certificate(certs_run)
    t = trace(certs_run.folder, id_)
    assert t.weather["recomputed_hash"] == t.weather["weather_hash"]
    assert t.weather["recomputed_cap_wh"] == t.weather["cap_wh"] == t.issued["cap_wh"] > 0
    assert t.reading["signature_ok"] and t.reading["signer"] == t.device["meter"]
    assert t.issued["amount_wh"] == min(t.issued["metered_wh"], t.issued["cap_wh"])
    assert sum(x["amount_wh"] for x in t.retirements) <= sum(x["amount_wh"] for x in t.transfers)
    assert all(x["consumed_wh"] >= x["amount_wh"] for x in t.retirements)
    assert t.verified


def test_tampered_weather_record_is_caught(certs_run, tmp_path, capsys):
    id_ = _a_retired_pv_certificate(certs_run)
    copy = tmp_path / "copy"
    shutil.copytree(certs_run.folder, copy)
    ts = pd.read_parquet(copy / "timeseries.parquet")
    t = trace(copy, id_)
    hour = pd.Timestamp(t.interval_start_utc)
    hit = (ts.entity == t.site) & (ts.quantity == "ghi") & (ts.time == hour)
    assert hit.sum() == 1
    ts.loc[hit, "value"] += 1.0  # one W/m2 more sun, a quarter of an hour
    ts.to_parquet(copy / "timeseries.parquet", index=False)
    assert main(["trace", str(copy), str(id_)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_trace_by_site_and_hour_and_unknown_certificates(certs_run, capsys):
    id_ = _a_retired_pv_certificate(certs_run)
    t = trace(certs_run.folder, id_)
    assert main(["trace", str(certs_run.folder), f"{t.site}@{t.interval_start_utc}"]) == 0
    assert f"certificate {id_} " in capsys.readouterr().out
    assert main(["trace", str(certs_run.folder), "12345"]) == 2
    assert "never minted" in capsys.readouterr().err
    assert main(["trace", str(certs_run.folder), "nowhere@2025-04-07T12:00"]) == 2
