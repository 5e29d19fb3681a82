"""The README's template of a community from files (scenarios/own_data/own_data.toml) validates and runs: every
file it names is in the manifest with its sha256, the measured prosumers consume what their file says, and the
buyer pays the price file's prices."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.files.series import file_sha256
from sim.runner import run_scenario
from tests.conftest import ROOT

SCENARIO = ROOT / "scenarios" / "own_data" / "own_data.toml"


@pytest.mark.slow
def test_the_template_runs_on_its_files(tmp_path):
    r = run_scenario(SCENARIO, out=tmp_path / "run")
    files = {f["role"]: f for f in r.manifest["input_files"]}
    assert set(files) == {"weather.file", "population[0].load_file", "population[0].pv_file", "prices.price_file"}
    assert all(f["sha256"] == file_sha256(f["path"]) for f in files.values())
    assert r.summary["vpp"]["periods_settled"] == r.scenario.n_periods
    loads = pd.read_csv(SCENARIO.parent / "loads.csv")
    run_days = loads["time"].str.startswith(("2025-06-02", "2025-06-03"))
    ts = r.timeseries
    for member in ("home-01", "home-02"):
        load = ts[(ts.entity == member) & (ts.quantity == "load_kw")]
        assert load.value.sum() * 0.25 == pytest.approx(loads.loc[run_days, f"{member}_energy_kwh"].sum(), rel=1e-9)
