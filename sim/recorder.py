"""Per-step records in preallocated arrays, turned into one tidy frame (time, entity, quantity, value, unit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
        """Tidy frame; ``extra`` adds site-level series as ``{quantity: (values, unit)}`` for entity ``site``;
        ``more`` appends tidy frames of the capabilities (same columns, ``time`` in UTC)."""
        t_utc = times.tz_convert("UTC")
        parts = []
        for q, unit in PROSUMER_QUANTITIES.items() if self.ids else ():
            vals = self.prosumer[q]
            parts.append(pd.DataFrame({
                "time": np.repeat(t_utc, len(self.ids)),
                "entity": np.tile(self.ids, len(times)),
                "quantity": q, "value": vals.reshape(-1), "unit": unit,
            }))
        for q, unit in FEEDER_QUANTITIES.items() if self.has_feeder else ():
            parts.append(pd.DataFrame({"time": t_utc, "entity": "feeder", "quantity": q,
                                       "value": self.feeder[q], "unit": unit}))
        for q, (vals, unit) in (extra or {}).items():
            parts.append(pd.DataFrame({"time": t_utc, "entity": "site", "quantity": q, "value": vals, "unit": unit}))
        df = pd.concat(parts + list(more or []), ignore_index=True)
        for col in ("entity", "quantity", "unit"):
            df[col] = df[col].astype("category")
        return df
