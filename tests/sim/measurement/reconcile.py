"""The readings table of a run reconciles with its VEE counts (``summary.vee``): one row per meter and VEE
period plus one per rejected raw reading; shared by the capability tests that check it."""

from __future__ import annotations

from sim.measurement.readings_log import COLUMNS, STATUSES


def assert_readings_reconcile_with_vee(result) -> None:
    """``result``: a ``RunResult``. Rows = periods + rejected; every meter of the run has each period 0 … n-1
    exactly once; measured/estimated rows match VEE's accepted/estimated; only the schema's statuses."""
    vee, table = result.summary["vee"], result.readings
    assert list(table.columns[:2]) == ["meter", "period"] and set(COLUMNS) <= set(table.columns)
    assert set(table.status) <= set(STATUSES), set(table.status) - set(STATUSES)
    assert len(table) == vee["periods"] + vee["rejected"]
    rejected = table[table.status == "rejected_vee"]
    assert len(rejected) == vee["rejected"]
    assert rejected.rule.value_counts().to_dict() == vee["rejected_by_rule"]
    validated = table[table.status != "rejected_vee"]
    assert not validated.duplicated(["meter", "period"]).any()
    n_periods = result.scenario.n_periods
    meters = [m.meter_id for m in result.twin.measurement.meters]
    per_meter = validated.groupby("meter").period.agg(["count", "min", "max"])
    assert sorted(per_meter.index) == sorted(meters)
    assert (per_meter["count"] == n_periods).all() and (per_meter["min"] == 0).all()
    assert (per_meter["max"] == n_periods - 1).all()
    assert (validated.quality == 0).sum() == vee["accepted"]
    assert (validated.quality == 1).sum() == vee["estimated"]
