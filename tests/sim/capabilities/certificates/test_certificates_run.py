"""End-to-end run of the certificates scenario (one day, six consumers): no double counting, read from the
ledger and checked against the contract; the physics cap; estimated intervals never minted; 24/7 claims within
metered consumption; the summary's CFE scores; reproducibility."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from contracts.certificates import split_id
from sim.capabilities.certificates.ledger import consumer_scores, replay
from sim.results.summary import event_args
from sim.runner import run_scenario

pytestmark = pytest.mark.slow


def _args(run, event):
    return event_args(run.ledger, "Certificates", event)


def test_nothing_is_counted_twice(certs_run):
    state = replay(certs_run.ledger)
    assert state.violations == []
    issued, caps = _args(certs_run, "Issued"), _args(certs_run, "CapPosted").set_index("id")
    assert len(issued) > 20 and issued.id.is_unique
    for row in issued.itertuples():  # per (device, hour): minted = min(metered, cap), once
        assert row.amount_wh == min(row.metered_wh, caps.cap_wh[row.id]) == min(row.metered_wh, row.cap_wh)
    assert state.total_retired <= state.total_minted and state.total_retired > 0
    live = state.live_by_id()
    assert sum(live.values()) + state.total_retired == state.total_minted


def test_metered_value_of_each_mint_is_the_validated_signed_reading(certs_run):
    readings = certs_run.readings.set_index(["meter", "period"])
    devices = _args(certs_run, "DeviceRegistered").set_index("device_id")
    for row in _args(certs_run, "Issued").itertuples():
        device_id, period = split_id(row.id)
        r = readings.loc[(f"meter/{devices.name[device_id]}", period)]
        assert (r.energy_wh, r.quality, r.rule, r.status) == (row.metered_wh, 0, "measured", "accepted")
        assert row.meter == devices.meter[device_id]


def test_contract_state_rebuilt_from_events_equals_the_contract(certs_run):
    state = replay(certs_run.ledger)
    certs = certs_run.twin.capability("certificates").certs
    pairs = sorted(state.balances)
    assert certs.balances(pairs) == [state.balances[p] for p in pairs]
    for id_, minted in state.minted.items():
        assert (certs.minted_wh(id_), certs.retired_wh(id_), certs.cap_wh(id_)) == (
            minted, state.retired.get(id_, 0), state.caps[id_])
    assert all(certs.cap_wh(i) == cap for i, cap in state.caps.items())
    for (consumer, period), wh in state.consumed.items():
        assert certs.consumed_wh(consumer, period) == wh
        assert certs.claimed_wh(consumer, period) == state.claimed.get((consumer, period), 0) <= wh
    assert certs.call("total_minted_wh") == state.total_minted
    assert certs.call("total_retired_wh") == state.total_retired


def test_estimated_intervals_and_night_hours_mint_nothing(certs_run):
    issued = _args(certs_run, "Issued")
    minted = {split_id(i) for i in issued.id}
    devices = _args(certs_run, "DeviceRegistered").set_index("name").device_id
    log = certs_run.readings
    estimated = log[log.meter.isin([f"meter/{n}" for n in devices.index]) & (log.quality == 1)]
    assert len(estimated) >= 1  # 4 % of readings dropped, estimated by VEE
    for r in estimated.itertuples():
        assert (devices[r.meter.removeprefix("meter/")], r.period) not in minted
        assert (r.status, r.reason) == ("not_posted", "estimated interval: mints nothing")
    caps = _args(certs_run, "CapPosted")
    pv = caps[caps.device_id.isin(devices[[s.name for s in certs_run.scenario.certificates.sites
                                            if s.technology == "pv"]])]
    night = pv[(pv.period < 5) | (pv.period >= 21)]  # local hours of the run's first day
    assert len(night) == 3 * 8 and (night.cap_wh == 0).all()
    assert not {(d, p) for d, p in zip(night.device_id, night.period)} & minted


def test_claims_are_24_7_within_metered_consumption_and_scored(certs_run):
    retired, used = _args(certs_run, "Retired"), _args(certs_run, "ConsumptionRecorded")
    assert len(retired) > 0
    assert all(split_id(i)[1] == c for i, c in zip(retired.id, retired.consumption_interval))
    claimed = retired.groupby(["beneficiary", "consumption_interval"]).amount_wh.sum()
    consumed = used.set_index(["consumer", "period"]).energy_wh
    assert (claimed <= consumed.reindex(claimed.index)).all()
    scores = consumer_scores(certs_run.ledger)
    summary = certs_run.summary["certificates"]
    assert summary["double_counting_violations"] == [] and summary["ledger_matches_contract"]
    assert summary["consumers"] == 6 and set(summary["consumer_detail"]) == set(scores.index)
    for name, row in scores.iterrows():
        assert 0 < row.hourly_cfe_score <= row.annual_matching_score <= 1
        assert summary["consumer_detail"][name]["hourly_cfe_score"] == pytest.approx(row.hourly_cfe_score)


def test_results_folder_has_the_certificate_plots(certs_run):
    manifest = json.loads((certs_run.folder / "manifest.json").read_text())
    assert manifest["status"] == "complete" and set(manifest["contracts"]) == {"EuroToken", "Certificates"}
    for name in ("certificates_minted_vs_cap", "certificates_hourly_matching", "certificates_cfe_per_consumer"):
        assert f"plots/{name}.png" in manifest["files"]
    ts = pd.read_parquet(certs_run.folder / "timeseries.parquet")
    assert {"pv-stade", "wind-geest", "office-01"} <= set(ts.entity)


def test_same_seed_same_results(certs_scenario, certs_run):
    again = run_scenario(certs_scenario)
    pd.testing.assert_frame_equal(certs_run.ledger, again.ledger)
    pd.testing.assert_frame_equal(certs_run.timeseries, again.timeseries)
    pd.testing.assert_frame_equal(certs_run.readings, again.readings)
    assert certs_run.summary == again.summary
