"""The VPP ledger readers: payouts per payout interval must equal revenue plus penalties (per period, or per day
when settled by day), and a missing or extra micro-euro is caught."""

from __future__ import annotations

import pandas as pd

from sim.capabilities.vpp.ledger import money_conserved

SETTLED = pd.DataFrame({"period": [0, 1, 2, 3], "revenue_ueur": [100, 50, 0, 70], "penalties_ueur": [0, 5, 9, 0]})


def _payouts(rows):
    return pd.DataFrame(rows, columns=["period", "member", "amount_ueur"])


def test_per_period_payouts_must_match_each_period():
    exact = _payouts([(0, "a", 60), (0, "b", 40), (1, "a", 55), (2, "b", 9), (3, "a", 70)])
    assert money_conserved(SETTLED, exact, 1)
    short = _payouts([(0, "a", 60), (0, "b", 39), (1, "a", 55), (2, "b", 9), (3, "a", 70)])
    assert not money_conserved(SETTLED, short, 1)
    shifted = _payouts([(0, "a", 100), (1, "a", 64), (3, "a", 70)])  # period 2's money paid in period 1
    assert not money_conserved(SETTLED, shifted, 1)


def test_day_payouts_carry_the_days_first_period():
    by_day = _payouts([(0, "a", 100), (0, "b", 55), (2, "a", 79)])  # days of 2 periods: 155 and 79 owed
    assert money_conserved(SETTLED, by_day, 2)
    assert not money_conserved(SETTLED, by_day, 1)
    assert not money_conserved(SETTLED, _payouts([(0, "a", 155), (2, "a", 80)]), 2)
    assert not money_conserved(SETTLED, _payouts([(0, "a", 155)]), 2)  # the second day unpaid
