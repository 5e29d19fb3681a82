"""Day settlement (``vpp.settlement = "day"``: a day's declarations committed as one hash, each meter's day
signed once, the day settled in one transaction) settles exactly what the per-period path settles with the same
day-ahead declarations, including a short last day; a day with a forged batch stays unsettled with the
contract's reason and its readings are recorded refused."""

from __future__ import annotations

import pytest

from contracts.eip712 import key_for, sign_reading_batch
from sim.measurement.meters import VirtualMeter
from sim.runner import run_scenario
from sim.scenario import ScenarioError

pytestmark = pytest.mark.slow

HORIZON = {"run.duration_s": 2 * 86_400 + 5 * 3600, "chain.backend": "revm"}  # the third day has 5 periods


def _periods(result):
    return [e.args for e in result.twin.chain.events if e.event == "PeriodSettled"]


def test_day_settlement_settles_like_the_period_path(small_scenario):
    by_period = run_scenario(small_scenario.with_overrides({**HORIZON, "vpp.declaration": "day_ahead"}))
    by_day = run_scenario(small_scenario.with_overrides({**HORIZON, "vpp.settlement": "day"}))
    n_periods = by_day.scenario.n_periods
    assert n_periods == 53
    assert _periods(by_day) == _periods(by_period) and len(_periods(by_day)) == n_periods
    assert by_day.summary["vpp"] == by_period.summary["vpp"]
    assert by_day.summary["vpp"]["money_conserved_every_period"]
    assert by_day.summary["vpp"]["penalties_eur"] > 0 and by_day.summary["vpp"]["paid_eur"] > 0
    members = by_day.summary["vpp"]["members"]
    assert by_day.summary["chain"]["readings_verified"] == by_period.summary["chain"]["readings_verified"] \
        == members * n_periods
    days = [e for e in by_day.twin.chain.events if e.event == "MeterDaySettled"]
    assert len(days) == 3 * members
    assert not any(e.event in ("Payout", "Penalty", "ReadingAccepted", "Declared") for e in by_day.twin.chain.events)
    assert by_day.summary["chain"]["gas_used"] < by_period.summary["chain"]["gas_used"] / 3
    assert by_day.timeseries.equals(by_period.timeseries)  # the prosumers follow the same declarations


def test_a_forged_day_stays_unsettled_with_the_contracts_reason(small_scenario, monkeypatch):
    forged_id = "meter/" + small_scenario.prosumer_ids()[1]
    honest = VirtualMeter.sign_batch

    def sign_batch(self, domain_separator, first_period, energy_wh, quality):
        if self.meter_id == forged_id and first_period == 24:  # the second day signed with another key
            return sign_reading_batch(key_for(99, "intruder"), domain_separator, first_period, energy_wh, quality,
                                      meter=self.address)
        return honest(self, domain_separator, first_period, energy_wh, quality)

    monkeypatch.setattr(VirtualMeter, "sign_batch", sign_batch)
    result = run_scenario(small_scenario.with_overrides({**HORIZON, "vpp.settlement": "day"}))
    vpp = result.summary["vpp"]
    assert sorted(map(int, vpp["unsettled_periods"])) == list(range(24, 48))
    reasons = set(vpp["unsettled_periods"].values())
    assert len(reasons) == 1 and reasons.pop().startswith("vpp: ")
    assert vpp["periods_settled"] == 53 - 24
    log = result.readings[result.readings.meter.str.startswith("meter/")]
    refused = log[log.status == "refused"]
    assert len(refused) == 24 * vpp["members"] and set(refused.period) == set(range(24, 48))
    assert vpp["readings"]["accepted_on_chain"] == (53 - 24) * vpp["members"]
    assert vpp["money_conserved_every_period"]


def test_day_settlement_needs_whole_hours_in_a_day(small_scenario):
    with pytest.raises(ScenarioError, match=r"run.settlement_s \(900\) must divide a day into at most 24"):
        small_scenario.with_overrides({"vpp.settlement": "day", "run.settlement_s": 900})
    with pytest.raises(ScenarioError, match="declaration = 'rolling' cannot go with settlement = 'day'"):
        small_scenario.with_overrides({"vpp.settlement": "day", "vpp.declaration": "rolling"})
