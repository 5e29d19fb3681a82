"""A VPP run's readings table reconciles with ``summary.vee``: the members' meters are the VPP's rows (accepted
or refused), a prosumer outside ``vpp.members`` has its VEE periods ``not_posted`` (no capability settles its
meter), and every rejected raw reading is a ``rejected_vee`` row."""

from __future__ import annotations

import pytest

from sim.measurement.readings_log import NO_CAPABILITY
from sim.runner import run_scenario
from tests.sim.measurement.reconcile import assert_readings_reconcile_with_vee

pytestmark = pytest.mark.slow
MEMBERS = ["pv-battery-01", "pv-battery-02", "pv-only-01"]
FAULTS = {"meters.drop_probability": 0.05, "meters.spike_probability": 0.05}


def test_vpp_readings_reconcile_with_vee(small_run):
    assert_readings_reconcile_with_vee(small_run)
    assert set(small_run.readings.status) == {"accepted"}


def test_members_rows_are_the_vpps_the_others_not_posted(small_scenario):
    run = run_scenario(small_scenario.with_overrides({"vpp.members": MEMBERS, **FAULTS}))
    vee = run.summary["vee"]
    assert vee["rejected"] > 0 and vee["estimated"] > 0
    assert_readings_reconcile_with_vee(run)
    validated = run.readings[run.readings.status != "rejected_vee"]
    members = validated.meter.isin([f"meter/{m}" for m in MEMBERS])
    assert set(validated[members].status) <= {"accepted", "refused"}
    assert set(validated[~members].status) == {"not_posted"} and set(validated[~members].reason) == {NO_CAPABILITY}
    assert validated[~members].meter.nunique() == len(run.scenario.prosumer_ids()) - len(MEMBERS)
