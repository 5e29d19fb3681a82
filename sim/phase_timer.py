"""Wall time per phase of a run (physics, agents, measurement, chain): a nested phase pauses the enclosing one,
so that no second is counted twice."""

from __future__ import annotations

import time


class PhaseTimer:
    """``with timer:`` adds the wall time inside to ``timers[concern]`` [s]; ``stack`` holds the open concerns
    with the time each last resumed, so that an inner concern pauses the outer one. Reusable and re-entrant
    (one object per concern; a plain class, as it runs several times per step)."""

    __slots__ = ("concern", "timers", "stack")

    def __init__(self, concern: str, timers: dict[str, float], stack: list[tuple[str, float]]):
        self.concern, self.timers, self.stack = concern, timers, stack

    def __enter__(self) -> None:
        now = time.perf_counter()
        stack = self.stack
        if stack:
            outer, since = stack[-1]
            self.timers[outer] += now - since
        stack.append((self.concern, now))

    def __exit__(self, *exc) -> None:
        end = time.perf_counter()
        stack = self.stack
        concern, since = stack.pop()
        self.timers[concern] += end - since
        if stack:
            stack[-1] = (stack[-1][0], end)
