"""The dynamic tariff scales each delivery day by that day's own forecast: a day's multipliers span low..high
and do not move when any other day's forecast does."""

from __future__ import annotations

import numpy as np

from agents.vpp import tariffs

LOW, HIGH = 0.5, 1.5


def test_each_day_spans_low_to_high_by_its_own_forecast():
    rng = np.random.default_rng(3)
    day = np.repeat(np.arange(4), 24)
    forecast_kw = rng.normal(20.0, 15.0, size=day.size)
    mult = tariffs.dynamic(forecast_kw, day, LOW, HIGH)
    for d in range(4):
        mine = day == d
        assert mult[mine].min() == LOW and mult[mine].max() == HIGH
        assert np.argmin(mult[mine]) == np.argmin(forecast_kw[mine])
        assert np.argmax(mult[mine]) == np.argmax(forecast_kw[mine])


def test_a_days_prices_do_not_depend_on_any_other_days_forecast():
    rng = np.random.default_rng(4)
    day = np.repeat(np.arange(5), 24)
    forecast_kw = rng.normal(20.0, 15.0, size=day.size)
    base = tariffs.dynamic(forecast_kw, day, LOW, HIGH)
    for d in range(5):
        other = forecast_kw.copy()
        other[day != d] = rng.normal(0.0, 100.0, size=(day != d).sum())  # every other day's forecast changed
        assert np.array_equal(tariffs.dynamic(other, day, LOW, HIGH)[day == d], base[day == d])


def test_a_flat_day_is_priced_halfway():
    mult = tariffs.dynamic(np.array([3.0, 3.0, 1.0, 2.0]), np.array([0, 0, 1, 1]), LOW, HIGH)
    assert mult.tolist() == [1.0, 1.0, LOW, HIGH]
