"""Posting a day of readings per meter under one signature (``vpp.post_every_periods = 24``) settles exactly
what posting each reading under its own signature settles; and the reference path (web3, ``pp.runpp``) agrees."""

from __future__ import annotations

import pytest

from sim.runner import run_scenario

pytestmark = pytest.mark.slow

SETTLEMENT = ("PeriodSettled", "Payout", "Penalty")


def _settlement(result):
    events = result.twin.chain.events
    return ([(e.event, e.args) for e in events if e.event in SETTLEMENT],
            sorted((e.args["period"], e.args["meter"], e.args["energy_wh"], e.args["quality"])
                   for e in events if e.event == "ReadingAccepted"))


def _without_posting_detail(summary):
    return {k: v for k, v in summary.items() if k != "readings"}


def test_day_batches_settle_like_single_readings(small_scenario):
    base = small_scenario.with_overrides({"run.duration_s": 2 * 86_400, "chain.backend": "revm"})
    single = run_scenario(base)
    batched = run_scenario(base.with_overrides({"vpp.post_every_periods": 24}))
    a, b = _settlement(single), _settlement(batched)
    assert len(a[0]) > 100 and len(a[1]) == len(b[1]) > 0
    assert a == b
    assert _without_posting_detail(single.summary["vpp"]) == _without_posting_detail(batched.summary["vpp"])
    assert batched.summary["vpp"]["readings"]["accepted_on_chain"] == single.summary["chain"]["readings_verified"]
    assert batched.summary["chain"]["transactions"] < single.summary["chain"]["transactions"]


def test_reference_path_settles_the_same(small_scenario):
    base = small_scenario.with_overrides({"run.duration_s": 6 * 3600, "chain.backend": "revm",
                                          "vpp.post_every_periods": 6})
    fast = run_scenario(base)
    ref = run_scenario(base.with_overrides({"chain.backend": "web3", "feeder.solver": "runpp-lightsim2grid",
                                            "vpp.post_every_periods": 1}))
    assert ref.summary["chain"]["backend"] == "web3"
    assert _settlement(fast) == _settlement(ref) and len(_settlement(fast)[0]) > 0
