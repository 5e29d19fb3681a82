"""``gridledger run --set KEY=VALUE``: the same dotted keys as the Python API's overrides, validated like the file,
recorded in the manifest."""

from __future__ import annotations

import datetime as dt
import json
import re

import pandas as pd
import pytest

from sim.cli import main, parse_sets
from sim.runner import run_scenario
from tests.conftest import ROOT, SMALL

VPP = ROOT / "scenarios" / "vpp.toml"
HOUR = {**SMALL, "run.duration_s": 7200}


def test_values_are_read_as_toml_else_text():
    assert parse_sets(["run.duration_s=86400", "prices.penalty_eur_per_kwh = 0.5", "dsr.respond=false",
                       "run.start=2025-06-01T00:00:00", "chain.backend=revm", 'run.name="x y"']) == {
        "run.duration_s": 86400, "prices.penalty_eur_per_kwh": 0.5, "dsr.respond": False,
        "run.start": dt.datetime(2025, 6, 1), "chain.backend": "revm", "run.name": "x y"}
    assert parse_sets(["population.0.annual_load_kwh=", "vpp.members= "]) == {
        "population.0.annual_load_kwh": None, "vpp.members": None}  # unset: the key's default


@pytest.mark.parametrize("item, message", [
    ("run.duration_s", "expected KEY=VALUE"),
    ("=3", "expected KEY=VALUE"),
    ("run.duration_s=abc", r"run.duration_s: .*valid integer"),
    ("run.duration_ss=3600", r"run.duration_ss: unknown key"),
    ("run.duration_s=5000", r"run: duration_s \(5000\) must be a whole multiple of settlement_s"),
])
def test_a_bad_set_is_refused_naming_the_key(item, message, tmp_path, capsys):
    assert main(["run", str(VPP), "--set", item, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_set_equals_the_python_api_and_is_recorded(tmp_path):
    sets = [f"{k}={json.dumps(v)}" for k, v in HOUR.items()] + ["prices.penalty_eur_per_kwh=0.5"]
    assert main(["run", str(VPP), *(x for s in sets for x in ("--set", s)), "--out", str(tmp_path / "cli")]) == 0
    api = run_scenario(VPP, overrides={**HOUR, "prices.penalty_eur_per_kwh": 0.5}, out=tmp_path / "api")
    cli_manifest = json.loads((tmp_path / "cli" / "manifest.json").read_text())
    assert cli_manifest["overrides"] == {**HOUR, "prices.penalty_eur_per_kwh": 0.5}
    assert cli_manifest["scenario"]["prices"]["penalty_eur_per_kwh"] == 0.5
    assert cli_manifest["scenario_sha256"] == api.manifest["scenario_sha256"]
    for name in ("timeseries", "ledger", "readings"):
        assert pd.read_parquet(tmp_path / "cli" / f"{name}.parquet").equals(
            pd.read_parquet(tmp_path / "api" / f"{name}.parquet")), name
    assert (tmp_path / "cli" / "summary.json").read_bytes() == (tmp_path / "api" / "summary.json").read_bytes()
