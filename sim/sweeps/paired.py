"""Paired differences across seeds: a design's KPI minus the baseline's, seed by seed, with a 95 % Student t-interval
(the sweep report's and the tariff study's comparisons)."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats


def t_interval(d) -> dict:
    """n, mean and the 95 % Student t-interval (lo, hi) of the differences ``d`` (NaN bounds below 2 values)."""
    d = pd.Series(d, dtype=float).dropna()
    n = len(d)
    mean = float(d.mean()) if n else math.nan
    if n < 2:
        return {"n": n, "mean": mean, "lo": math.nan, "hi": math.nan}
    half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return {"n": n, "mean": mean, "lo": mean - half, "hi": mean + half}


def paired(table: pd.DataFrame, kpi: str, point: str, baseline: str) -> dict:
    """``t_interval`` of KPI(point, seed i) − KPI(baseline, seed i) over the seeds both ran."""
    a = table[table.point == point].set_index("seed_index")[kpi]
    b = table[table.point == baseline].set_index("seed_index")[kpi]
    return t_interval(a - b)
