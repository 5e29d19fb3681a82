"""Prosumer: a household with PV and a battery, member of the VPP.

Battery rule ("follow the declaration"): each step the battery absorbs what the household would export above
the energy the operator declared for it this period, and covers what is missing below it, within its power
and state-of-charge limits. With nothing declared (or no VPP) this is plain self-consumption.
"""

from __future__ import annotations

import mesa
import numpy as np

from grid_models.battery import BatteryLimits, feasible_power_kw, next_soc_kwh


class Prosumer(mesa.Agent):
    """One household. Profiles are per step [kW]; the declaration is read from the VPP contract [Wh]."""

    def __init__(
        self,
        model: mesa.Model,
        *,
        name: str,
        index: int,
        account: str,
        pv_kw: np.ndarray,
        load_kw: np.ndarray,
        capacity_kwh: float,
        p_max_kw: float,
        declarations=None,
    ):
        super().__init__(model)
        self.name, self.index, self.account = name, index, account
        self.pv_kw, self.load_kw = pv_kw, load_kw
        self.limits = BatteryLimits(np.array(capacity_kwh), np.array(p_max_kw))
        self.soc_kwh = 0.5 * capacity_kwh
        self.battery_kw = 0.0
        self._declarations = declarations  # anything with declared_wh(period, account), e.g. the VPP contract
        self._declared: tuple[int, float] = (-1, 0.0)

    def declared_kw(self, period: int, period_s: int) -> float:
        """Average power the operator declared for this member in ``period``, read once per period [kW]."""
        if self._declared[0] != period:
            known = self._declarations is not None and period < self.model.n_periods
            wh = self._declarations.declared_wh(period, self.account) if known else 0
            self._declared = (period, wh / 1000.0 / (period_s / 3600.0))
        return self._declared[1]

    def step(self) -> None:
        k, dt_s = self.model.k, self.model.step_s
        target_kw = self.declared_kw(self.model.period_of_step(k), self.model.settlement_s)
        surplus_kw = self.pv_kw[k] - self.load_kw[k] - target_kw
        p = feasible_power_kw(np.array(surplus_kw), np.array(self.soc_kwh), self.limits, dt_s)
        self.battery_kw = float(p)
        self.soc_kwh = float(next_soc_kwh(p, np.array(self.soc_kwh), self.limits, dt_s))
