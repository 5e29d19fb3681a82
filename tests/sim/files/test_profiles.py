"""Measured profiles per population group (issue 19): a hand-made two-day load file changes the run as it
should (its totals are known), PV files replace pvlib's, and every bad file is refused by the scenario naming the
file, the line or column and what was expected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.inputs import compute_inputs
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT, SMALL

TWO_DAYS = {**SMALL, "run.duration_s": 2 * 86_400}  # vpp.toml from 2025-06-02 00:00 Europe/Berlin, 4 + 2 prosumers
START = "2025-06-02T00:00"


def hourly(values, *, column="p_kw", start=START, tz="+02:00", freq="h") -> str:
    times = pd.date_range(start, periods=len(values), freq=freq)
    return f"time,{column}\n" + "".join(f"{t.isoformat()}{tz},{v}\n" for t, v in zip(times, values, strict=True))


def one_then_two_kw() -> str:
    """1 kW through the first day, 2 kW through the second: 72 kWh."""
    return hourly([1.0] * 24 + [2.0] * 24)


def scenario_with(tmp_path, text: str, name: str = "load.csv", *, key: str = "load_file", group: int = 0,
                  **more):
    path = tmp_path / name
    path.write_text(text)
    base = load_scenario(ROOT / "scenarios" / "vpp.toml")
    return base.with_overrides({**TWO_DAYS, f"population.{group}.{key}": str(path),
                                **{f"population.{group}.{k}": v for k, v in more.items()}})


def inputs_of(scenario):
    n = scenario.feeder.households()
    pos = np.arange(len(scenario.prosumer_ids()))
    rng = np.random.default_rng
    return compute_inputs(scenario, n_households=n, prosumer_pos=pos, rng_weather=rng(0), rng_loads=rng(1))


# the load changes the run as it should ---------------------------------------------------------------------------
def test_two_day_load_file_gives_its_totals_to_timeseries_and_meters_and_changes_the_settlement(tmp_path):
    from sim.runner import run_scenario

    measured = run_scenario(scenario_with(tmp_path, one_then_two_kw()))
    base = run_scenario(load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides(TWO_DAYS))
    ts = measured.timeseries
    wide = {q: ts[ts.quantity == q].pivot(index="time", columns="entity", values="value")
            for q in ("load_kw", "pv_kw", "battery_kw", "export_kw")}
    members = [f"pv-battery-{i:02d}" for i in range(1, 5)]
    energy_kwh = wide["load_kw"][members].sum() * 0.25  # an hourly file on 15-minute steps
    assert np.allclose(energy_kwh, 72.0, atol=1e-9)
    day = wide["load_kw"].index < pd.Timestamp("2025-06-02T22:00Z")
    assert np.allclose(wide["load_kw"].loc[day, members], 1.0) and np.allclose(wide["load_kw"].loc[~day, members], 2.0)
    for j, pid in enumerate(measured.twin.prosumer_ids):  # the meter integrates what the household did
        m = measured.twin.prosumer_meters[j]
        net_kwh = (m.export_register_wh - m.import_register_wh) / 1000
        assert net_kwh == pytest.approx(wide["export_kw"][pid].sum() * 0.25, abs=1e-6)
        if pid in members:
            assert net_kwh == pytest.approx((wide["pv_kw"][pid] - wide["battery_kw"][pid]).sum() * 0.25 - 72.0,
                                            abs=1e-6)
    # the other prosumers are as before; the members with the larger load deliver less to the VPP
    others = ["pv-only-01", "pv-only-02"]
    base_load = base.timeseries[base.timeseries.quantity == "load_kw"].pivot(index="time", columns="entity",
                                                                               values="value")
    assert np.array_equal(base_load[others].to_numpy(), wide["load_kw"][others].to_numpy())
    assert base_load[members].sum().sum() * 0.25 < 4 * 72.0 / 2
    got, was = measured.summary["vpp"]["member_detail"], base.summary["vpp"]["member_detail"]
    assert all(got[p]["delivered_kwh"] < was[p]["delivered_kwh"] for p in members)
    assert measured.summary["vpp"]["delivered_kwh"] < base.summary["vpp"]["delivered_kwh"]
    # the manifest names the file by its content; the run id changes with the file's content, not its folder
    (entry,) = measured.manifest["input_files"]
    assert entry["role"] == "population[0].load_file" and entry["path"] == str(tmp_path / "load.csv")
    assert len(entry["sha256"]) == 64 and base.manifest["input_files"] == []
    moved = scenario_with(tmp_path / "..", one_then_two_kw(), name="moved.csv")
    assert moved.digest() == measured.scenario.digest() != base.scenario.digest()


def test_a_relative_file_is_found_next_to_the_scenario(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "load.csv").write_text(one_then_two_kw())
    text = (ROOT / "scenarios" / "vpp.toml").read_text().replace(
        "annual_load_kwh = 4200.0", 'load_file = "data/load.csv"', 1).replace("duration_s = 604800",
                                                                               "duration_s = 172800")
    (tmp_path / "s.toml").write_text(text)
    s = load_scenario(tmp_path / "s.toml")
    assert s.population[0].load_file == str(tmp_path / "data" / "load.csv")
    assert s.population[0].annual_load_kwh is None  # measured: not needed


def test_energy_per_interval_per_member_columns_and_the_forecasters_view(tmp_path):
    """Per-member 15-minute kWh columns: member 1 0.25 kWh each quarter (1 kW), member 2 0.5 kWh (2 kW)."""
    times = pd.date_range(START, periods=192, freq="15min")
    text = "time,pv-only-01_energy_kwh,pv-only-02_energy_kwh,p_kw\n" + "".join(
        f"{t.isoformat()}+02:00,0.25,0.5,9\n" for t in times)
    s = scenario_with(tmp_path, text, group=1)
    inp, ref = inputs_of(s), inputs_of(load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides(TWO_DAYS))
    assert np.allclose(inp.household_load_kw[:, 4], 1.0) and np.allclose(inp.household_load_kw[:, 5], 2.0)
    assert np.array_equal(inp.household_load_kw[:, :4], ref.household_load_kw[:, :4])  # others as before
    assert np.array_equal(inp.household_load_kw[:, 6:], ref.household_load_kw[:, 6:])
    # the forecaster expects the BDEW shape at the file's energy over the run (48 and 96 kWh)
    assert inp.expected_load_kw[:, 4:].sum(axis=0) * 0.25 == pytest.approx([48.0, 96.0])
    shape = ref.expected_load_kw[:, 0] / ref.expected_load_kw[:, 0].sum()
    assert np.allclose(inp.expected_load_kw[:, 4] / inp.expected_load_kw[:, 4].sum(), shape)
    assert inp.annual_load_kwh[5] == pytest.approx(2 * inp.annual_load_kwh[4])
    assert np.array_equal(inp.expected_load_kw[:, :4], ref.expected_load_kw[:, :4])


def test_annual_scale_gives_the_groups_annual_energy_per_8760_h(tmp_path):
    s = scenario_with(tmp_path, one_then_two_kw(), load_scale="annual", annual_load_kwh=4380.0)
    inp = inputs_of(s)
    # mean 1.5 kW over the file becomes 4380 / 8760 = 0.5 kW: 1 kW -> 1/3 kW, 2 kW -> 2/3 kW
    assert inp.household_load_kw[:, :4].sum(axis=0) * 0.25 == pytest.approx([24.0] * 4)
    assert inp.annual_load_kwh[0] == 4380.0


def test_a_pv_file_replaces_pvlibs_and_the_forecast_keeps_clear_sky(tmp_path):
    pv = hourly([0.0] * 6 + [3.0] * 12 + [0.0] * 30)  # 36 kWh, all on the first day
    measured = inputs_of(scenario_with(tmp_path, pv, "pv.csv", key="pv_file", group=1))
    ref = inputs_of(load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides(TWO_DAYS))
    assert measured.pv_kw[:, 4:].sum(axis=0) * 0.25 == pytest.approx([36.0, 36.0])
    assert np.array_equal(measured.pv_clear_kw, ref.pv_clear_kw) and np.array_equal(measured.pv_kw[:, :4],
                                                                                      ref.pv_kw[:, :4])
    per_kwp = inputs_of(scenario_with(tmp_path, hourly([0.5] * 48), "pv.csv", key="pv_file", group=1,
                                      pv_scale="per_kwp"))
    assert np.allclose(per_kwp.pv_kw[:, 4:], 2.5)  # 0.5 kW/kWp x 5 kWp


# bad files: refused by the scenario, naming file, line or column and what was expected ----------------------------
@pytest.mark.parametrize("text, expected", [
    ("time,load\n" + "".join(f"2025-06-0{2 + h // 24}T{h % 24:02d}:00+02:00,1\n" for h in range(48)),
     r"no column 'p_kw' \(household load, mean power over the interval in kW\) or 'energy_kwh'.*found 'time', "
     r"'load'"),
    (hourly([1.0] * 48, column="p_w"), r"no column 'p_kw'.*found 'p_w', which is not in the unit expected"),
    (hourly([1.0] * 48, column="energy_wh"), r"no column 'p_kw'.*found 'energy_wh', which is not in the unit expected"),
    (hourly([1.0] * 10 + [float("nan")] + [1.0] * 37), r"line 12: column 'p_kw': .*not a number"),
    (hourly([1.0] * 10 + [-0.5] + [1.0] * 37), r"line 12: column 'p_kw': .*negative; expected household load"),
    ("\n".join(hourly([1.0] * 48).splitlines()[:6] + hourly([1.0] * 48).splitlines()[7:]) + "\n",
     r"line 7: time .* is 7200 s after the row before, the file's step is 3600 s"),
    ("\n".join([hourly([1.0] * 48).splitlines()[i] for i in [0, 1, 2, 4, 3, *range(5, 49)]]) + "\n",
     r"line 5: time .* goes back from the row before.*strictly increasing"),
    (hourly([1.0] * 48, start="2024-06-02T00:00"), r"covers 2024-06-02T00:00:00\+02:00 to 2024-06-04T00:00:00\+02:00; "
                                                   r"the run needs 2025-06-02T00:00:00\+02:00 to 2025-06-04T00:00"),
    (hourly([1.0] * 30), r"covers .* to 2025-06-03T06:00:00\+02:00; the run needs .* to 2025-06-04T00:00"),
], ids=["missing column", "W not kW", "Wh not kWh", "NaN", "negative", "gap", "not monotonic", "other year",
        "too short"])
def test_bad_load_files_are_refused_by_the_scenario(tmp_path, text, expected):
    with pytest.raises(ScenarioError, match=r"population\[0\]\.load_file: .*load\.csv: " + expected):
        scenario_with(tmp_path, text)


def test_per_member_columns_need_every_member(tmp_path):
    text = "time,pv-only-01_p_kw,pv-only-02_p_w\n" + "".join(
        f"{t.isoformat()}+02:00,1,1000\n" for t in pd.date_range(START, periods=48, freq="h"))
    with pytest.raises(ScenarioError, match=r"no column 'pv-only-02_p_kw' \(household load of pv-only-02.*found "
                                            r"'pv-only-02_p_w', which is not in the unit"):
        scenario_with(tmp_path, text, group=1)


def test_pv_above_its_peak_and_misused_keys_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match=r"pv_file: .*pv\.csv: line 3: the PV output of pv-only-01 is 5000 kW, "
                                            r"above the 5 kW its pv_kwp allows"):
        scenario_with(tmp_path, hourly([0.0, 5000.0] + [0.0] * 46), "pv.csv", key="pv_file", group=1)
    with pytest.raises(ScenarioError, match="load_scale 'annual' scales the load file to annual_load_kwh"):
        scenario_with(tmp_path, one_then_two_kw(), load_scale="annual", annual_load_kwh=None)
    base = load_scenario(ROOT / "scenarios" / "vpp.toml")
    with pytest.raises(ScenarioError, match="load_scale is how load_file's values are used"):
        base.with_overrides({"population.0.load_scale": "annual"})
    with pytest.raises(ScenarioError, match=r"population\[0\]\.annual_load_kwh: missing"):
        base.with_overrides({"population.0.annual_load_kwh": None})
    with pytest.raises(ScenarioError, match="no such household load file"):
        base.with_overrides({**TWO_DAYS, "population.0.load_file": str(tmp_path / "none.csv")})


def test_the_dynamic_tariff_needs_the_annual_energy_of_a_measured_group(tmp_path):
    (tmp_path / "load.csv").write_text(one_then_two_kw())
    with pytest.raises(ScenarioError, match=r"population\[0\]\.annual_load_kwh: missing: the dynamic tariff"):
        load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides(
            {**TWO_DAYS, "prices.tariff": "dynamic", "population.0.annual_load_kwh": None,
             "population.0.load_file": str(tmp_path / "load.csv")})
