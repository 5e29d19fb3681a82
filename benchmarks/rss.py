"""Resident memory of the running process, read from ``/proc/self/statm`` [MiB], and a sampler thread that records
it while a run goes on (the year benchmarks' peak and growth figures)."""

from __future__ import annotations

import os
import threading
import time


def rss_mib() -> float:
    """Resident memory of this process now [MiB]."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class RssSampler(threading.Thread):
    """Resident memory every ``every_s`` seconds while the run goes on: [(wall s since start, MiB)]."""

    def __init__(self, every_s: float = 1.0):
        super().__init__(daemon=True)
        self.every_s, self.samples, self._halt = every_s, [], threading.Event()
        self._t0 = time.perf_counter()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append((time.perf_counter() - self._t0, rss_mib()))
            self._halt.wait(self.every_s)

    def stop(self) -> list[tuple[float, float]]:
        self._halt.set()
        self.join()
        self.samples.append((time.perf_counter() - self._t0, rss_mib()))
        return self.samples
