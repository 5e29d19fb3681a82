"""A capability's readings log: one row per meter and period (what was posted, accepted or refused, and why),
kept as DataFrame chunks so that a long run does not hold one Python dict per reading (a year of the 100-member
VPP logs 876 000 readings)."""

from __future__ import annotations

import pandas as pd

CHUNK_ROWS = 20_000


class ReadingsLog:
    """Append rows (dicts; a row may add a column, earlier rows get NaN there); ``frame()`` is the table, as
    ``pd.DataFrame`` of every row in order would give it."""

    def __init__(self):
        self._rows: list[dict] = []
        self._chunks: list[pd.DataFrame] = []
        self._n = 0

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

    def _flush(self) -> None:
        if self._rows:
            self._chunks.append(pd.DataFrame(self._rows))
            self._rows = []

    def frame(self) -> pd.DataFrame:
        self._flush()
        if not self._chunks:
            return pd.DataFrame()
        if len(self._chunks) > 1:
            self._chunks = [pd.concat(self._chunks, ignore_index=True).infer_objects()]
        return self._chunks[0]
