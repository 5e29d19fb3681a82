"""VEE: each corruption class is detected, gaps are estimated and flagged, nothing is lost from the count."""

from __future__ import annotations

import numpy as np
import pytest

from sim.measurement.meters import RawReading, VirtualMeter
from sim.measurement.vee import MeterVee

PERIOD_S = 3600
MAX_WH = 10_000


def _pv_like(n: int) -> np.ndarray:
    hours = (np.arange(n) + 2) % 24
    return np.clip(np.sin((hours - 6) / 12 * np.pi), 0, None) * 5000 + np.arange(n) % 7  # never frozen


def _run(values: list[tuple], n_periods: int) -> tuple[MeterVee, dict]:
    """Feed ``(period, wh)`` or ``(period, wh, clock_offset_s)`` readings, then finalise every period; returns
    the VEE and its finalised values by period."""
    vee = MeterVee("m", MAX_WH, PERIOD_S)
    for period, wh, *offset in values:
        vee.receive(RawReading("m", period, wh, *offset))
    return vee, {v.period: v for v in vee.finalise_through(n_periods - 1)}


def _accounting(vee: MeterVee, n_periods: int) -> None:
    c = vee.counts()
    assert c["received"] == c["accepted"] + c["rejected"] + c["pending"]
    assert c["periods"] == c["accepted"] + c["estimated"] == n_periods


def test_clean_stream_is_all_measured():
    n = 72
    vals = _pv_like(n)
    vee, final = _run(list(enumerate(vals)), n)
    _accounting(vee, n)
    assert vee.counts()["accepted"] == n and not vee.rejected
    assert [v.energy_wh for v in final.values()] == [int(x) for x in vals]


@pytest.mark.parametrize(
    ("corrupt", "rule"),
    [
        (lambda s: s.__setitem__(40, (40, 9_500.0)), "spike"),  # 18:00, neighbours ~1300 and ~0 Wh
        (lambda s: s.__setitem__(40, (40, -5.0)), "negative"),
        (lambda s: s.__setitem__(40, (40, MAX_WH + 1.0)), "range"),
        (lambda s: s.__setitem__(40, (40, float("nan"))), "negative"),
        (lambda s: s.append((40, 123.0)), "duplicate"),
        (lambda s: s.__setitem__(40, (40, s[40][1], 300.0)), "clock_skew"),  # the meter's clock 5 min fast
        (lambda s: s.__setitem__(40, (40, s[40][1], -61.0)), "clock_skew"),
    ],
    ids=["spike", "negative", "out-of-range", "nan", "duplicate", "clock-fast", "clock-slow"],
)
def test_each_corruption_is_detected_and_the_period_estimated(corrupt, rule):
    n = 72
    stream = list(enumerate(_pv_like(n)))
    corrupt(stream)
    vee, final = _run(stream, n)
    _accounting(vee, n)
    assert [r.rule for r in vee.rejected] == [rule]
    if rule != "duplicate":
        assert final[40].quality == 1 and final[40].rule == "interpolated"
        assert final[40].energy_wh == int((final[39].energy_wh + final[41].energy_wh) / 2)


def test_clock_within_a_minute_is_accepted():
    n = 72
    stream = [(p, wh, (-1) ** p * 59.0) for p, wh in enumerate(_pv_like(n))]
    vee, final = _run(stream, n)
    _accounting(vee, n)
    assert vee.counts()["accepted"] == n and not vee.rejected


def test_frozen_value_is_rejected():
    n = 72
    stream = list(enumerate(_pv_like(n)))
    for p in range(32, 38):  # 10:00 to 15:00
        stream[p] = (p, 3333.0)
    vee, final = _run(stream, n)
    _accounting(vee, n)
    assert {r.rule for r in vee.rejected} == {"frozen"}
    assert [r.period for r in vee.rejected] == [35, 36, 37]  # the first three equal values are plausible


def test_out_of_order_reading_after_finalisation_is_rejected():
    vee = MeterVee("m", MAX_WH, PERIOD_S)
    for p in range(5):
        vee.receive(RawReading("m", p, 100.0 + p))
    vee.finalise_through(4)
    vee.receive(RawReading("m", 2, 999.0))
    assert [r.rule for r in vee.rejected] == ["out_of_order"]
    assert vee.final[2].energy_wh == 102


def test_short_gap_interpolated_long_gap_from_proxy_day():
    n = 96
    vals = _pv_like(n)
    short = [(p, v) for p, v in enumerate(vals) if p not in (50, 51)]  # 2 h
    vee, final = _run(short, n)
    _accounting(vee, n)
    assert [final[p].rule for p in (50, 51)] == ["interpolated"] * 2
    long = [(p, v) for p, v in enumerate(vals) if not 50 <= p < 56]  # 6 h
    vee, final = _run(long, n)
    _accounting(vee, n)
    for p in range(50, 56):
        assert final[p].rule == "proxy_day" and final[p].quality == 1
        assert final[p].energy_wh == final[p - 24].energy_wh


def test_clean_physics_output_is_almost_never_flagged(small_run):
    flagged = sum(len(v.rejected) for v in small_run.twin.measurement.vee)
    total = sum(v.counts()["received"] for v in small_run.twin.measurement.vee)
    assert total == 6 * 24 and flagged <= 0.001 * total


def test_meter_register_loses_nothing_to_rounding():
    from contracts.eip712 import key_for

    m = VirtualMeter("m", key_for(0, "m"), rated_kw=5.0, period_s=PERIOD_S)
    rng = np.random.default_rng(3)
    p = rng.uniform(-2, 4, 400)
    total = 0.0
    readings = []
    for i, pk in enumerate(p):
        m.record(pk, 900)
        total += max(pk, 0) * 900 / 3.6
        if (i + 1) % 4 == 0:
            readings.append(m.close_period(i // 4).energy_wh)
    assert sum(readings) == np.floor(total)
    assert m.max_wh_per_period == 5500


def test_memory_is_a_window_and_the_counts_run_on():
    """A year of hourly periods: VEE keeps only the recent periods its rules look back at, and still counts all."""
    n = 24 * 365
    vee = MeterVee("m", MAX_WH, PERIOD_S)
    vals = _pv_like(n)
    for period in range(n):
        if period != 5000:  # one gap, estimated
            vee.receive(RawReading("m", period, vals[period]))
        vee.finalise_through(period - vee.lag_periods)
    vee.finalise_through(n - 1)
    _accounting(vee, n)
    assert vee.counts()["estimated"] == 1
    assert len(vee.final) <= vee.window_periods and len(vee.raw) <= vee.window_periods
    assert max(vee.final) == n - 1
