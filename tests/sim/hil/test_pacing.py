"""Real-time pacing: late events are counted once per instant of simulated time; strict mode stops the run
with an error that says what to change. No assertion on how long anything took."""

from __future__ import annotations

import time

import pytest
import simpy

from sim.hil.pacing import (
    DeadlineMissed,
    PacedEnvironment,
    make_environment,
    percentiles,
)


def _blocking_process(env, block_at_s: float, block_wall_s: float):
    for t in range(6):
        if t == block_at_s:
            time.sleep(block_wall_s)  # a step that takes far longer than its slot
        env.step_finished(env.now)
        yield env.timeout(1)


def test_a_blocked_step_is_counted_as_missed_deadlines():
    env = PacedEnvironment(100.0, slack_s=0.05)  # 1 simulated second = 10 ms wall
    env.process(_blocking_process(env, block_at_s=2, block_wall_s=0.3))
    env.sync()
    env.run(until=6)
    # events at t = 3, 4, 5 were due 10, 20, 30 ms after the block began, which lasted 300 ms
    assert env.deadlines_missed >= 3 and env.first_missed_at_s <= 3
    assert env.max_lateness_s > 0.05
    report = env.report()
    assert report["step_latency_s"]["n"] == 6 and report["step_latency_s"]["max"] >= 0.3
    assert report["deadlines_missed"] == env.deadlines_missed


def test_strict_stops_at_the_first_missed_deadline_with_a_clear_error():
    env = PacedEnvironment(100.0, slack_s=0.05, strict=True)
    env.process(_blocking_process(env, block_at_s=1, block_wall_s=0.2))
    env.sync()
    with pytest.raises(DeadlineMissed, match=r"deadline missed at t = \d s .* realtime.slack_s = 0.05 s at "
                                             r"realtime.factor = 100; lower realtime.factor"):
        env.run(until=6)
    assert env.deadlines_missed == 1


def test_no_realtime_section_means_a_plain_fast_clock():
    assert type(make_environment(None)) is simpy.Environment
    assert percentiles([]) == {"n": 0, "p50": None, "p99": None, "max": None}
    assert percentiles([1.0, 2.0, 3.0])["p50"] == 2.0
