"""The shipped year on a typical-year file (scenarios/year_tmy3.toml), end to end: a month of it (the whole year
runs the same way, ~5 min; docs/validation.md), offline. The manifest names the file and its sha256, and
``trace`` of a certificate shows the file's hash (in the record hash it recomputes) and the file's row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.capabilities.certificates.trace import format_trace, parse_certificate, trace
from sim.files.weather import read_weather
from sim.runner import run_scenario

SCENARIO = Path(__file__).parents[3] / "scenarios" / "year_tmy3.toml"


@pytest.mark.slow
def test_a_month_of_the_tmy3_year_traces_to_the_file_rows(tmp_path):
    out = tmp_path / "run"
    run_scenario(SCENARIO, overrides={"run.duration_s": 31 * 86400, "chain.backend": "revm"}, out=out)
    wf = read_weather("pvlib:723170TYA.CSV", coerce_year=1990)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["weather"]["file"] == "pvlib:723170TYA.CSV" and manifest["weather"]["sha256"] == wf.sha256
    t = trace(out, parse_certificate("pv-greensboro@2025-01-15T17:00", out))
    assert t.verified
    rows = t.weather["file"]["rows"]
    assert [r["line"] for r in rows] == [3 + 14 * 24 + 12]  # 15 January, 12:00-13:00 EST: the file's line 351
    row = rows[0]
    assert row["ghi"] == wf.columns["ghi"][348] == t.weather["record"]["ghi"][0]
    text = format_trace(t)
    assert f"sha256 {wf.sha256} (in the record hash)" in text and "line 351 (interval from 2025-01-15T17:00" in text
