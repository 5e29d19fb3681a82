"""The run's progress line on a terminal (stderr): the phase by name (building feeder, weather, deploying
contracts, clock, results), the clock's steps with a time estimate once a few steps have run, and at the end a
summary line that stays. No tqdm: one line rewritten in place, at most ten times a second."""

from __future__ import annotations

import sys
import time

ESTIMATE_AFTER_STEPS = 3  # steps of the clock before the remaining time is estimated
REFRESH_S = 0.1


def _secs(s: float) -> str:
    return f"{s:.1f} s" if s < 120 else f"{int(s // 60)} min {int(s % 60):02d} s"


class Progress:
    """``phase(name)`` as the run moves on, ``update(n)`` per clock step, ``finish()`` (the summary line) or
    ``close()`` (a failed run: the line is ended, nothing claimed)."""

    def __init__(self, name: str, total_steps: int, stream=None):
        self.name, self.total = name, total_steps
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.perf_counter()
        self.phases: dict[str, float] = {}  # phase -> wall seconds spent
        self.current, self.since = "", self.started
        self.steps, self.clock_started = 0, None
        self._shown = 0.0
        self._width = 0
        self.closed = False

    def phase(self, name: str) -> None:
        now = time.perf_counter()
        if self.current:
            self.phases[self.current] = self.phases.get(self.current, 0.0) + now - self.since
        self.current, self.since = name, now
        if name == "clock":
            self.clock_started = now
        self._show(force=True)

    def update(self, n: int = 1) -> None:
        self.steps += n
        self._show()

    def line(self) -> str:
        now = time.perf_counter()
        head = f"{self.name} · {self.current or 'starting'}"
        if self.current != "clock":
            return f"{head} … {_secs(now - self.since)}"
        pct = 100.0 * self.steps / self.total if self.total else 100.0
        text = f"{head} {pct:3.0f} % {self.steps}/{self.total} steps"
        ran = now - (self.clock_started or now)
        if self.steps >= ESTIMATE_AFTER_STEPS and ran > 0:
            rate = self.steps / ran
            text += f" · {rate:.1f} steps/s · ~{_secs((self.total - self.steps) / rate)} left"
        return text

    def _write(self, text: str, end: str = "") -> None:
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + pad + end)
        self.stream.flush()

    def _show(self, force: bool = False) -> None:
        now = time.perf_counter()
        if self.closed or (not force and now - self._shown < REFRESH_S):
            return
        self._shown = now
        self._write(self.line())

    def summary(self) -> str:
        shares = ", ".join(f"{k} {_secs(v)}" for k, v in self.phases.items() if v >= 0.05)
        return (f"{self.name}: done in {_secs(time.perf_counter() - self.started)}, {self.steps} steps"
                + (f" ({shares})" if shares else ""))

    def finish(self) -> None:
        """End the last phase and leave the summary line on the terminal."""
        if self.closed:
            return
        self.phase("")
        self.closed = True
        self._write(self.summary(), end="\n")

    def close(self) -> None:
        """End the line without a summary (a run that failed or was interrupted)."""
        if not self.closed:
            self.closed = True
            self.stream.write("\n")
            self.stream.flush()
