"""The run's tables written to parquet in row groups (pyarrow ``ParquetWriter``), never held whole in memory.

``ledger.parquet``: the chain's decoded events, read chunk by chunk from the event log (spilled chunks one at a
time) and written ``LEDGER_ROWS`` at a time; the file reads back as ``sim.results.summary.ledger_frame`` of every
event would give it (same columns, dtypes and values).

``timeseries.parquet``: the tidy table (time UTC, entity, quantity, value, unit). The kernel's series (the
recorder's prosumer and feeder arrays, the site's weather) are written from their arrays, a row group at a time;
each capability's tidy frame (its ``timeseries()`` hook) is written to a part file in the spill folder as soon as
it is made and dropped, then copied into the file a row group at a time. ``entity``, ``quantity`` and ``unit``
are categoricals whose categories are every label of the run, sorted, the same dictionary in every row group; so
the file reads back (one ``pd.read_parquet``) as ``sim.recorder.Recorder.tidy`` of the same run gives the frame,
rows in the same order: each prosumer quantity (step-major, prosumers in order), each feeder quantity, the site's
weather, then each capability's rows in registry order (then the HIL devices').
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.results.summary import ledger_frame

LEDGER_ROWS = 10_000  # events per row group of ledger.parquet (one event-log chunk: ~3 MiB of decoded events)
TIMESERIES_ROWS = 1 << 20  # rows per row group of timeseries.parquet (~20 MiB)
TIDY_COLUMNS = ("time", "entity", "quantity", "value", "unit")
LABELS = ("entity", "quantity", "unit")


def write_ledger(events: Iterable, path: Path, rows: int | None = None) -> int:
    """Write ``ledger.parquet`` from ``events`` (in chain order; an ``EventLog`` is read a chunk at a time),
    ``rows`` (default ``LEDGER_ROWS``) events per row group; the number of events written."""
    rows = rows or LEDGER_ROWS
    writer, n, batch = None, 0, []
    try:
        for event in events:
            batch.append(event)
            if len(batch) >= rows:
                writer = _write_frame(writer, path, ledger_frame(batch))
                n, batch = n + len(batch), []
        if batch or writer is None:
            writer = _write_frame(writer, path, ledger_frame(batch))
            n += len(batch)
    finally:
        if writer is not None:
            writer.close()
    return n


def give_back_memory() -> None:
    """Return what the results phase freed to the operating system (Python's cycles collected, Arrow's pool
    released, glibc's heap trimmed where there is glibc), so that the next step starts from the live data."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def read_ledger(path: Path) -> pd.DataFrame:
    """``ledger.parquet`` as one DataFrame (as ``pd.read_parquet`` gives it), converted a row group at a time so
    that the file's Arrow buffers and the frame's objects are never both held whole."""
    file = pq.ParquetFile(path)
    if file.metadata.num_row_groups <= 1:
        return pd.read_parquet(path)
    frame = pd.concat([file.read_row_group(i).to_pandas() for i in range(file.metadata.num_row_groups)],
                      ignore_index=True)
    pa.default_memory_pool().release_unused()
    return frame


def _write_frame(writer: pq.ParquetWriter | None, path: Path, frame: pd.DataFrame,
                 schema: pa.Schema | None = None) -> pq.ParquetWriter:
    """Append ``frame`` as a row group, opening the writer (schema: the first frame's, or ``schema``) at first."""
    table = pa.Table.from_pandas(frame, schema=schema if writer is None else writer.schema, preserve_index=False)
    if writer is None:
        writer = pq.ParquetWriter(path, table.schema)
    writer.write_table(table)
    return writer


def series_frame(series: list[Series]) -> pd.DataFrame:
    """Tidy rows of ``series`` as one frame (what ``timeseries.parquet`` holds for them; for tests and small runs)."""
    parts = []
    for s in series:
        rows = s.rows(0, len(s))
        parts.append(pd.DataFrame({"time": rows["time"], "entity": np.asarray(s.entities, dtype=object)[rows["entity"]],
                                   "quantity": s.quantity, "value": rows["value"], "unit": s.unit}))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(TIDY_COLUMNS))


@dataclass(frozen=True)
class Series:
    """One quantity of one or more entities at every step: ``values`` (n_steps,) for one entity or (n_steps,
    n_entities); tidy rows step-major (each step, its entities in order)."""

    times: pd.DatetimeIndex  # UTC
    entities: tuple[str, ...]
    quantity: str
    unit: str
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.times) * len(self.entities)

    def rows(self, start: int, stop: int) -> dict:
        """Rows ``start`` … ``stop - 1`` as columns (entity as local codes into ``entities``)."""
        n = len(self.entities)
        index = np.arange(start, stop)
        return {"time": self.times[index // n], "entity": index % n,
                "value": np.asarray(self.values, dtype=float).reshape(-1)[start:stop]}


def recorder_series(recorder, times: pd.DatetimeIndex, extra: dict[str, tuple[np.ndarray, str]]) -> list[Series]:
    """The kernel's series in ``Recorder.tidy``'s order: each prosumer quantity, each feeder quantity, then
    ``extra`` (the site's, ``{quantity: (values, unit)}``)."""
    from sim.recorder import FEEDER_QUANTITIES, PROSUMER_QUANTITIES

    t_utc = times.tz_convert("UTC")
    out = []
    if recorder.ids:
        out += [Series(t_utc, tuple(recorder.ids), q, unit, recorder.prosumer[q])
                for q, unit in PROSUMER_QUANTITIES.items()]
    if recorder.has_feeder:
        out += [Series(t_utc, ("feeder",), q, unit, recorder.feeder[q]) for q, unit in FEEDER_QUANTITIES.items()]
    out += [Series(t_utc, ("site",), q, unit, np.asarray(v)) for q, (v, unit) in extra.items()]
    return out


class TimeseriesWriter:
    """``timeseries.parquet`` written a row group at a time: ``add`` each capability's rows (a tidy frame, kept
    on disk in ``scratch`` until ``write``, or a list of ``Series``), then ``write(path, series)`` the kernel's
    ``series`` followed by every capability's rows, in the order added."""

    def __init__(self, scratch: Path):
        self.scratch = Path(scratch)
        self.scratch.mkdir(parents=True, exist_ok=True)
        self._parts: list[Path] = []
        self._labels: dict[str, set] = {c: set() for c in LABELS}

    def add(self, rows) -> None:
        """A capability's ``timeseries()``: a tidy frame (``add_frame``) or a list of ``Series`` (kept as
        arrays, written from them: no frame is ever made)."""
        if isinstance(rows, pd.DataFrame):
            self.add_frame(rows)
            return
        for s in rows:
            self._labels["entity"].update(s.entities)
            self._labels["quantity"].add(s.quantity)
            self._labels["unit"].add(s.unit)
            self._parts.append(s)

    def add_frame(self, frame: pd.DataFrame) -> None:
        """A capability's tidy rows (``TIDY_COLUMNS``, ``time`` in UTC): to a part file now; the caller drops
        the frame."""
        frame = frame.loc[:, list(TIDY_COLUMNS)]
        for col in LABELS:
            frame[col] = frame[col].astype("category")
            self._labels[col].update(frame[col].cat.categories)
        path = self.scratch / f"timeseries-part-{len(self._parts):03d}.parquet"
        frame.to_parquet(path, index=False, row_group_size=TIMESERIES_ROWS)
        del frame
        self._parts.append(path)

    def write(self, path: Path, series: list[Series], rows: int | None = None) -> int:
        """Write the file, ``rows`` (default ``TIMESERIES_ROWS``) rows per row group; the number of rows
        written. The part files are removed."""
        rows = rows or TIMESERIES_ROWS
        labels = {c: set(self._labels[c]) for c in LABELS}
        for s in series:
            labels["entity"].update(s.entities)
            labels["quantity"].add(s.quantity)
            labels["unit"].add(s.unit)
        cats = {c: sorted(v) for c, v in labels.items()}
        codes = {c: {label: i for i, label in enumerate(v)} for c, v in cats.items()}
        schema = _tidy_schema(cats)
        writer, n = None, 0
        try:
            for frame in self._series_frames(series, cats, codes, rows):
                writer = _write_frame(writer, path, frame, schema)
                n += len(frame)
            for frame in self._frames(series, cats, codes, rows):
                writer = _write_frame(writer, path, frame, schema)
                n += len(frame)
            if writer is None:
                writer = _write_frame(None, path, _tidy(cats, {c: [] for c in TIDY_COLUMNS}), schema)
        finally:
            if writer is not None:
                writer.close()
        for part in self._parts:
            if isinstance(part, Path):
                part.unlink()
        self._parts = []
        return n

    def _frames(self, series: list[Series], cats: dict, codes: dict, rows: int) -> Iterator[pd.DataFrame]:
        for part in self._parts:
            if isinstance(part, Series):
                yield from self._series_frames([part], cats, codes, rows)
            else:
                yield from self._part_frames(part, cats, codes, rows)

    def _series_frames(self, series: list[Series], cats: dict, codes: dict, rows: int) -> Iterator[pd.DataFrame]:
        for s in series:
            entity = np.array([codes["entity"][e] for e in s.entities])
            for start in range(0, len(s), rows):
                part = s.rows(start, min(start + rows, len(s)))
                m = len(part["value"])
                yield _tidy(cats, {"time": part["time"], "entity": entity[part["entity"]],
                                   "quantity": np.full(m, codes["quantity"][s.quantity]), "value": part["value"],
                                   "unit": np.full(m, codes["unit"][s.unit])})

    @staticmethod
    def _part_frames(path: Path, cats: dict, codes: dict, rows: int) -> Iterator[pd.DataFrame]:
        for group in pq.ParquetFile(path).iter_batches(batch_size=rows):
            frame = group.to_pandas()
            columns = {"time": frame["time"], "value": frame["value"]}
            for col in LABELS:
                local = frame[col].cat
                lookup = np.array([codes[col][c] for c in local.categories], dtype=np.int64)
                columns[col] = lookup[local.codes.to_numpy()]
            yield _tidy(cats, columns)


def _tidy(cats: dict, columns: dict) -> pd.DataFrame:
    """A tidy frame from label codes into ``cats`` (sorted categories)."""
    return pd.DataFrame({
        "time": pd.Series(pd.DatetimeIndex(columns["time"], tz="UTC") if len(columns["time"]) else
                          pd.DatetimeIndex([], tz="UTC")),
        **{c: pd.Categorical.from_codes(np.asarray(columns[c], dtype=np.int64), categories=cats[c])
           for c in ("entity", "quantity")},
        "value": np.asarray(columns["value"], dtype=float),
        "unit": pd.Categorical.from_codes(np.asarray(columns["unit"], dtype=np.int64), categories=cats["unit"]),
    })


def _tidy_schema(cats: dict) -> pa.Schema:
    return pa.Schema.from_pandas(_tidy(cats, {c: [] for c in TIDY_COLUMNS}), preserve_index=False)


class _Rows:
    """A condition on the timeseries' label columns (``view.entity == "feeder"``, ``&``, ``|``, ``~``, ``isin``),
    kept as a pyarrow expression so that ``view[condition]`` reads only the rows it selects."""

    def __init__(self, expr):
        self.expr = expr

    def __and__(self, other: _Rows) -> _Rows:
        return _Rows(self.expr & other.expr)

    def __or__(self, other: _Rows) -> _Rows:
        return _Rows(self.expr | other.expr)

    def __invert__(self) -> _Rows:
        return _Rows(~self.expr)


class _Column:
    """A label column of a ``TimeseriesView``: comparisons make conditions; anything else (``unique()``,
    ``values``) is the whole column's."""

    def __init__(self, name: str, view: TimeseriesView):
        self.name = name
        self._view = view

    def __getattr__(self, attr: str):
        if attr.startswith("_"):
            raise AttributeError(attr)
        return getattr(self._view._frame()[self.name], attr)

    def __eq__(self, label) -> _Rows:  # type: ignore[override]
        return _Rows(pc.field(self.name) == label)

    def __ne__(self, label) -> _Rows:  # type: ignore[override]
        return _Rows(pc.field(self.name) != label)

    def isin(self, labels) -> _Rows:
        return _Rows(pc.field(self.name).isin(list(labels)))


class TimeseriesView:
    """``timeseries.parquet`` as the plotters see it, without reading it whole: ``view[view.entity == "x"]``
    (conditions on ``entity``, ``quantity`` and ``unit``, combined with ``&``, ``|``, ``~``; ``isin``) reads only
    the rows selected, as a DataFrame with the file's columns and dtypes (a fresh index). Anything else a
    DataFrame offers (``view.pivot``, ``len(view)``, ``view.value``) reads the whole table once and answers from
    it."""

    def __init__(self, path: Path):
        self._path = Path(path)
        self._whole: pd.DataFrame | None = None

    def __getattr__(self, name: str):
        if name in LABELS:
            return _Column(name, self)
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._frame(), name)

    def __getitem__(self, key):
        if isinstance(key, _Rows):
            return pq.read_table(self._path, filters=key.expr).to_pandas()
        return self._frame()[key]

    def __len__(self) -> int:
        return pq.ParquetFile(self._path).metadata.num_rows

    def _frame(self) -> pd.DataFrame:
        if self._whole is None:
            self._whole = pd.read_parquet(self._path)
        return self._whole


LEDGER_LABELS = ("contract", "event")


class LedgerView:
    """``ledger.parquet`` as the summaries and plotters see it, without reading it whole: ``view.contract`` and
    ``view.event`` are the label columns (categoricals, read once); ``view[mask]`` (a boolean Series or array
    over every event), ``view.loc[rows]`` and ``view.loc[rows, column]`` read only the row groups holding the
    rows asked for and give them as the whole frame would (same columns, dtypes and index: the event's row
    number); ``len(view)`` from the file's metadata. Anything else (``view.args``, ``view.groupby``) reads the
    whole table once and answers from it, so code written for a DataFrame keeps working."""

    def __init__(self, path: Path):
        self._path = Path(path)
        self._file = pq.ParquetFile(self._path)
        meta = self._file.metadata
        self._starts = np.cumsum([0] + [meta.row_group(i).num_rows for i in range(meta.num_row_groups)])
        self._labels: pd.DataFrame | None = None
        self._whole: pd.DataFrame | None = None

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getattr__(self, name: str):
        if name in LEDGER_LABELS:
            if self._labels is None:
                self._labels = pq.read_table(self._path, columns=list(LEDGER_LABELS),
                                             read_dictionary=list(LEDGER_LABELS)).to_pandas()
            return self._labels[name]
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._frame(), name)

    def __getitem__(self, key):
        if isinstance(key, (pd.Series, np.ndarray)) and key.dtype == bool and len(key) == len(self):
            return self._take(np.flatnonzero(np.asarray(key)))
        return self._frame()[key]

    @property
    def loc(self) -> _Loc:
        return _Loc(self)

    def _take(self, rows) -> pd.DataFrame:
        """The rows numbered ``rows`` (ascending or not), indexed by their numbers."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._whole is not None or self._file.metadata.num_row_groups == 0:
            return self._frame().loc[rows]
        order = np.argsort(rows, kind="stable")
        groups = np.searchsorted(self._starts, rows[order], side="right") - 1
        parts = []
        for g in np.unique(groups):
            local = rows[order][groups == g] - self._starts[g]
            parts.append(self._file.read_row_group(int(g)).take(pa.array(local)).to_pandas())
        if not parts:
            empty = self._file.read_row_group(0).slice(0, 0).to_pandas()
            return empty.set_axis(pd.Index(rows, dtype=np.int64), axis=0)
        frame = pd.concat(parts, ignore_index=True)
        frame.index = pd.Index(rows[order], dtype=np.int64)
        return frame.iloc[np.argsort(order, kind="stable")]

    def _frame(self) -> pd.DataFrame:
        if self._whole is None:
            self._whole = read_ledger(self._path)
        return self._whole


class _Loc:
    def __init__(self, view: LedgerView):
        self._view = view

    def __getitem__(self, key):
        rows, column = key if isinstance(key, tuple) else (key, None)
        if isinstance(rows, slice) or (isinstance(rows, (pd.Series, np.ndarray)) and rows.dtype == bool):
            return self._view._frame().loc[key]
        frame = self._view._take(pd.Index(rows).to_numpy())
        return frame if column is None else frame[column]
