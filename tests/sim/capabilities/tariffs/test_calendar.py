"""Billing periods and per-day fees count local calendar days, also across the clocks' changes. Reference: the EU's
summer time (Directive 2000/84/EC: from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of
October), i.e. 30 March 2025 has 23 hours in Vienna and 26 October 2025 has 25."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.capabilities.tariffs.bills import billing_index, day_fractions

TZ = "Europe/Vienna"


def local_starts(start: str, days: int, step_s: int = 3600) -> pd.DatetimeIndex:
    """Period starts every ``step_s`` from local midnight of ``start`` for ``days`` local days (tz-aware, local)."""
    t0, t1 = (pd.Timestamp(d, tz=TZ).tz_convert("UTC") for d in (start, pd.Timestamp(start) + pd.Timedelta(days=days)))
    return pd.date_range(t0, t1, freq=f"{step_s}s", inclusive="left").tz_convert(TZ)


@pytest.mark.parametrize("start, short_day, hours", [("2025-03-24", "2025-03-30", 23), ("2025-10-20", "2025-10-26", 25)])
def test_weeks_start_at_local_monday_midnight_across_a_clock_change(start, short_day, hours):
    starts = local_starts(start, 14)
    week = billing_index(starts, starts[0], "week")
    second = starts[week == 1]
    assert second[0] == pd.Timestamp(pd.Timestamp(start) + pd.Timedelta(days=7), tz=TZ)  # Monday 00:00, not 01:00/23:00
    assert second[0].hour == 0 and second[0].dayofweek == 0
    assert (starts.date == pd.Timestamp(short_day).date()).sum() == hours  # the calendar fact the test stands on


@pytest.mark.parametrize("start, changed", [("2025-03-24", "2025-03-30"), ("2025-10-20", "2025-10-26")])
@pytest.mark.parametrize("settlement_s", [900, 3600])
def test_each_local_day_counts_as_one_day_for_per_day_fees(start, changed, settlement_s):
    starts = local_starts(start, 7, settlement_s)
    frac = day_fractions(starts, settlement_s)
    per_day = pd.Series(frac).groupby(starts.date).sum()
    np.testing.assert_allclose(per_day.to_numpy(), 1.0, rtol=1e-12)
    assert len(per_day) == 7 and frac[starts.date == pd.Timestamp(changed).date()].size != 86_400 // settlement_s


def test_a_part_of_a_day_counts_pro_rata():
    starts = local_starts("2025-06-02", 1)[9:15]  # 09:00-15:00
    assert day_fractions(starts, 3600).sum() == pytest.approx(6 / 24)
