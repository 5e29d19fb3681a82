"""Micro-DSR's readings table: the households' meters are validated but no capability settles them (no [vpp]),
so each of their VEE periods is a ``not_posted`` row and each rejected raw reading a ``rejected_vee`` row; the
table reconciles with ``summary.vee`` (it was empty while VEE counted every reading). The outlets' delay reports
are FlexDelays records (ledger.parquet), not meter readings."""

from __future__ import annotations

import pytest

from sim.measurement.readings_log import NO_CAPABILITY
from sim.runner import run_scenario
from tests.conftest import ROOT
from tests.sim.measurement.reconcile import assert_readings_reconcile_with_vee

pytestmark = pytest.mark.slow
SIX_HOURS = {"run.duration_s": 6 * 3600, "meters.drop_probability": 0.05, "meters.spike_probability": 0.05}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return run_scenario(ROOT / "scenarios" / "micro_dsr.toml", overrides=SIX_HOURS,
                        out=tmp_path_factory.mktemp("dsr") / "readings")


def test_readings_table_reconciles_with_vee(run):
    vee = run.summary["vee"]
    assert vee["periods"] == 57 * 24 and vee["rejected"] > 0 and vee["estimated"] > 0  # faults exercised VEE
    assert_readings_reconcile_with_vee(run)


def test_household_meters_are_not_posted_because_nothing_settles_them(run):
    table = run.readings
    validated = table[table.status != "rejected_vee"]
    assert set(validated.status) == {"not_posted"} and set(validated.reason) == {NO_CAPABILITY}
    assert set(table.meter) == {f"meter/home-{i:02d}" for i in range(1, 58)}
    assert not table.meter.str.startswith("outlet/").any()  # delay reports: ledger.parquet (DelayLogged)


def test_readings_parquet_is_the_table(run):
    import pandas as pd

    on_disk = pd.read_parquet(run.folder / "readings.parquet")
    assert len(on_disk) == len(run.readings) == run.summary["vee"]["periods"] + run.summary["vee"]["rejected"]
