"""A capability's readings log: one row per meter and period (what was posted, accepted or refused, and why),
kept as DataFrame chunks so that a long run does not hold one Python dict per reading (a year of the 100-member
VPP logs 876 000 readings); with a spill folder, each full chunk goes to disk as it is made, so the log holds at
most ``CHUNK_ROWS`` rows in memory until ``frame()`` reads them all back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.results.spill import SpillDir

CHUNK_ROWS = 20_000


class ReadingsLog:
    """Append rows (dicts; a row may add a column, earlier rows get NaN there); ``frame()`` is the table, as
    ``pd.DataFrame`` of every row in order would give it. Full chunks are written to ``spill`` if given."""

    def __init__(self, spill: SpillDir | None = None):
        self._rows: list[dict] = []
        self._chunks: list[pd.DataFrame | Path] = []
        self._n = 0
        self._spill = spill

    def append(self, row: dict) -> None:
        self._rows.append(row)
        self._n += 1
        if len(self._rows) >= CHUNK_ROWS:
            self._flush()

    def extend(self, rows) -> None:
        for row in rows:
            self.append(row)

    def __len__(self) -> int:
        return self._n

    @property
    def rows_in_memory(self) -> int:
        """Rows held in memory now, not yet spilled (count)."""
        return sum(len(c) for c in self._chunks if isinstance(c, pd.DataFrame)) + len(self._rows)

    def _flush(self, spill: bool = True) -> None:
        if self._rows:
            chunk = pd.DataFrame(self._rows)
            self._chunks.append(self._spill.write(chunk, "readings") if spill and self._spill else chunk)
            self._rows = []

    def frame(self) -> pd.DataFrame:
        self._flush(spill=False)
        chunks = [SpillDir.read(c) if isinstance(c, Path) else c for c in self._chunks]
        if not chunks:
            return pd.DataFrame()
        if len(chunks) > 1:
            chunks = [pd.concat(chunks, ignore_index=True).infer_objects()]
        self._chunks = chunks
        return chunks[0]
