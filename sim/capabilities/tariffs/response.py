"""The customers' response to a tariff design, what their devices read (``[tariff] response``).

``ForecastBattery`` (``response = "battery"`` or ``"all"``): the battery of a household outside any VPP, read
through ``agents.prosumer.Prosumer.target_kw`` (``import_kw``). In a cheap period (an import price within
``CHEAP_FRACTION`` of its local day's range above the day's lowest, on a day whose prices differ) it buys from
the grid only what the coming day's own PV surplus will not bring: the state of charge it aims for is
``capacity - F``, ``F`` the household's PV surplus (Σ max(0, pv - load)) of the last 24 hours (a persistence
forecast of the next 24 hours: causal, known at the decision). Below that aim it imports the period's expected
load (the same hour the day before) plus the missing energy spread evenly over the cheap periods left in the
band (staggered, not all at full power at the band's first hour), at most the battery's power and at most the
design's charged capacity (``peak_min_kw`` of a peak-based network fee, ``subscribed_kw`` of a subscription),
so that charging sets no new charged peak. Otherwise, and in every dear period, plain self-consumption: the
battery covers the household's deficit (which is what avoids the dear imports). A first day without 24 hours of
history does not charge from the grid.
"""

from __future__ import annotations

import numpy as np

CHEAP_FRACTION = 0.25


def cheap_periods(import_eur_per_kwh: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Whether each period is cheap: its price within ``CHEAP_FRACTION`` of its day's range above the day's
    lowest, on a day whose prices differ (``day``: each period's local day index)."""
    cheap = np.zeros(len(import_eur_per_kwh), dtype=bool)
    for d in np.unique(day):
        mine = day == d
        lo, hi = import_eur_per_kwh[mine].min(), import_eur_per_kwh[mine].max()
        if hi - lo > 1e-9:
            cheap[mine] = import_eur_per_kwh[mine] <= lo + CHEAP_FRACTION * (hi - lo)
    return cheap


def cheap_left(cheap: np.ndarray) -> np.ndarray:
    """For each cheap period, how many cheap periods follow it in its band, itself included (0 if not cheap)."""
    left = np.zeros(len(cheap), dtype=int)
    run = 0
    for p in range(len(cheap) - 1, -1, -1):
        run = run + 1 if cheap[p] else 0
        left[p] = run
    return left


class ForecastBattery:
    """The forecast-aware battery rule (module docstring). ``pv_kw``, ``load_kw``: per step and household [kW]
    (columns in ``accounts`` order); ``capacity_kwh``, ``p_max_kw``: per household; ``import_cap_kw``: the
    design's charged capacity (inf: none)."""

    def __init__(self, import_eur_per_kwh: np.ndarray, day: np.ndarray, accounts: list[str], pv_kw: np.ndarray,
                 load_kw: np.ndarray, capacity_kwh: np.ndarray, p_max_kw: np.ndarray, step_s: int, period_s: int,
                 import_cap_kw: float = np.inf):
        self.cheap = cheap_periods(import_eur_per_kwh, day)
        self.left = cheap_left(self.cheap)
        self.column = {a: j for j, a in enumerate(accounts)}
        self.capacity_kwh, self.p_max_kw, self.import_cap_kw = capacity_kwh, p_max_kw, import_cap_kw
        self.period_h = period_s / 3600.0
        spp, dt_h = period_s // step_s, step_s / 3600.0
        n_periods = len(import_eur_per_kwh)
        day_p = 86_400 // period_s
        surplus_kwh = np.maximum(pv_kw - load_kw, 0.0)[: n_periods * spp] * dt_h
        per_period = surplus_kwh.reshape(n_periods, spp, -1).sum(axis=1)  # periods x households [kWh]
        csum = np.vstack([np.zeros((1, per_period.shape[1])), np.cumsum(per_period, axis=0)])
        self.forecast_kwh = np.full(per_period.shape, np.inf)  # no 24 h history: never charge from the grid
        p = np.arange(day_p, n_periods)
        self.forecast_kwh[p] = csum[p] - csum[p - day_p]
        load_p = load_kw[: n_periods * spp].reshape(n_periods, spp, -1).mean(axis=1)
        self.load_fc_kw = np.zeros_like(load_p)
        self.load_fc_kw[day_p:] = load_p[:-day_p] if day_p < n_periods else 0.0

    def import_kw(self, period: int, account: str, soc_kwh: float) -> float:
        """The household's grid import the battery aims for in ``period`` [kW] (0: plain self-consumption)."""
        j = self.column.get(account)
        if j is None or period >= len(self.cheap) or not self.cheap[period]:
            return 0.0
        aim_kwh = self.capacity_kwh[j] - self.forecast_kwh[period, j]
        missing_kwh = aim_kwh - soc_kwh
        if missing_kwh <= 0:
            return 0.0
        charge_kw = min(missing_kwh / (self.left[period] * self.period_h), self.p_max_kw[j])
        return float(min(self.load_fc_kw[period, j] + charge_kw, self.import_cap_kw))

    # the rest of the declarations interface (agents.prosumer): no VPP declaration, no peak-price export
    def declared_wh(self, period: int, account: str) -> float:
        return 0.0

    def default_price_ueur_per_kwh(self) -> int:
        return 1

    def price_of(self, period: int) -> int:
        return 0
