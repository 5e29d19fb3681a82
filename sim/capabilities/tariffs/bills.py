"""A tariff's bills from meter data: per household and billing period, itemised, in EUR rounded to the cent.

Arithmetic (``e_in``, ``e_out``: a household's validated import and export of a settlement period [kWh]):

1. Community sharing (``[tariff.community]``, rule ``"pro_rata"``): in each period the community shares
   S = min(Σ e_in, Σ e_out) over its households; a household's shared import is S·e_in/Σe_in, its shared export
   S·e_out/Σe_out. Without a community nothing is shared. A VPP member's export is sold by the VPP (its payouts
   are lines of the bill, step 4): it is neither shared nor credited (e_out = 0 here). Grid import = e_in −
   shared import, grid export = e_out − shared export.
2. Lines of a billing period (sums over its periods; ``days``: its length in days):
   ``energy_in_eur`` = Σ grid import x import price; ``energy_out_eur`` = −Σ grid export x export price;
   ``community_eur`` = Σ (shared import − shared export) x internal price;
   ``network_energy_eur`` = Σ (grid import + shared import x (1 − discount)) x network energy fee;
   ``network_peak_eur`` = max(peak_min_kw, highest period-average import [kW]) x peak_eur_per_kw_year x days/365;
   ``network_capacity_eur`` = subscribed_kw x subscription_eur_per_kw_day x days + Σ max(0, e_in − subscribed_kw
   x period hours) x excess fee; ``levies_eur`` = Σ e_in x levies; ``fixed_eur`` = fixed_eur_per_day x days.
3. Each line is rounded to the cent, half away from zero; ``payable_eur`` is the sum of the rounded lines (what
   the household pays the supplier on chain; negative: the supplier pays it).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd

LINES = ("energy_in_eur", "energy_out_eur", "community_eur", "network_energy_eur", "network_peak_eur",
         "network_capacity_eur", "levies_eur", "fixed_eur")
CENT = Decimal("0.01")


def to_cents(eur) -> np.ndarray:
    """Whole cents of ``eur``, rounded half away from zero [ct] (integers). Each amount is first rounded to 1e-9
    EUR, so that an exact half cent computed in floating point (2.715 as 2.7149999…) rounds as written."""
    x = np.atleast_1d(np.asarray(eur, dtype=float))
    return np.array([int(Decimal(repr(round(float(v), 9))).quantize(CENT, ROUND_HALF_UP) * 100) for v in x],
                    dtype=np.int64)


def shared_kwh(import_kwh: np.ndarray, export_kwh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pro-rata sharing per period (rows: periods, columns: households) [kWh]: each household's shared import and
    shared export (module docstring, step 1)."""
    total_in, total_out = import_kwh.sum(axis=1, keepdims=True), export_kwh.sum(axis=1, keepdims=True)
    shared = np.minimum(total_in, total_out)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_in = np.where(total_in > 0, shared * import_kwh / total_in, 0.0)
        s_out = np.where(total_out > 0, shared * export_kwh / total_out, 0.0)
    return s_in, s_out


def bill_frame(tariff, import_kwh: np.ndarray, export_kwh: np.ndarray, import_eur_per_kwh: np.ndarray,
               export_eur_per_kwh: np.ndarray, billing: np.ndarray, settlement_s: int, day_fraction: np.ndarray,
               households: list[str], groups: list[str], sold_by_vpp: np.ndarray | None = None) -> pd.DataFrame:
    """One row per household and billing period: its energy [kWh], peak [kW], each line and ``payable_eur``
    [EUR, whole cents]. ``import_kwh``, ``export_kwh``: validated meter data (rows: settlement periods, columns:
    ``households``); ``billing``: each period's billing-period index (0, 1, … in time order); ``day_fraction``: each
    period's share of its local calendar day (``day_fractions``: per-day fees and the peak fee's share of a year
    count calendar days); ``groups``: each household's population group (its customer type); ``sold_by_vpp``:
    households whose export a VPP sells (its payouts are lines of the bill): their export is neither credited nor
    shared."""
    period_h = settlement_s / 3600.0
    metered_export_kwh = export_kwh
    if sold_by_vpp is not None:
        export_kwh = np.where(np.asarray(sold_by_vpp, dtype=bool)[None, :], 0.0, export_kwh)
    if tariff.community is not None:
        s_in, s_out = shared_kwh(import_kwh, export_kwh)
        internal, discount = tariff.community.internal_eur_per_kwh, tariff.community.network_discount_percent / 100
    else:
        s_in, s_out, internal, discount = np.zeros_like(import_kwh), np.zeros_like(export_kwh), 0.0, 0.0
    grid_in, grid_out = import_kwh - s_in, export_kwh - s_out
    net = tariff.network
    excess_kwh = np.maximum(0.0, import_kwh - net.subscribed_kw * period_h)
    rows = []
    for b in np.unique(billing):
        p = billing == b
        days = float(day_fraction[p].sum())
        peak_kw = import_kwh[p].max(axis=0) / period_h
        lines = {
            "energy_in_eur": grid_in[p].T @ import_eur_per_kwh[p],
            "energy_out_eur": -(grid_out[p].T @ export_eur_per_kwh[p]),
            "community_eur": (s_in[p] - s_out[p]).sum(axis=0) * internal,
            "network_energy_eur": (grid_in[p] + s_in[p] * (1 - discount)).sum(axis=0) * net.energy_eur_per_kwh,
            "network_peak_eur": np.maximum(net.peak_min_kw, peak_kw) * net.peak_eur_per_kw_year * days / 365,
            "network_capacity_eur": (net.subscribed_kw * net.subscription_eur_per_kw_day * days
                                     + excess_kwh[p].sum(axis=0) * net.excess_eur_per_kwh),
            "levies_eur": import_kwh[p].sum(axis=0) * tariff.levies_eur_per_kwh,
            "fixed_eur": np.full(len(households), net.fixed_eur_per_day * days),
        }
        cents = {k: to_cents(v) for k, v in lines.items()}
        for j, h in enumerate(households):
            rows.append({
                "household": h, "group": groups[j], "billing_period": int(b),
                "first_period": int(np.flatnonzero(p)[0]), "periods": int(p.sum()), "days": float(days),
                "import_kwh": float(import_kwh[p, j].sum()), "export_kwh": float(metered_export_kwh[p, j].sum()),
                "export_credited_kwh": float(grid_out[p, j].sum()),
                "shared_import_kwh": float(s_in[p, j].sum()), "shared_export_kwh": float(s_out[p, j].sum()),
                "peak_import_kw": float(peak_kw[j]),
                **{k: cents[k][j] / 100 for k in LINES},
                "payable_eur": int(sum(cents[k][j] for k in LINES)) / 100,
            })
    return pd.DataFrame(rows)


def day_fractions(starts: pd.DatetimeIndex, settlement_s: int) -> np.ndarray:
    """Each settlement period's share of its local calendar day: ``settlement_s`` over the day's length (23, 24 or
    25 h where the clocks change), so that a whole local day sums to 1 (``starts``: tz-aware local period starts)."""
    midnight = starts.tz_localize(None).normalize()
    this = midnight.tz_localize(starts.tz, ambiguous=True, nonexistent="shift_forward")
    nxt = (midnight + pd.Timedelta(days=1)).tz_localize(starts.tz, ambiguous=True, nonexistent="shift_forward")
    return settlement_s / (nxt - this).total_seconds().to_numpy()


def billing_index(starts: pd.DatetimeIndex, run_start: pd.Timestamp, billing_period: str) -> np.ndarray:
    """Each settlement period's billing period (0, 1, …): by local day, by week of 7 local days from the run's start,
    or by calendar month (``starts``: the periods' local starts)."""
    if billing_period == "day":
        key = np.array([t.date().toordinal() for t in starts])
    elif billing_period == "week":  # 7 local calendar days: a daylight-saving change does not move the boundary
        key = (np.array([t.date().toordinal() for t in starts]) - run_start.date().toordinal()) // 7
    else:
        key = (starts.year * 12 + starts.month).to_numpy()
    return np.unique(key, return_inverse=True)[1]
