"""Per-step records in preallocated arrays, turned into one tidy frame (time, entity, quantity, value, unit)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from grid_models.feeder import FlowResult

PROSUMER_QUANTITIES = {
    "pv_kw": "kW", "load_kw": "kW", "battery_kw": "kW", "soc_kwh": "kWh", "export_kw": "kW",
}
FEEDER_QUANTITIES = {
    "slack_p_kw": "kW", "load_p_kw": "kW", "sgen_p_kw": "kW", "storage_p_kw": "kW", "losses_kw": "kW",
    "vm_min_pu": "pu", "vm_max_pu": "pu", "trafo_loading_percent": "%", "line_loading_max_percent": "%",
}


class Recorder:
    def __init__(self, n_steps: int, prosumer_ids: list[str], has_feeder: bool = True):
        self.ids = prosumer_ids
        self.has_feeder = has_feeder
        self.prosumer = {q: np.full((n_steps, len(prosumer_ids)), np.nan) for q in PROSUMER_QUANTITIES}
        self.feeder = {q: np.full(n_steps, np.nan) for q in FEEDER_QUANTITIES}

    def record_step(self, k, flow: FlowResult, pv_kw, load_kw, battery_kw, soc_kwh, export_kw) -> None:
        for q in FEEDER_QUANTITIES:
            self.feeder[q][k] = getattr(flow, q)
        for q, v in (("pv_kw", pv_kw), ("load_kw", load_kw), ("battery_kw", battery_kw), ("soc_kwh", soc_kwh),
                     ("export_kw", export_kw)):
            self.prosumer[q][k] = v

    def tidy(
        self,
        times: pd.DatetimeIndex,
        extra: dict[str, tuple[np.ndarray, str]] | None = None,
        more: list[pd.DataFrame] | None = None,
    ) -> pd.DataFrame:
        """Tidy frame, whole in memory: the reference ``timeseries.parquet`` is tested against (a run writes the
        file a row group at a time from the same arrays: ``sim.results.tables``); ``extra`` adds site-level
        series as ``{quantity: (values, unit)}`` for entity ``site``;
        ``more`` appends tidy frames of the capabilities (same columns, ``time`` in UTC).

        Rows: each prosumer quantity (step-major, prosumers in order), then each feeder quantity, then ``extra``,
        then ``more``. ``entity``, ``quantity`` and ``unit`` are categoricals with sorted categories. The columns
        are assembled from codes, never through per-row Python strings (a year is ~18 million rows)."""
        t_utc = times.tz_convert("UTC")
        n_steps, n_ids = len(times), len(self.ids)
        parts: list[dict] = []
        if n_ids:
            entity = pd.Categorical.from_codes(np.tile(np.arange(n_ids), n_steps), categories=self.ids)
            time_rows = pd.Series(np.repeat(t_utc, n_ids))
            for q, unit in PROSUMER_QUANTITIES.items():
                parts.append({"time": time_rows, "entity": entity, "quantity": q,
                              "value": self.prosumer[q].reshape(-1), "unit": unit})
        for q, unit in FEEDER_QUANTITIES.items() if self.has_feeder else ():
            parts.append({"time": t_utc, "entity": "feeder", "quantity": q, "value": self.feeder[q], "unit": unit})
        for q, (vals, unit) in (extra or {}).items():
            parts.append({"time": t_utc, "entity": "site", "quantity": q, "value": vals, "unit": unit})
        frames = list(more or [])
        sizes = [len(p["value"]) for p in parts] + [len(f) for f in frames]
        entity, quantity, unit = (_categorical([p[col] for p in parts] + [f[col] for f in frames], sizes)
                                  for col in ("entity", "quantity", "unit"))
        columns = {
            "time": pd.concat([pd.Series(p["time"]) for p in parts] + [f["time"] for f in frames],
                              ignore_index=True),
            "entity": entity,
            "quantity": quantity,
            "value": pd.concat([pd.Series(p["value"]) for p in parts] + [f["value"] for f in frames],
                               ignore_index=True),
            "unit": unit,
        }
        return pd.DataFrame(columns, copy=False)

def _categorical(pieces: list, sizes: list[int]) -> pd.Series:
    """One categorical column (sorted categories) from pieces that are each a label repeated ``size`` times, a
    Categorical, or any array of labels."""
    cats = []
    for piece, size in zip(pieces, sizes):
        if isinstance(piece, str):
            piece = pd.Categorical.from_codes(np.zeros(size, dtype=np.int8), categories=[piece])
        elif not isinstance(piece, pd.Categorical):
            piece = pd.Categorical(piece)
        cats.append(piece)
    return pd.Series(union_categoricals(cats, sort_categories=True))
