"""The two chain backends agree: the VPP scenario on py-evm and on revm gives the same decoded events, in order,
and the same final balances."""

from __future__ import annotations

import pytest

from sim.runner import run_scenario

pytestmark = pytest.mark.slow


def test_vpp_two_days_identical_on_py_evm_and_revm(small_scenario):
    two_days = {"run.duration_s": 2 * 86_400}
    ref = run_scenario(small_scenario.with_overrides({**two_days, "chain.backend": "py-evm"}))
    fast = run_scenario(small_scenario.with_overrides({**two_days, "chain.backend": "revm"}))
    assert ref.summary["chain"]["backend"] == "py-evm" and fast.summary["chain"]["backend"] == "revm"
    cols = ["contract", "event", "args"]
    assert len(ref.ledger) > 1000
    assert ref.ledger[cols].equals(fast.ledger[cols])
    assert ref.ledger["block"].equals(fast.ledger["block"])
    assert ref.summary["vpp"] == fast.summary["vpp"]
    token_ref, token_fast = ref.twin.bank.token, fast.twin.bank.token
    holders = list(ref.twin.accounts.values()) + [ref.twin.capability("vpp").vpp.address]
    assert [token_ref.balance_of(h) for h in holders] == [token_fast.balance_of(h) for h in holders]
    assert ref.timeseries.equals(fast.timeseries)
