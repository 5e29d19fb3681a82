"""Operators: the VPP aggregator, who declares members' energy ahead of each period."""

from __future__ import annotations

import mesa
import numpy as np

SUN_UP_GHI_CLEAR_W_PER_M2 = 50.0


class VppOperator(mesa.Agent):
    """Declares every member's export for a period before it starts [Wh].

    Forecast ("smart persistence", the standard baseline of solar forecasting): the clear-sky index observed
    most recently while the sun was up is assumed to persist; PV = clear-sky PV (pvlib, same systems) times
    that index; export = ``derate`` x max(0, PV - the household's standard-profile demand), per step, summed
    over the period. With ``method = "clear_sky"`` the index is taken as 1.

    References
    ----------
    Pedro, H. T. C., Coimbra, C. F. M. (2012). Assessment of forecasting techniques for solar power production
    with no exogenous inputs. Solar Energy 86, 2017-2028 (smart persistence).
    """

    def __init__(
        self,
        model: mesa.Model,
        *,
        account: str,
        vpp,
        pv_clear_kw: np.ndarray,
        expected_load_kw: np.ndarray,
        observed_kc: np.ndarray,
        ghi_clear: np.ndarray,
        derate: float,
        method: str = "smart_persistence",
        prior_kc: float = 0.7,
    ):
        super().__init__(model)
        self.account = account
        self._vpp = vpp
        self.pv_clear_kw, self.expected_load_kw = pv_clear_kw, expected_load_kw
        self.observed_kc, self.ghi_clear = observed_kc, ghi_clear
        self.derate, self.method, self.prior_kc = derate, method, prior_kc

    def kc_estimate(self, before_step: int) -> float:
        """Clear-sky index observed last while the sun was up, before step ``before_step``."""
        if self.method == "clear_sky":
            return 1.0
        sun = np.flatnonzero(self.ghi_clear[:before_step] > SUN_UP_GHI_CLEAR_W_PER_M2)
        return float(self.observed_kc[sun[-1]]) if sun.size else self.prior_kc

    def forecast_wh(self, periods: range, now_step: int) -> list[list[int]]:
        """Each member's expected export in each of ``periods``, as known at step ``now_step`` [Wh]."""
        m = self.model
        steps = slice(periods.start * m.steps_per_period, periods.stop * m.steps_per_period)
        export_kw = np.clip(self.pv_clear_kw[steps] * self.kc_estimate(now_step) - self.expected_load_kw[steps],
                            0.0, None)
        wh = export_kw.reshape(len(periods), m.steps_per_period, -1).sum(axis=1) * m.step_s / 3.6 * self.derate
        return np.floor(wh).astype(np.int64).tolist()

    def declare(self, period: int, now_step: int) -> None:
        """Declare one period (``declare``)."""
        if 0 <= period < self.model.n_periods:
            self._vpp.declare(period, self.forecast_wh(range(period, period + 1), now_step)[0], sender=self.account)

    def declare_day(self, first_period: int, n_periods: int, now_step: int, *, commit: bool) -> None:
        """Declare ``n_periods`` periods from ``first_period`` with one forecast: committed as one hash
        (``commit_declarations``) or each period on its own (``declare``)."""
        periods = range(first_period, min(first_period + n_periods, self.model.n_periods))
        if not len(periods):
            return
        forecasts = self.forecast_wh(periods, now_step)
        if commit:
            self._vpp.commit_declarations(periods.start, forecasts, sender=self.account)
            return
        for period, wh in zip(periods, forecasts):
            self._vpp.declare(period, wh, sender=self.account)

    def settle(self, period: int) -> None:
        self._vpp.settle(period, sender=self.account)

    def settle_day(self, first_period: int, batches: list) -> None:
        """Settle ``len(batch.energy_wh)`` committed periods from ``first_period`` with every member's signed
        batch of them (registration order)."""
        n = len(batches[0].energy_wh)
        self._vpp.settle_day(first_period, self._vpp.committed_wh(first_period, n), batches, sender=self.account)


class EnergyBuyer(mesa.Agent):
    """Buys the VPP's energy; under a time-of-use or dynamic tariff it publishes each period's price on chain
    before the period starts (with the flat tariff it publishes nothing: the default price applies)."""

    def __init__(self, model: mesa.Model, *, account: str, vpp, price_ueur_per_kwh: np.ndarray | None):
        super().__init__(model)
        self.account = account
        self._vpp = vpp
        self.price_ueur_per_kwh = price_ueur_per_kwh

    def publish(self, period: int) -> None:
        if self.price_ueur_per_kwh is not None and 0 <= period < len(self.price_ueur_per_kwh):
            self._vpp.publish_price(period, int(self.price_ueur_per_kwh[period]), sender=self.account)
