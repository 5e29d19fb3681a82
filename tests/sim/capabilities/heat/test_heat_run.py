"""End-to-end runs of the district-heating scenario, shortened to 8 hours on six buildings: physics per step,
meters against the pipe flow, tokens and bonus conserved on chain, a bypass fixed and what it changes, the same
run without reaction, reproducibility."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from contracts.token import UEUR_PER_EUR
from grid_models.substation import state_code
from sim.capabilities.heat.tariff import preset_rule
from sim.results.summary import event_args
from sim.runner import run_scenario
from sim.scenario import load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

# Owners review every 3 h and, when fixing pays at all, fix at once: the fixes happen at hour 3 of 8.
REVIEW_H = 3
HOURS = 8
SMALL = {
    "run.duration_s": HOURS * 3600,
    "heat.buildings.0.count": 4,
    "heat.buildings.0.states": {"well_tuned": 0.5, "open_bypass": 0.25, "fouled_exchanger": 0.25},
    "heat.buildings.1.count": 2,
    "heat.behaviour.responsive_share": 0.5,
    "heat.behaviour.review_every_h": REVIEW_H,
    "heat.behaviour.max_fix_probability_per_day": 1.0,
    "heat.behaviour.half_response_bonus_eur_per_year": 1e-6,
}


@pytest.fixture(scope="module")
def heat_scenario():
    return load_scenario(ROOT / "scenarios" / "district_heating.toml").with_overrides(SMALL)


@pytest.fixture(scope="module")
def reacting(heat_scenario, tmp_path_factory):
    return run_scenario(heat_scenario, out=tmp_path_factory.mktemp("heat") / "reacting")


@pytest.fixture(scope="module")
def not_reacting(heat_scenario):
    return run_scenario(heat_scenario.with_overrides({"heat.behaviour.react": False}))


def _per_period(ledger: pd.DataFrame, event: str, consumer: str, column: str, n_periods: int) -> np.ndarray:
    rows = event_args(ledger, "HeatEfficiency", event)
    rows = rows[rows.consumer == consumer] if len(rows) else rows
    out = np.zeros(n_periods)
    for r in rows.itertuples():
        out[r.period] += getattr(r, column)
    return out


def test_results_folder_has_the_heat_plots_and_summary(reacting):
    manifest = json.loads((reacting.folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert set(manifest["contracts"]) == {"EuroToken", "HeatEfficiency"}
    for name in ("plots/heat_network.png", "plots/heat_tokens_bonus.png", "plots/heat_tariff_comparison.png"):
        assert name in manifest["files"]
    heat = json.loads((reacting.folder / "summary.json").read_text())["heat"]
    assert heat["periods_settled"] == HOURS and heat["unsettled_periods"] == {}
    assert heat["readings"]["accepted_on_chain"] == HOURS * 6


def test_physics_holds_every_step(reacting):
    p = reacting.summary["heat"]["physics"]
    assert p["pipe_flows"] == reacting.scenario.n_steps
    assert p["balance_max_rel_error"] < 1e-3  # source = consumers + losses (see test_heat_network)
    assert p["consumer_heat_max_rel_error"] < 1e-4  # every substation got its demand
    assert 2 < p["loss_share_percent"] < 25


def test_meter_readings_on_chain_reproduce_the_pipe_flow(reacting):
    twin = reacting.twin
    cap = twin.capability("heat")
    c = cap.recorder.consumer
    spp, dt_h = twin.steps_per_period, twin.step_s / 3600
    for j, consumer in enumerate(cap.consumers):
        heat = _per_period(reacting.ledger, "ReadingAccepted", consumer.account, "heat_wh", twin.n_periods)
        integral_wh = np.cumsum(c["heat_kw"][:, j] * dt_h * 1000)
        assert np.array_equal(np.cumsum(heat), np.floor(integral_wh[spp - 1 :: spp]))  # whole-Wh register
        dt_chain = _per_period(reacting.ledger, "ReadingAccepted", consumer.account, "delta_t_mk", twin.n_periods)
        m = c["mdot_kg_per_s"][:, j].reshape(-1, spp)
        dt_flow = (m * (c["t_supply_c"][:, j] - c["t_return_c"][:, j]).reshape(-1, spp)).sum(1) / m.sum(1)
        assert np.abs(dt_chain / 1000 - dt_flow).max() < 0.05  # flow-weighted ΔT registers [K]


def test_tokens_and_bonus_are_conserved_on_chain(reacting):
    ledger, cap = reacting.ledger, reacting.twin.capability("heat")
    settled = event_args(ledger, "HeatEfficiency", "PeriodSettled")
    paid = event_args(ledger, "HeatEfficiency", "BonusPaid").groupby("period").amount_ueur.sum()
    deposited = event_args(ledger, "HeatEfficiency", "PoolDeposited").set_index("period").amount_ueur
    assert len(settled) == HOURS and settled.pool_ueur.sum() > 0
    for r in settled.itertuples():
        assert paid.get(r.period, 0) == deposited[r.period] == r.pool_ueur == r.paid_ueur
        assert r.pool_ueur == cap.operator.pools_ueur[r.period]
    balances = [cap.scheme.balance_of(c.account) for c in cap.consumers]
    assert sum(balances) == cap.scheme.total_supply() > 0
    bank = reacting.twin.bank.token
    assert bank.balance_of(cap.scheme.address) == 0
    assert sum(bank.balance_of(c.account) for c in cap.consumers) == settled.paid_ueur.sum()
    h = reacting.summary["heat"]
    assert h["tokens_conserved"] and h["bonus_conserved_every_period"]
    assert h["bonus_paid_eur"] == h["pool_deposited_eur"] == settled.pool_ueur.sum() / UEUR_PER_EUR
    assert h["bonus_paid_eur"] <= h["benefit_measured_eur"] + 1e-6  # the pool never exceeds the benefit


def test_a_consumer_who_fixes_its_bypass_cools_better_earns_more_tokens_and_bonus(reacting):
    twin = reacting.twin
    cap = twin.capability("heat")
    fixers = [c for c in cap.consumers if c.initial_state == state_code("open_bypass") and c.fixed_at_step]
    assert fixers, "the scenario must contain a responsive owner of an open bypass"
    fix_period = twin.period_of_step(fixers[0].fixed_at_step)
    before, after = slice(0, fix_period), slice(fix_period + 1, twin.n_periods)
    for c in fixers:
        dt = _per_period(reacting.ledger, "ReadingAccepted", c.account, "delta_t_mk", twin.n_periods) / 1000
        tokens = _per_period(reacting.ledger, "ReadingAccepted", c.account, "tokens", twin.n_periods)
        bonus = _per_period(reacting.ledger, "BonusPaid", c.account, "amount_ueur", twin.n_periods)
        assert dt[after].mean() > dt[before].mean() + 5  # the bypass mixed supply water into the return
        assert tokens[after].mean() > tokens[before].mean() and tokens[after].min() > 0
        assert bonus[after].mean() > bonus[before].mean() and bonus[after].sum() > 0
    never = [c for c in cap.consumers if not c.responsive and c.initial_state == 0]
    assert never, "the scenario must contain a well-tuned owner who never reacts"
    for c in never:  # fair to those who never react: a well-tuned one keeps earning throughout
        assert _per_period(reacting.ledger, "ReadingAccepted", c.account, "tokens", twin.n_periods).min() > 0


def test_reaction_lowers_return_temperature_and_heat_losses_against_the_same_run_without(reacting, not_reacting):
    a, b = reacting.twin.capability("heat"), not_reacting.twin.capability("heat")
    assert a.summary(reacting.ledger)["reactions"]["fixes"] > 0
    assert not_reacting.summary["heat"]["reactions"]["fixes"] == 0
    fix_step = REVIEW_H * 3600 // reacting.twin.step_s
    na, nb = a.recorder.network, b.recorder.network
    for q in ("t_return_plant_c", "pipe_loss_kw", "pump_electric_kw"):  # same seed: identical until the fix
        assert np.array_equal(na[q][:fix_step], nb[q][:fix_step])
    after = slice(fix_step + 1, None)
    assert na["t_return_plant_c"][after].mean() < nb["t_return_plant_c"][after].mean() - 1.0
    assert na["pipe_loss_kw"][after].sum() < nb["pipe_loss_kw"][after].sum()
    assert na["pump_electric_kw"][after].sum() < nb["pump_electric_kw"][after].sum()
    assert reacting.summary["heat"]["physics"]["pipe_loss_mwh"] < not_reacting.summary["heat"]["physics"]["pipe_loss_mwh"]


def test_motivation_tariff_is_the_presets_rule_on_the_on_chain_totals(reacting):
    """The default tariff (Lemvig Varmeværk 2021) applied to each consumer's totals read from the contract."""
    cap, heat = reacting.twin.capability("heat"), reacting.summary["heat"]
    rule, price = preset_rule("lemvig_2021"), reacting.scenario.heat.prices.heat_eur_per_mwh
    assert heat["motivation_tariff"]["preset"] == "lemvig_2021"
    for c in cap.consumers:
        d, t = heat["consumer_detail"][c.name], cap.scheme.totals(c.account)
        assert d["expected_return_c"] == pytest.approx(rule.expected_return_c(t.t_supply_c))
        r = rule.adjustment(t.heat_wh / 1e6, price, t.t_return_c, d["expected_return_c"])
        assert d["motivation_tariff_eur"] == pytest.approx(r.adjustment_eur) and r.adjustment_eur >= 0  # no rebate


def test_a_month_table_weights_each_months_expected_return_by_volume(heat_scenario):
    """Two hours across the end of January: the expected return is Σ V·T_exp,month / Σ V over accepted readings."""
    months = [30.0 + m for m in range(12)]  # January 30 °C, February 31 °C, ...
    run = run_scenario(heat_scenario.with_overrides({
        "run.start": pd.Timestamp("2025-01-31T23:00:00").to_pydatetime(), "run.duration_s": 2 * 3600,
        "heat.tariff.basis": "month", "heat.tariff.expected_return_c": months}))
    accepted = event_args(run.ledger, "HeatEfficiency", "ReadingAccepted")
    cap = run.twin.capability("heat")
    for c in cap.consumers:
        rows = accepted[accepted.consumer == c.account].sort_values("period")
        v = rows.volume_ml.astype(float).to_numpy()
        assert len(v) == 2 and (v > 0).all()
        expected = (v[0] * 30.0 + v[1] * 31.0) / v.sum()
        assert run.summary["heat"]["consumer_detail"][c.name]["expected_return_c"] == pytest.approx(expected)


def test_same_seed_same_results_with_faulty_meters(heat_scenario):
    """Same seed, identical results; and dropped or spiked heat readings are estimated by VEE, settled with
    quality 1 and earn no tokens."""
    short = heat_scenario.with_overrides({"run.duration_s": 4 * 3600, "heat.behaviour.review_every_h": 1,
                                          "meters.drop_probability": 0.15, "meters.spike_probability": 0.1})
    first, second = run_scenario(short), run_scenario(short)
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries)
    pd.testing.assert_frame_equal(first.ledger, second.ledger)
    assert json.dumps(first.summary, sort_keys=True) == json.dumps(second.summary, sort_keys=True)
    heat = first.summary["heat"]
    assert heat["reactions"]["decisions"] > 0
    assert heat["vee"]["rejected"] > 0 and heat["vee"]["estimated"] > 0
    assert heat["vee"]["periods"] == heat["vee"]["accepted"] + heat["vee"]["estimated"] == 4 * 6
    accepted = event_args(first.ledger, "HeatEfficiency", "ReadingAccepted")
    assert len(accepted) == 4 * 6 and (accepted[accepted.quality == 1].tokens == 0).all()
    assert (accepted.quality == 1).sum() == heat["vee"]["estimated"]
