"""Prosumer: a household with PV and a battery, member of the VPP.

Battery rule ("follow the declaration"): each step the battery absorbs what the household would export above
the energy the operator declared for it this period, and covers what is missing below it, within its power
and state-of-charge limits. With nothing declared (or no VPP) this is plain self-consumption. When the buyer
has published a high price for the period (time-of-use or dynamic tariff), the battery also exports at full
power: over-delivery is paid, shortfall is not penalised beyond the declaration.
"""

from __future__ import annotations

import mesa
import numpy as np

from grid_models.battery import BatteryLimits, feasible_power_kw, next_soc_kwh

PEAK_PRICE_RATIO = 1.25


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
        self._base_price = 0

    def target_kw(self, period: int, period_s: int) -> float:
        """Export the battery aims for in ``period`` [kW], read from the contract once per period: the declared
        average power, plus the battery's full power when the period's price is at least ``PEAK_PRICE_RATIO``
        times the base price (time-of-use and dynamic tariffs). A declarations object with ``import_kw(period,
        account, soc_kwh)`` (a tariff's battery rule, ``sim.capabilities.tariffs.response``) gives instead the
        grid import to aim for from the state of charge at the period's start [kW]: the target is its negative."""
        if self._declared[0] != period:
            target = 0.0
            if hasattr(self._declarations, "import_kw") and period < self.model.n_periods:
                # a tariff's battery rule: the grid import it aims for (charging from the grid), from the SoC now
                target = -self._declarations.import_kw(period, self.account, self.soc_kwh)
            elif self._declarations is not None and period < self.model.n_periods:
                target = self._declarations.declared_wh(period, self.account) / 1000.0 / (period_s / 3600.0)
                if float(self.limits.capacity_kwh) > 0:
                    base = self._base_price or self._declarations.default_price_ueur_per_kwh()
                    self._base_price = base
                    if self._declarations.price_of(period) >= PEAK_PRICE_RATIO * base:
                        target += float(self.limits.p_max_kw)
            self._declared = (period, target)
        return self._declared[1]

    def step(self) -> None:
        k, dt_s = self.model.k, self.model.step_s
        target_kw = self.target_kw(self.model.period_of_step(k), self.model.settlement_s)
        surplus_kw = self.pv_kw[k] - self.load_kw[k] - target_kw
        p = feasible_power_kw(np.array(surplus_kw), np.array(self.soc_kwh), self.limits, dt_s)
        self.battery_kw = float(p)
        self.soc_kwh = float(next_soc_kwh(p, np.array(self.soc_kwh), self.limits, dt_s))


class ProsumerFleet:
    """Every prosumer's ``step`` at once: the same rule and the same arithmetic (``feasible_power_kw`` and
    ``next_soc_kwh`` elementwise on arrays give the values the scalar calls give), one numpy call per step
    instead of one Python call per prosumer. Targets are read per period through each prosumer's
    ``target_kw``; the results are written back to the agents (``battery_kw``, ``soc_kwh``)."""

    def __init__(self, prosumers: list[Prosumer]):
        self.prosumers = prosumers
        self.pv_kw = np.column_stack([p.pv_kw for p in prosumers]) if prosumers else np.zeros((0, 0))
        self.load_kw = np.column_stack([p.load_kw for p in prosumers]) if prosumers else np.zeros((0, 0))
        self.limits = BatteryLimits(np.array([float(p.limits.capacity_kwh) for p in prosumers]),
                                    np.array([float(p.limits.p_max_kw) for p in prosumers]))
        self.soc_kwh = np.array([p.soc_kwh for p in prosumers], dtype=float)
        self.battery_kw = np.zeros(len(prosumers))
        self._period = -1
        self._target_kw = np.zeros(len(prosumers))

    def step(self, model) -> np.ndarray:
        """Decide every battery's power for step ``model.k`` [kW] (charging positive) and update the SoCs."""
        if not self.prosumers:
            return self.battery_kw
        k, dt_s = model.k, model.step_s
        period = model.period_of_step(k)
        if period != self._period:
            self._target_kw = np.array([p.target_kw(period, model.settlement_s) for p in self.prosumers])
            self._period = period
        surplus_kw = self.pv_kw[k] - self.load_kw[k] - self._target_kw
        p_kw = feasible_power_kw(surplus_kw, self.soc_kwh, self.limits, dt_s)
        self.soc_kwh = next_soc_kwh(p_kw, self.soc_kwh, self.limits, dt_s)
        self.battery_kw = p_kw
        for agent, p, soc in zip(self.prosumers, p_kw.tolist(), self.soc_kwh.tolist()):
            agent.battery_kw, agent.soc_kwh = p, soc
        return p_kw
