"""The two chain backends agree: the VPP scenario, and the community of all five capabilities, on py-evm and on
revm give the same decoded events, in order, and the same final balances."""

from __future__ import annotations

import datetime as dt

import pytest

from sim.runner import run_scenario

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("settlement", ["period", "day"])
def test_vpp_two_days_identical_on_py_evm_and_revm(small_scenario, settlement):
    two_days = {"run.duration_s": 2 * 86_400, "vpp.settlement": settlement}
    ref = run_scenario(small_scenario.with_overrides({**two_days, "chain.backend": "py-evm"}))
    fast = run_scenario(small_scenario.with_overrides({**two_days, "chain.backend": "revm"}))
    assert ref.summary["chain"]["backend"] == "py-evm" and fast.summary["chain"]["backend"] == "revm"
    cols = ["contract", "event", "args"]
    assert len(ref.ledger) > (1000 if settlement == "period" else 100)
    assert ref.ledger[cols].equals(fast.ledger[cols])
    assert ref.ledger["block"].equals(fast.ledger["block"])
    assert ref.summary["vpp"] == fast.summary["vpp"]
    token_ref, token_fast = ref.twin.bank.token, fast.twin.bank.token
    holders = list(ref.twin.accounts.values()) + [ref.twin.capability("vpp").vpp.address]
    assert [token_ref.balance_of(h) for h in holders] == [token_fast.balance_of(h) for h in holders]
    assert ref.timeseries.equals(fast.timeseries)


def test_every_contract_agrees_on_both_backends_in_the_community():
    """All six contracts on one chain, two evening hours: same events in the same blocks, same summaries, same
    balances on py-evm and revm."""
    from sim.scenario import load_scenario
    from tests.conftest import ROOT

    base = load_scenario(ROOT / "scenarios" / "community.toml").with_overrides(
        {"run.start": dt.datetime(2025, 3, 10, 17), "run.duration_s": 2 * 3600})
    ref = run_scenario(base.with_overrides({"chain.backend": "py-evm"}))
    fast = run_scenario(base.with_overrides({"chain.backend": "revm"}))
    assert set(ref.ledger.contract) == {"EuroToken", "VppSettlement", "Certificates", "MutualInsurance",
                                        "FlexDelays", "HeatEfficiency"}
    cols = ["block", "contract", "event", "args"]
    assert ref.ledger[cols].equals(fast.ledger[cols])
    same = [k for k in ref.summary if k not in ("chain", "run")]  # run_id hashes the scenario, backend included
    assert [ref.summary[k] for k in same] == [fast.summary[k] for k in same]
    holders = list(ref.twin.bank.accounts.values()) + list(ref.twin.chain.deployed().values())
    assert [ref.twin.bank.token.balance_of(h) for h in holders] == \
        [fast.twin.bank.token.balance_of(h) for h in holders]
