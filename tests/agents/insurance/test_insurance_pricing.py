"""The premium formula against hand-computed cases: expected claimable loss of a member with a constant
expected production and known outage rates, the threshold, the VEE mask, the parametric index, and the
binomial steady state against the outage process the twin samples, and the sum-insured factor."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from agents.insurance.insurer import (
    expected_claimable_loss_wh,
    expected_parametric_payout_ueur,
    premium_ueur,
    sum_insured_factor,
    units_down_pmf,
)
from grid_models.outages import (
    forced_unavailability,
    units_availability,
    units_down_paths,
)
from sim.capabilities.insurance.capability import reading_accepted

U = forced_unavailability(mtbf_h=90.0, mttr_h=10.0)  # = 0.1


def test_one_unit_constant_production_hand_computed():
    # 10 periods of 1000 Wh, one unit down 10 % of the time: 10 x 1000 x 0.1 = 1000 Wh claimable
    loss_wh = expected_claimable_loss_wh(np.full(10, 1000.0), 1, U, threshold=0.2)
    assert_allclose(loss_wh, 1000.0)
    # at 0.08 EUR/kWh = 80 000 ueur/kWh: 80 000 ueur over 10 periods, / 0.8 target -> 10 000 ueur per period
    assert premium_ueur(loss_wh / 1000.0 * 80_000, 0.8, 10) == 10_000


def test_night_periods_pay_nothing():
    e = np.array([0.0, 1000.0, 0.0, 1000.0])
    assert_allclose(expected_claimable_loss_wh(e, 1, U, threshold=0.2), 200.0)


def test_threshold_drops_partial_outages_below_it():
    e = np.full(3, 1000.0)
    # two units: P(1 down) = 0.18 (half the output), P(2 down) = 0.01; below a 20 % threshold both claim
    assert_allclose(units_down_pmf(2, U), [0.81, 0.18, 0.01])
    assert_allclose(expected_claimable_loss_wh(e, 2, U, threshold=0.2), 3 * 1000 * (0.18 * 0.5 + 0.01))
    # a 50 % threshold: one unit down is a shortfall of exactly 50 %, not above it -> only both down claim
    assert_allclose(expected_claimable_loss_wh(e, 2, U, threshold=0.5), 3 * 1000 * 0.01)
    # four units, 25 %: k >= 2 -> 6 x .01 x .81 x .5 + 4 x .001 x .9 x .75 + .0001 x 1 = .0271
    assert_allclose(expected_claimable_loss_wh(np.full(1, 1000.0), 4, U, threshold=0.25), 27.1)


def test_readings_vee_refuses_pay_nothing():
    e = np.full(4, 1000.0)
    mask = np.ones((4, 3))
    mask[2:, 1] = 0.0  # one unit down in periods 2 and 3: reading refused
    assert_allclose(expected_claimable_loss_wh(e, 2, U, threshold=0.2, measurable=mask),
                    4 * 1000 * (0.18 * 0.5 + 0.01) - 2 * 1000 * 0.18 * 0.5)
    with pytest.raises(ValueError, match="measurable must have shape"):
        expected_claimable_loss_wh(e, 2, U, threshold=0.2, measurable=np.ones((4, 2)))


def test_parametric_index_hand_computed():
    # two units, trigger 80 %, exit 30 %: one down -> ratio 50 % -> index 0.6; both down -> 1
    payout = expected_parametric_payout_ueur(np.array([500.0, 0.0, 800.0]), 2, U, 0.2, trigger=0.8, exit=0.3,
                                             cover_ueur=1000.0)
    assert_allclose(payout, 2 * 1000 * (0.18 * 0.6 + 0.01 * 1.0))


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="target_loss_ratio"):
        premium_ueur(1000.0, 0.0, 10)
    with pytest.raises(ValueError, match="unavailability"):
        units_down_pmf(2, 1.5)
    with pytest.raises(ValueError, match="non-negative"):
        expected_claimable_loss_wh(np.array([-1.0]), 1, U, 0.2)


def test_binomial_steady_state_matches_the_sampled_outage_process():
    # the twin's own outage sampler, 3 units over 200 000 hourly steps, against the formula's claimable share
    rng = np.random.default_rng(11)
    a = units_availability(3, 200_000, 3600, rng, mtbf_h=90.0, mttr_h=10.0)
    down = 1.0 - a
    sampled = float(np.mean(np.where(down > 0.2, down, 0.0)))
    assert_allclose(sampled, expected_claimable_loss_wh(np.ones(1), 3, U, threshold=0.2), rtol=0.05)
    sampled_t = float(np.mean(np.where(down > 0.5, down, 0.0)))  # only 2 or 3 of 3 down
    assert_allclose(sampled_t, expected_claimable_loss_wh(np.ones(1), 3, U, threshold=0.5), rtol=0.1)


def test_vee_mask_rated_output_plateau_with_a_unit_down():
    # rated output for 8 periods: with one of two units down the meter reads the same Wh every hour while its
    # register advances, a plateau VEE accepts (before the register-based frozen rule: refused from the 4th
    # period on); with both down it reads 0, which is accepted
    e = np.array([0.0] + [2_000_000.0] * 8 + [500_000.0])
    m = reading_accepted(e, 2, max_wh=2_200_000, period_s=3600)
    assert m.shape == (10, 3)
    assert m.all()
    # the mask is VEE's own: one hour above a quarter of the range between two hours at zero is a spike
    spike = reading_accepted(np.array([0.0, 0.0, 2_000_000.0, 0.0, 0.0]), 2, max_wh=2_200_000, period_s=3600)
    assert list(spike[:, 1]) == [1, 1, 0, 1, 1]
    assert_allclose(reading_accepted(e, 2, 2_200_000, 3600, drop_probability=0.1)[:, 2], 0.9)


def test_sum_insured_factor_hand_computed():
    # 3 periods paying 10, 20, 30 ueur with one unit down; two paths: down in every period (60) or never (0)
    table = np.array([[0.0, 10.0], [0.0, 20.0], [0.0, 30.0]])
    paths = np.array([[1, 1, 1], [0, 0, 0]])
    assert sum_insured_factor(table, paths, 100.0) == 1.0  # the cap is never reached
    assert_allclose(sum_insured_factor(table, paths, 45.0), (45.0 + 0.0) / 2 / 30.0)  # E[min(L, 45)] / E[L]
    with pytest.raises(ValueError, match="units_down_paths"):
        sum_insured_factor(table, paths[:, :2], 45.0)


def test_units_down_paths_match_the_steady_state():
    paths = units_down_paths(3, 20_000, 3600, np.random.default_rng(5), draws=20, mtbf_h=90.0, mttr_h=10.0)
    assert paths.shape == (20, 20_000) and paths.min() >= 0 and paths.max() <= 3
    counts = np.bincount(paths.ravel(), minlength=4) / paths.size
    assert_allclose(counts, units_down_pmf(3, U), atol=0.01)
