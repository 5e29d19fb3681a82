"""Measured profiles: a group's load, PV or heat demand read from a CSV/Parquet file (docs/your_data.md).

A group names a file (``load_file``, ``pv_file``, ``demand_file``) and how its values are used (``*_scale``).
The file gives a series for every member, ``{member id}_p_kw`` / ``{member id}_energy_kwh``, or one
``p_kw`` / ``energy_kwh`` that every member takes (``sim.files.series.read_power_series``). Its values are
averaged onto the run's steps, keeping the energy (``SeriesFile.on``), and must cover the run. ``measured`` takes
them as they are; ``annual`` scales each member's series so that its mean power is the group's annual energy
over 8760 h (a file of one 365-day year then sums to it); ``per_kwp`` (PV) multiplies kW per kWp by the
group's ``pv_kwp``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.files.series import read_power_series
from sim.schema import ScenarioError

HOURS_PER_YEAR = 8760.0
NOT_COVERED = " (a profile file must cover every step of the run: give the run's dates, or move the run)"


def profiles_kw(path: str, ids: list[str], *, what: str, times: pd.DatetimeIndex, step_s: int, tz: str,
                scale: str = "measured", per: float | None = None, at_most: float | None = None) -> np.ndarray:
    """Each member's series [kW] on the run's steps, shape (steps, len(ids)); ``times``: the run's step starts
    (tz-aware); naive times in the file are in ``tz``. ``scale``: ``measured`` (as given), ``annual`` (mean power
    ``per`` / 8760 h over the file) or ``per_kwp`` (values in kW per kWp, times ``per``); ``at_most``: the largest
    value allowed, in the file's unit. ScenarioError naming the file, line and column of any problem, or the span
    the run needs."""
    series = read_power_series(Path(path), ids, kind=what, what=what, tz=tz)
    for k in ids if at_most is not None else ():
        over = series.columns[k] > at_most * (1 + 1e-9)
        if over.any():
            i = int(np.argmax(over))
            where = f"line {i + 2}" if series.path.suffix.lower() == ".csv" else f"row {i + 1}"
            unit = "kW per kWp" if scale == "per_kwp" else "kW"
            raise ScenarioError(f"{path}: {where}: the {what} of {k} is {series.columns[k][i]:g} {unit}, above the "
                                f"{at_most:g} {unit} its pv_kwp allows (a value in W, not kW?)")
    on = series.on(times, step_s, NOT_COVERED)
    out = np.column_stack([on[k] for k in ids]) if ids else np.empty((len(times), 0))
    if scale == "annual":
        mean_kw = np.array([series.columns[k].mean() for k in ids])
        if (mean_kw <= 0).any():
            raise ScenarioError(f"{path}: the {what} of {ids[int(np.argmax(mean_kw <= 0))]} is zero throughout; "
                                "it cannot be scaled to an annual energy (use the measured values)")
        out = out * (per / HOURS_PER_YEAR / mean_kw)
    elif scale == "per_kwp":
        out = out * per
    return out


def h0_scaled_to(measured_kw: np.ndarray, unit_kw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A forecaster's view of measured demand: the standard profile ``unit_kw`` (steps, per kWh/a) scaled to each
    column's energy over the run; with the annual energy [kWh/a] that scale means."""
    annual = measured_kw.sum(axis=0) / unit_kw.sum()
    return np.outer(unit_kw, annual), annual
