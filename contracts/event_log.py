"""The chain's decoded events, in chain order, held as a list would hold them; with a spill folder attached,
every full chunk of older events is written to disk as the chain makes it, so that a long run keeps fewer than
2 x ``chunk_events`` in memory (the newest full chunk and the one being filled) instead of every event it ever
decoded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

CHUNK_EVENTS = 10_000  # ~3 MiB of decoded events


class Spill(Protocol):
    """Where chunks go (``sim.results.spill.SpillDir``): ``write(obj, stem)`` -> path, ``read(path)`` -> obj."""

    def write(self, obj: Any, stem: str = ...) -> Path: ...

    def read(self, path: Path) -> Any: ...


class EventLog(Sequence):
    """A sequence of events: ``append``/``extend``, ``len``, indexing and slicing (lists), iteration in order,
    ``del log[n:]`` (a revert), ``==`` with any sequence of the same events. ``spill_to(spill)`` sends full
    chunks of ``chunk_events`` older events to disk from then on; ``unspill()`` reads them all back."""

    def __init__(self, chunk_events: int | None = None):
        self.chunk_events = chunk_events or CHUNK_EVENTS
        self._spilled: list[tuple[Spill, Path]] = []  # (where, which file) of each spilled chunk, oldest first
        self._n_spilled = 0
        self._tail: list = []
        self._spill: Spill | None = None

    # writing ----------------------------------------------------------------------------------------------
    def append(self, event) -> None:
        self._tail.append(event)
        self._spill_full_chunks()

    def extend(self, events) -> None:
        self._tail.extend(events)
        self._spill_full_chunks()

    def spill_to(self, spill: Spill | None) -> None:
        """Send every full chunk of older events to ``spill`` from now on (None: keep them in memory)."""
        self._spill = spill
        self._spill_full_chunks()

    def unspill(self) -> None:
        """Read every spilled event back into memory and stop spilling."""
        if self._spilled:
            self._tail = list(self._iter_spilled()) + self._tail
            self._spilled, self._n_spilled = [], 0
        self._spill = None

    @property
    def in_memory(self) -> int:
        """Events held in memory now (count)."""
        return len(self._tail)

    def _spill_full_chunks(self) -> None:
        # keep the last full chunk in memory too: readers of recent events (contract wrappers catching up on
        # what the chain logged since they last looked) never touch the disk
        while self._spill is not None and len(self._tail) >= 2 * self.chunk_events:
            chunk, self._tail = self._tail[: self.chunk_events], self._tail[self.chunk_events :]
            self._spilled.append((self._spill, self._spill.write(chunk, "events")))
            self._n_spilled += len(chunk)

    def __delitem__(self, index) -> None:
        if not isinstance(index, slice) or index.step is not None or index.stop is not None:
            raise TypeError("an event log only drops its end: del log[n:]")
        start = index.start or 0
        if start < 0:
            start += len(self)
        if start < self._n_spilled:
            spill = self._spill
            self.unspill()
            self._spill = spill
        del self._tail[start - self._n_spilled :]

    # reading ----------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._n_spilled + len(self._tail)

    def __iter__(self) -> Iterator:
        yield from self._iter_spilled()
        yield from self._tail

    def _iter_spilled(self) -> Iterator:
        for spill, path in self._spilled:
            yield from spill.read(path)

    def __getitem__(self, index):
        n = len(self)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            if start >= self._n_spilled and step == 1:
                return self._tail[start - self._n_spilled : stop - self._n_spilled]
            return list(self)[index]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("event index out of range")
        if index >= self._n_spilled:
            return self._tail[index - self._n_spilled]
        return list(self._iter_spilled())[index]

    def __eq__(self, other) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    def __repr__(self) -> str:
        return f"EventLog({len(self)} events, {self._n_spilled} spilled)"

