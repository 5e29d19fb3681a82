"""Real-time pacing: simpy's ``RealtimeEnvironment`` with a missed-deadline counter (mosaik's ``rt_strict`` is
the model) and the step latencies a HIL lab needs to trust a run.

simpy's own ``strict`` mode raises when an event is more than one time unit late; here lateness is measured
against ``slack_s`` wall seconds instead, every late instant of simulated time is counted once, and with
``strict`` the run stops with :class:`DeadlineMissed`, whose message says what to change.
"""

from __future__ import annotations

from time import monotonic

import numpy as np
import simpy
from simpy.core import Infinity
from simpy.rt import RealtimeEnvironment

from sim.errors import DeadlineMissed


class PacedEnvironment(RealtimeEnvironment):
    """Sim time in seconds, paced so that ``factor`` simulated seconds pass per wall-clock second."""

    def __init__(self, factor: float, *, slack_s: float = 0.25, strict: bool = False):
        super().__init__(initial_time=0, factor=1.0 / factor, strict=False)
        self.realtime_factor = factor
        self.slack_s = slack_s
        self.strict_deadlines = strict
        self.deadlines_missed = 0
        self.events = 0
        self.max_lateness_s = 0.0
        self.first_missed_at_s: float | None = None
        self.step_latency_s: list[float] = []
        self._last_late_t: float | None = None

    def due_wall(self, t_s: float) -> float:
        """Wall-clock (``time.monotonic``) time at which simulated time ``t_s`` is due."""
        return self.real_start + (t_s - self.env_start) * self.factor

    def step(self) -> None:
        t = self.peek()
        if t is not Infinity:
            late = monotonic() - self.due_wall(t)
            self.events += 1
            self.max_lateness_s = max(self.max_lateness_s, late)
            if late > self.slack_s and t != self._last_late_t:
                self._last_late_t = t
                self.deadlines_missed += 1
                if self.first_missed_at_s is None:
                    self.first_missed_at_s = t
                if self.strict_deadlines:
                    raise DeadlineMissed(
                        f"real-time deadline missed at t = {t:g} s (simulated): processed {late:.3f} s late, "
                        f"more than realtime.slack_s = {self.slack_s:g} s at realtime.factor = "
                        f"{self.realtime_factor:g}; lower realtime.factor, raise realtime.slack_s, or set "
                        "realtime.strict = false to count missed deadlines instead of stopping")
        super().step()

    def step_finished(self, t_s: float) -> None:
        """Record how long after its due time the twin's step at ``t_s`` had finished [wall s]."""
        self.step_latency_s.append(monotonic() - self.due_wall(t_s))

    def report(self) -> dict:
        return {
            "factor": self.realtime_factor,
            "strict": self.strict_deadlines,
            "slack_s": self.slack_s,
            "events": self.events,
            "deadlines_missed": self.deadlines_missed,
            "first_missed_at_s": self.first_missed_at_s,
            "max_lateness_s": self.max_lateness_s,
            "step_latency_s": percentiles(self.step_latency_s),
        }


def percentiles(values: list[float]) -> dict:
    """p50, p99 and max of a sample (None when empty), and its size."""
    if not values:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    a = np.asarray(values)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max())}


def make_environment(realtime) -> simpy.Environment:
    """A plain simpy Environment (as fast as possible), or a paced one for a scenario's ``[realtime]``."""
    if realtime is None:
        return simpy.Environment()
    return PacedEnvironment(realtime.factor, slack_s=realtime.slack_s, strict=realtime.strict)
