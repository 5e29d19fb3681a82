"""Certificate consumers with measured load files (issue 19): the consumers' metered consumption is the file's,
and a bad file is refused by the scenario naming file, line and what was expected."""

from __future__ import annotations

import pandas as pd
import pytest

from sim.scenario import ScenarioError, load_scenario
from tests.conftest import CERTS_SMALL, ROOT

pytestmark = pytest.mark.slow
START = "2025-04-07T00:00"  # certificates.toml, Europe/Berlin


def per_consumer_kwh(values: dict[str, float], hours: int = 24) -> str:
    """Hourly energy per interval, one column per consumer."""
    times = pd.date_range(START, periods=hours, freq="h")
    head = ",".join(f"{cid}_energy_kwh" for cid in values)
    return f"time,{head}\n" + "".join(f"{t.isoformat()}+02:00," + ",".join(str(v) for v in values.values()) + "\n"
                                      for t in times)


def with_file(tmp_path, text: str, **more):
    (tmp_path / "offices.csv").write_text(text)
    base = load_scenario(ROOT / "scenarios" / "certificates.toml")
    return base.with_overrides({**CERTS_SMALL, "meters.drop_probability": 0.0, "meters.spike_probability": 0.0,
                                "certificates.consumers.0.load_file": str(tmp_path / "offices.csv"), **more})


def test_measured_consumers_meter_the_files_energy(tmp_path):
    from sim.runner import run_scenario

    run = run_scenario(with_file(tmp_path, per_consumer_kwh({"office-01": 100.0, "office-02": 250.0})))
    ts = run.timeseries[run.timeseries.entity.isin(["office-01", "office-02"])
                        & (run.timeseries.quantity == "load_kw")]
    assert ts.groupby("entity", observed=True).value.sum().mul(0.25).to_dict() == pytest.approx(
        {"office-01": 2400.0, "office-02": 6000.0})
    metered = run.readings[run.readings.meter.isin(["meter/office-01", "meter/office-02"])]
    assert (metered.quality == 0).all()
    totals = metered.groupby("meter").energy_wh.sum()
    assert totals["meter/office-01"] == pytest.approx(2.4e6, abs=1) and totals["meter/office-02"] == pytest.approx(
        6.0e6, abs=1)
    assert run.manifest["input_files"][0]["role"] == "certificates.consumers[0].load_file"


def test_a_bad_consumer_file_is_refused(tmp_path):
    text = per_consumer_kwh({"office-01": 100.0, "office-02": 250.0}).replace(",250.0\n", ",nan\n", 1)
    with pytest.raises(ScenarioError, match=r"certificates\.consumers\[0\]\.load_file: .*offices\.csv: line 2: "
                                            r"column 'office-02_energy_kwh': .*not a number"):
        with_file(tmp_path, text)
    with pytest.raises(ScenarioError, match=r"offices\.csv: covers .* the run needs"):
        with_file(tmp_path, per_consumer_kwh({"office-01": 1.0, "office-02": 1.0}, hours=12))
    with pytest.raises(ScenarioError, match="annual_kwh: missing"):
        with_file(tmp_path, per_consumer_kwh({"office-01": 1.0, "office-02": 1.0}),
                  **{"certificates.consumers.0.annual_kwh": None, "certificates.consumers.0.load_scale": "annual"})
    measured = with_file(tmp_path, per_consumer_kwh({"office-01": 1.0, "office-02": 1.0}),
                         **{"certificates.consumers.0.annual_kwh": None})
    assert measured.certificates.consumers[0].annual_kwh is None
