"""Heat demand from measured files (issue 19): a building group's demand is the file's, and a bad file is
refused by the scenario naming file, line and what was expected."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
SHORT = {"run.duration_s": 8 * 3600, "heat.buildings.0.count": 4, "heat.buildings.1.count": 2}


def hourly(values, column="p_kw") -> str:
    times = pd.date_range("2025-01-06T00:00", periods=len(values), freq="h")  # Europe/Copenhagen: +01:00
    return f"time,{column}\n" + "".join(f"{t.isoformat()}+01:00,{v}\n" for t, v in zip(times, values, strict=True))


def with_file(tmp_path, text: str, **more):
    (tmp_path / "heat.csv").write_text(text)
    base = load_scenario(ROOT / "scenarios" / "district_heating.toml")
    return base.with_overrides({**SHORT, "heat.buildings.1.demand_file": str(tmp_path / "heat.csv"), **more})


def test_measured_heat_demand_is_the_files(tmp_path):
    from sim.runner import run_scenario

    run = run_scenario(with_file(tmp_path, hourly([20.0] * 4 + [30.0] * 4)))  # 200 kWh per building
    ts = run.timeseries[run.timeseries.quantity == "demand_kw"]
    per = ts.groupby("entity", observed=True).value.sum() * 0.25
    assert per["mfh-01"] == pytest.approx(200.0) and per["mfh-02"] == pytest.approx(200.0)
    assert run.manifest["input_files"][0]["role"] == "heat.buildings[1].demand_file"


def test_bad_heat_files_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"heat\.buildings\[1\]\.demand_file: .*heat\.csv: no column 'p_kw' "
                                            r".*found 'p_w', which is not in the unit expected"):
        with_file(tmp_path, hourly([20.0] * 8, column="p_w"))
    with pytest.raises(ScenarioError, match=r"heat\.csv: covers .* the run needs"):
        with_file(tmp_path, hourly([20.0] * 6))
    with pytest.raises(ScenarioError, match="demand_scale is how demand_file's values are used"):
        load_scenario(ROOT / "scenarios" / "district_heating.toml").with_overrides(
            {"heat.buildings.1.demand_scale": "annual"})
