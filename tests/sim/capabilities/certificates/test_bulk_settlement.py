"""Accuracy of the bulk certificate settlement: every shipped scenario with certificates, run with ``[certificates]
settlement = "bulk"`` (the default) and with the per-action reference path, gives the same Certificates events
(but the burn's operator, the mint's block time and the exchange's retirer approvals), the same balances, mints,
retirements and claims replayed from the ledger, the same summary figures (CFE scores, totals, per site and per
consumer) and the same readings log (``sim.capabilities.certificates.equivalence``). On revm: the backends agree
event for event (tests/contracts), so the chain is not what is compared here."""

from __future__ import annotations

import pytest

from sim.capabilities.certificates.equivalence import settlement_differences
from sim.runner import run_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

SCENARIOS = {  # file: days (certificates.toml and year_tmy3.toml a week; community.toml is one day, 15-min intervals)
    "certificates.toml": 7,
    "year_tmy3.toml": 7,
    "community.toml": 1,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_bulk_settles_as_the_per_action_path(name):
    overrides = {"run.duration_s": SCENARIOS[name] * 86_400, "chain.backend": "revm"}
    bulk = run_scenario(ROOT / "scenarios" / name, overrides=overrides)
    ref = run_scenario(ROOT / "scenarios" / name, overrides={**overrides, "certificates.settlement": "per_action"})
    assert bulk.scenario.certificates.settlement == "bulk"
    assert settlement_differences(bulk.ledger, bulk.summary, ref.ledger, ref.summary, bulk.readings,
                                  ref.readings) == []
    cert = bulk.summary["certificates"]
    assert cert["retired_kwh"] > 0 and 0 < cert["hourly_cfe_score"] < 1.0 + 1e-12
    assert cert["double_counting_violations"] == [] and cert["ledger_matches_contract"]
    # the point of it: far fewer transactions
    assert bulk.summary["chain"]["transactions"] < ref.summary["chain"]["transactions"] * 0.8


def test_a_changed_retirement_is_found():
    """The comparison is not blind: one Retired amount moved from one event to another is reported."""
    import json

    run = run_scenario(ROOT / "scenarios" / "certificates.toml",
                       overrides={"run.duration_s": 86_400, "chain.backend": "revm",
                                  **{f"certificates.consumers.{i}.count": 1 for i in range(5)}})
    ledger = run.ledger.copy()
    retired = ledger.index[(ledger.contract == "Certificates") & (ledger.event == "Retired")]
    a, b = (json.loads(ledger.at[i, "args"]) for i in retired[:2])
    a["amount_wh"], b["amount_wh"] = a["amount_wh"] + 1, b["amount_wh"] - 1
    ledger.loc[retired[0], "args"], ledger.loc[retired[1], "args"] = json.dumps(a), json.dumps(b)
    found = settlement_differences(ledger, run.summary, run.ledger, run.summary)
    assert any("Retired" in f for f in found) and any("replayed" in f for f in found)


def test_a_refused_sale_is_recorded_not_dropped(monkeypatch):
    """A consumer that never approved the exchange as its retirer: each of its sales is refused by the contract
    with its reason and counted in the summary's refusals; every other sale lands."""
    from agents.certificates.market import CertificateExchange

    approve = CertificateExchange.approve_for
    monkeypatch.setattr(CertificateExchange, "approve_for", lambda self, consumers: approve(self, consumers[1:]))
    run = run_scenario(ROOT / "scenarios" / "certificates.toml",
                       overrides={"run.duration_s": 86_400, "chain.backend": "revm",
                                  **{f"certificates.consumers.{i}.count": 1 for i in range(5)}})
    cert = run.summary["certificates"]
    first = next(iter(cert["consumer_detail"]))
    refused = cert["refusals"].get("certs: caller is neither the beneficiary nor approved by it", 0)
    assert refused > 0 and set(cert["refusals"]) == {"certs: caller is neither the beneficiary nor approved by it"}
    assert cert["consumer_detail"][first]["matched_kwh"] == 0 and cert["consumer_detail"][first]["consumed_kwh"] > 0
    assert all(d["matched_kwh"] > 0 for name, d in cert["consumer_detail"].items() if name != first)
    assert cert["double_counting_violations"] == [] and cert["ledger_matches_contract"]


@pytest.mark.parametrize("backend", ["revm", "py-evm"])
def test_a_refused_consumption_reading_is_recorded_as_per_action(monkeypatch, backend):
    """The first consumer's meter registered with a range of 5 Wh an interval: in bulk its day batches are refused
    (a value out of range), then posted reading by reading, so each reading above 5 Wh is refused with the
    contract's reason in the readings log and the rest recorded: the same as the per-action path, on both
    backends."""
    from contracts.certificates import Certificates

    register = Certificates.register_consumers
    monkeypatch.setattr(Certificates, "register_consumers", lambda self, consumers, *, sender: register(
        self, [(*consumers[0][:3], 5), *consumers[1:]], sender=sender))
    overrides = {"run.duration_s": 86_400, "chain.backend": backend,
                 **{f"certificates.consumers.{i}.count": 1 for i in range(5)}}
    bulk = run_scenario(ROOT / "scenarios" / "certificates.toml", overrides=overrides)
    ref = run_scenario(ROOT / "scenarios" / "certificates.toml",
                       overrides={**overrides, "certificates.settlement": "per_action"})
    log = bulk.readings
    refused = log[log.status.eq("refused")]
    assert len(refused) > 0 and set(refused.reason) == {"certs: reading out of range"}
    assert refused.meter.nunique() == 1 and (refused.energy_wh > 5).all()
    assert settlement_differences(bulk.ledger, bulk.summary, ref.ledger, ref.summary, bulk.readings,
                                  ref.readings) == []
    # the other consumers' readings went as day batches, one signature over each meter's day
    accepted = log[log.status.eq("accepted") & log.meter.str.startswith("meter/") & log.sig_kind.eq("batch")]
    assert accepted.meter.nunique() == 4
