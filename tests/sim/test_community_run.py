"""The combined scenario: all five capabilities on one community, one clock and one chain (shortened to an
afternoon and evening), with every contract's invariants read back from the chain and the ledger."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from sim.capabilities.dsr.audit import audit_folder
from sim.results.summary import event_args
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

AFTERNOON = {"run.start": dt.datetime(2025, 3, 10, 16), "run.duration_s": 4 * 3600}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    scenario = load_scenario(ROOT / "scenarios" / "community.toml").with_overrides(AFTERNOON)
    return run_scenario(scenario, out=tmp_path_factory.mktemp("community") / "run")


def test_all_five_capabilities_ran_and_settled_every_period(run):
    names = [c.name for c in run.twin.capabilities]
    assert names == ["vpp", "certificates", "insurance", "dsr", "heat"]
    assert set(run.manifest["contracts"]) == {"EuroToken", "VppSettlement", "Certificates", "MutualInsurance",
                                              "FlexDelays", "HeatEfficiency"}
    n = run.scenario.n_periods
    assert run.summary["vpp"]["periods_settled"] == n and run.summary["heat"]["periods_settled"] == n
    assert run.summary["vpp"]["delivered_kwh"] > 0 and run.summary["certificates"]["minted_kwh"] > 0
    assert run.summary["dsr"]["dr_events"] > 0 and run.summary["dsr"]["delays"] > 0
    assert run.summary["heat"]["tokens_total"] > 0 and run.summary["insurance"]["premiums_eur"] > 0


def test_euro_supply_is_the_sum_of_every_balance(run):
    """One EuroToken serves every capability: money held by actors and by contracts adds up to what was minted."""
    twin = run.twin
    token = twin.bank.token
    holders = set(twin.bank.accounts.values()) | set(twin.chain.deployed().values())
    assert sum(token.balance_of(h) for h in holders) == token.total_supply() > 0


def test_vpp_money_is_conserved_every_period(run):
    assert run.summary["vpp"]["money_conserved_every_period"]
    settled = event_args(run.ledger, "VppSettlement", "PeriodSettled")
    paid = event_args(run.ledger, "VppSettlement", "Payout").groupby("period").amount_ueur.sum()
    for row in settled.itertuples():
        assert paid.get(row.period, 0) == row.revenue_ueur + row.penalties_ueur == row.paid_ueur


def test_heat_tokens_and_bonus_are_conserved(run):
    cap = run.twin.capability("heat")
    assert sum(cap.scheme.balance_of(c.account) for c in cap.consumers) == cap.scheme.total_supply() > 0
    h = run.summary["heat"]
    assert h["tokens_conserved"] and h["bonus_conserved_every_period"]
    p, n = h["physics"], run.scenario.n_steps
    assert p["pipe_flows"] == n * run.scenario.run.step_s // run.scenario.heat.step_s  # heat.step_s: 15 min
    assert p["balance_max_rel_error"] < 1e-3 and p["consumer_heat_max_rel_error"] < 1e-4
    assert h["bonus_paid_eur"] == h["pool_deposited_eur"]


def test_certificates_are_never_counted_twice_and_minted_within_the_cap(run):
    c = run.summary["certificates"]
    assert c["double_counting_violations"] == [] and c["ledger_matches_contract"]
    assert c["live_kwh"] + c["retired_kwh"] == pytest.approx(c["minted_kwh"], abs=1e-3)
    issued = event_args(run.ledger, "Certificates", "Issued")
    assert (issued.amount_wh <= issued.cap_wh).all()


def test_flex_tokens_match_the_shifted_energy_and_the_audit_passes(run):
    cap = run.twin.capability("dsr")
    supply = cap.flex.total_supply()
    assert supply == sum(cap.flex.balance_of(c) for c in cap.customers)
    assert supply == run.scenario.dsr.tokens_per_kwh * cap.flex.call("total_shifted_wh")
    passed, _, problems = audit_folder(run.folder)
    assert passed, problems


def test_insurance_pool_is_premiums_minus_payouts_and_never_negative(run):
    premiums = payouts = 0
    for row in run.ledger[run.ledger.contract == "MutualInsurance"].itertuples():
        a = json.loads(row.args)
        premiums += a["amount_ueur"] if row.event == "PremiumPaid" else 0
        payouts += a.get("paid_ueur", 0) if row.event == "ClaimPaid" else 0
        payouts += a["amount_ueur"] if row.event == "QueuedPaid" else 0
        if row.event == "Solvency":
            assert a["pool_ueur"] == premiums - payouts >= 0
    assert run.twin.capability("insurance").ins.pool_ueur() == premiums - payouts
