"""The customers' response to a tariff design, what their devices read (``[tariff] response``).

``ForecastBattery`` (``response = "battery"`` or ``"all"``): the battery of a household outside any VPP, read
through ``agents.prosumer.Prosumer.target_kw`` (``import_kw``). A cheap period is one whose import price lies
within ``CHEAP_FRACTION`` of its local day's range above the day's lowest, on a day whose prices differ. In a cheap
period the battery buys from the grid only the energy ``X`` that is worth it over the next 24 hours, from a
causal forecast (known at the decision): each period's load as the same period the day before (persistence), its
PV as its clear-sky PV (pvlib's, astronomical) times the clear-sky index of the last 24 hours (Σ pv / Σ clear-sky
pv), but never below ``prior_clear_sky_index`` (the scenario's mean: a customer does not bet on the next day being
as dull as a dull one, grid energy bought for a day that turns out sunny is pushed out by its own PV);
the forecast is run from the state of charge now under plain self-consumption, and ``X`` is what the household
would then import in dear periods, but no more than the battery can hold without spilling the forecast's own PV
surplus (grid energy that pushes out the household's own PV is a loss: it is exported at the feed-in price).
The household then imports the period's expected load plus ``X`` spread evenly over the cheap periods left in the
band (staggered, not every battery at full power in the band's first hour), at most the
battery's power and at most the design's charged capacity (``peak_min_kw`` of a peak-based network fee,
``subscribed_kw`` of a subscription), so that charging sets no new charged peak above it. ``X`` is recomputed
every period from the state of charge then. Otherwise, and in every dear period, plain self-consumption: the
battery covers the household's deficit (which is what avoids the dear imports). The first day (no 24 hours of
history) never charges from the grid. Losses are left out of the forecast (it is a customer's rule of thumb).
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
                 import_cap_kw: float = np.inf, pv_clear_kw: np.ndarray | None = None,
                 prior_clear_sky_index: float = 0.0):
        self.cheap = cheap_periods(import_eur_per_kwh, day)
        self.left = cheap_left(self.cheap)
        self.column = {a: j for j, a in enumerate(accounts)}
        self.capacity_kwh, self.p_max_kw, self.import_cap_kw = capacity_kwh, p_max_kw, import_cap_kw
        self.period_h = period_s / 3600.0
        spp = period_s // step_s
        n_periods = len(import_eur_per_kwh)
        self.day_p = 86_400 // period_s

        def per_period_kw(x):
            return x[: n_periods * spp].reshape(n_periods, spp, -1).mean(axis=1)

        load_p = per_period_kw(load_kw)  # periods x households [kW]
        pv_p = per_period_kw(pv_kw)
        clear_p = per_period_kw(pv_kw if pv_clear_kw is None else pv_clear_kw)
        self.load_fc_kw = np.zeros_like(load_p)
        self.pv_clear_kwh = clear_p * self.period_h
        self.clear_sky_index = np.ones_like(load_p)
        if self.day_p < n_periods:  # the same period the day before; the last 24 hours' clear-sky index
            self.load_fc_kw[self.day_p:] = load_p[:-self.day_p]
            c_pv = np.vstack([np.zeros((1, pv_p.shape[1])), np.cumsum(pv_p, axis=0)])
            c_clear = np.vstack([np.zeros((1, pv_p.shape[1])), np.cumsum(clear_p, axis=0)])
            q = np.arange(self.day_p, n_periods)
            got, clear = c_pv[q] - c_pv[q - self.day_p], c_clear[q] - c_clear[q - self.day_p]
            self.clear_sky_index[self.day_p:] = np.where(clear > 0, got / np.maximum(clear, 1e-12), 1.0)
        self.clear_sky_index = np.maximum(self.clear_sky_index, prior_clear_sky_index)

    def worth_kwh(self, period: int, j: int, soc_kwh: float) -> float:
        """The energy worth buying now [kWh] (module docstring): the dear imports of the next 24 hours' forecast
        under self-consumption from ``soc_kwh``, at most what the battery can hold without spilling the
        forecast's own PV: extra energy ``X`` bought now is used up by the forecast's imports in their order
        (``I(t)`` so far), and spills where the rest exceeds the room ``cap - soc(t)``: ``X <= min_t (I(t) + cap -
        soc(t))``."""
        cap, k = float(self.capacity_kwh[j]), float(self.clear_sky_index[period, j])
        soc, dear, imported, most = soc_kwh, 0.0, 0.0, cap - soc_kwh
        for q in range(period, min(period + self.day_p, len(self.cheap))):
            soc -= self.load_fc_kw[q, j] * self.period_h - k * self.pv_clear_kwh[q, j]
            if soc < 0:
                imported -= soc
                dear += 0.0 if self.cheap[q] else -soc
                soc = 0.0
            soc = min(soc, cap)
            most = min(most, imported + cap - soc)
        return max(0.0, min(dear, most))

    def import_kw(self, period: int, account: str, soc_kwh: float) -> float:
        """The household's grid import the battery aims for in ``period`` [kW] (0: plain self-consumption)."""
        j = self.column.get(account)
        if j is None or period >= len(self.cheap) or period < self.day_p or not self.cheap[period]:
            return 0.0
        worth_kwh = self.worth_kwh(period, j, soc_kwh)
        if worth_kwh <= 0:
            return 0.0
        charge_kw = min(worth_kwh / (self.left[period] * self.period_h), self.p_max_kw[j])
        return float(min(self.load_fc_kw[period, j] + charge_kw, self.import_cap_kw))

    # the rest of the declarations interface (agents.prosumer): no VPP declaration, no peak-price export
    def declared_wh(self, period: int, account: str) -> float:
        return 0.0

    def default_price_ueur_per_kwh(self) -> int:
        return 1

    def price_of(self, period: int) -> int:
        return 0
