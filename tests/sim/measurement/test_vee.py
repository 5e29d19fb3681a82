"""VEE: each corruption class is detected, a plateau is not a stuck meter, gaps are estimated and flagged and add
up to the meter's register, nothing is lost from the count."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from sim.measurement.meters import RawReading, VirtualMeter
from sim.measurement.vee import MeterVee, shares_wh

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


def _metered(power_kw, *, rated_kw: float = 9.0, dt_s: float = 900.0) -> tuple[VirtualMeter, list[RawReading]]:
    """A virtual meter recording ``power_kw`` (4 steps of ``dt_s`` a period) and its readings, with registers."""
    from contracts.eip712 import key_for

    m = VirtualMeter("m", key_for(0, "m"), rated_kw=rated_kw, period_s=PERIOD_S)
    readings = []
    for period, p_kw in enumerate(power_kw):
        for _ in range(4):
            m.record(float(p_kw), dt_s)
        readings.append(m.close_period(period))
    return m, readings


def _finalise(readings, n_periods: int, step: int | None = None) -> tuple[MeterVee, list]:
    """Readings (None: missing) through a VEE, finalised at the end or, with ``step``, ``lag_periods`` behind
    each received period as the run's settlement does; returns the VEE and the finalised values in order."""
    vee, out = MeterVee("m", MAX_WH, PERIOD_S), []
    for period, r in enumerate(readings):
        if r is not None:
            vee.receive(r)
        if step is not None:
            out += vee.finalise_through(period - vee.lag_periods)
    return vee, out + vee.finalise_through(n_periods - 1)


def test_plateau_at_rated_output_is_accepted():
    """A generator at its rating for 8 hours (and at zero for 8 hours of night before) repeats the same period
    energy while its register advances: a plateau, not a stuck meter. The accepted values are the register's."""
    power_kw = [0.0] * 8 + [9.0] * 8 + [4.0, 2.5]
    m, readings = _metered(power_kw)
    assert len({r.energy_wh for r in readings[8:16]}) == 1 == len({r.energy_wh for r in readings[:8]})
    vee, final = _finalise(readings, len(power_kw))
    _accounting(vee, len(power_kw))
    assert not vee.rejected and vee.counts()["accepted"] == len(power_kw)
    assert [v.energy_wh for v in final[8:16]] == [9000] * 8
    assert sum(v.energy_wh for v in final) == math.floor(m.export_register_wh)  # the device's own counter


def test_stuck_meter_is_rejected_as_frozen():
    """From 10:00 the meter resends its 09:00 record (same energy, same register) for six hours: rejected from
    the first copy on, while its register did not advance; once it reports again, the six hours are estimated
    from the register's difference."""
    n = 72
    vals = _pv_like(n)
    m, readings = _metered(vals / 1000.0)
    stuck = readings[31]
    assert stuck.energy_wh > 0
    fed = [replace(stuck, period=p) if 32 <= p < 38 else r for p, r in enumerate(readings)]
    vee, final = _finalise(fed, n)
    _accounting(vee, n)
    assert [(r.period, r.rule) for r in vee.rejected] == [(p, "frozen") for p in range(32, 38)]
    assert {final[p].rule for p in range(32, 38)} == {"register"} and {final[p].quality for p in range(32, 38)} == {1}
    truth = [r.energy_wh for r in readings]
    assert sum(final[p].energy_wh for p in range(32, 38)) == sum(truth[32:38])  # the register's difference
    assert sum(v.energy_wh for v in final) == math.floor(m.export_register_wh)


def _run_readings(readings, n_periods):
    vee = MeterVee("m", MAX_WH, PERIOD_S)
    for r in readings:
        vee.receive(r)
    return vee, {v.period: v for v in vee.finalise_through(n_periods - 1)}


def test_frozen_is_energy_claimed_on_a_register_that_did_not_advance():
    r0 = RawReading("m", 0, 500.0, register_wh=500.0)
    vee, final = _run_readings([r0, RawReading("m", 1, 500.0, register_wh=1000.0),
                                RawReading("m", 2, 500.0, register_wh=1000.0),  # stopped, claims 500 Wh
                                RawReading("m", 3, 0.0, register_wh=1000.0)], 4)  # stopped, claims nothing
    assert [(r.period, r.rule) for r in vee.rejected] == [(2, "frozen")]
    assert final[3].energy_wh == 0 and final[3].quality == 0


@pytest.mark.parametrize("missing", [(50,), (50, 51), range(50, 56), range(20, 40)],
                         ids=["one", "two", "six-hours", "twenty-hours"])
@pytest.mark.parametrize("step", [None, 1], ids=["at-the-end", "behind-the-clock"])
def test_gaps_estimated_from_the_register_add_up_to_its_difference(missing, step):
    """Dropped readings: what VEE settles (accepted + estimated) adds up to the meter's register to the Wh. A gap
    longer than the 2 h VEE waits, finalised behind the clock: its first periods are finalised from the profile
    before the register is read again, the last ones take what is left of the register's difference."""
    n = 96
    m, readings = _metered(_pv_like(n) / 1000.0)
    fed = [None if p in missing else r for p, r in enumerate(readings)]
    vee, final = _finalise(fed, n, step)
    _accounting(vee, n)
    assert [v.period for v in final] == list(range(n)) and not vee.rejected
    estimated = [v for v in final if v.quality == 1]
    assert [v.period for v in estimated] == list(missing)
    assert sum(v.energy_wh for v in final) == math.floor(m.export_register_wh)  # the device's own counter
    early = 0 if step is None else max(0, len(missing) - vee.lag_periods)
    assert {v.rule for v in estimated[:early]} <= {"interpolated", "proxy_day"}
    assert {v.rule for v in estimated[early:]} == {"register"}


def test_register_estimate_is_pro_rata_to_the_interpolation_and_the_profile_estimate_is_not_conserving():
    """Two missing hours on a ramp: the register's difference shared pro rata to the interpolated values (here
    the reference is hand-computed); without registers the interpolation alone misses it."""
    rs = [RawReading("m", 0, 1000.0, register_wh=1000.0), RawReading("m", 3, 4000.0, register_wh=10_000.0)]
    vee, final = _run_readings(rs, 4)
    # periods 1, 2 hold 10 000 - 4 000 - 1 000 = 5 000 Wh; interpolation weights 2 000 : 3 000
    assert [final[p].energy_wh for p in (1, 2)] == [2000, 3000] and final[1].rule == "register"
    rs = [RawReading("m", 0, 1000.0, register_wh=1000.0), RawReading("m", 3, 1000.0, register_wh=9001.0)]
    vee, final = _run_readings(rs, 4)
    assert [final[p].energy_wh for p in (1, 2)] == [3501, 3500]  # flat: 7 001 Wh evenly, the odd Wh first
    vee, final = _run_readings([replace(r, register_wh=None) for r in rs], 4)
    assert [final[p].rule for p in (1, 2)] == ["interpolated"] * 2 and final[1].energy_wh == 1000


def test_register_reads_at_boundaries_bound_a_gap_with_no_reading_on_either_side():
    """A HIL meter reads its register at boundaries 0 and 2 but closes no period (the link dropped at boundary
    1): the two periods share the register's difference evenly (no profile to weigh by)."""
    vee = MeterVee("m", MAX_WH, PERIOD_S)
    vee.register_read(0, 125_000.0)
    vee.register_read(2, 125_901.0)
    vee.receive(RawReading("m", 2, 300.0, register_wh=126_201.0))
    out = vee.finalise_through(2)
    assert [(v.energy_wh, v.rule) for v in out] == [(451, "register"), (450, "register"), (300, "measured")]


def test_shares_are_whole_wh_and_add_up():
    assert shares_wh(10, [1, 1, 1]) == [4, 3, 3]
    assert shares_wh(7, [0, 0]) == [4, 3]
    assert shares_wh(0, [5, 3]) == [0, 0]
    rng = np.random.default_rng(5)
    for _ in range(200):
        w = rng.integers(0, 10_000, rng.integers(1, 30)).tolist()
        total = int(rng.integers(0, 10**7))
        s = shares_wh(total, w)
        assert sum(s) == total and min(s) >= 0
        if sum(w):
            assert all(abs(x - total * wi / sum(w)) < 1 for x, wi in zip(s, w))


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
    register = np.cumsum(vals)
    for period in range(n):
        if period != 5000:  # one gap, estimated
            vee.receive(RawReading("m", period, vals[period], register_wh=register[period]))
        vee.finalise_through(period - vee.lag_periods)
    vee.finalise_through(n - 1)
    _accounting(vee, n)
    assert vee.counts()["estimated"] == 1
    assert len(vee.final) <= vee.window_periods and len(vee.registers) <= vee.window_periods
    assert max(vee.final) == n - 1
