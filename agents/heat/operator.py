"""The district-heating operator: runs the plant and the efficiency-token scheme."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import mesa
import numpy as np

from grid_models.heat_network import HeatFlowResult, HeatNetwork, heating_curve_c


class HeatOperator(mesa.Agent):
    """Sets the plant's supply temperature by the heating curve, publishes each period's reference cooling ahead
    of it, measures the benefit of the consumers' cooling above reference, and pays it out as a bonus pool.

    Reference, per consumer: the plant's supply temperature planned from the heating curve at the outdoor
    temperature last observed (persistence forecast), minus the temperature drop to that consumer the operator
    observed last (its network model), gives the supply T_s,i expected at the substation;
    ΔT_ref,i = T_s,i − T_return,expected(T_s,i), with the expected return of the scenario's ``heat.reference``
    (by default the token scheme's own curve; optionally the motivation tariff's table). A consumer at the end of a
    long branch, who receives cooler water, is not penalised for where it lives.

    Benefit (measurement and verification by calibrated simulation, IPMVP option D): every step the operator
    solves its own model of the network once more with the same demand, but with every consumer that cooled
    better than the reference returning at exactly the reference (T_r = T_supply,i − ΔT_ref). The difference in
    pipe heat loss and pump electricity between that baseline and the measured flow, valued at
    ``heat_production_eur_per_mwh`` and ``electricity_eur_per_kwh``, is what above-reference cooling saved;
    ``bonus_share`` of it (never negative) is deposited as the period's pool. A period without tokens (e.g. only
    estimated readings) takes no pool. The baseline's pipe flow is solved only when its inputs (the plant's supply
    temperature, the demand, the baseline returns) differ from the last baseline's in any bit; otherwise that
    solution is reused (``counterfactual_reused``), exactly the flow of those inputs.

    References
    ----------
    EVO (2012). International Performance Measurement and Verification Protocol, Vol. 1, option D.
    """

    def __init__(
        self,
        model: mesa.Model,
        *,
        account: str,
        scheme,
        network_model: HeatNetwork,
        typical_demand_w: np.ndarray,
        temp_air: np.ndarray,
        curve: dict,
        expected_return: Callable[[float], float],
        heat_production_eur_per_mwh: float,
        electricity_eur_per_kwh: float,
        bonus_share: float,
    ):
        super().__init__(model)
        self.account = account
        self._scheme = scheme  # the HeatEfficiency wrapper
        self._network = network_model
        self.temp_air, self.curve, self.expected_return = temp_air, curve, expected_return
        self.heat_eur_per_wh = heat_production_eur_per_mwh / 1e6
        self.el_eur_per_wh = electricity_eur_per_kwh / 1e3
        self.bonus_share = bonus_share
        self.references_k: dict[int, np.ndarray] = {}
        self.benefit_eur: dict[int, float] = defaultdict(float)
        self.loss_saved_wh: dict[int, float] = defaultdict(float)
        self.pump_saved_wh: dict[int, float] = defaultdict(float)
        self.pools_ueur: dict[int, int] = {}
        self.counterfactual_flows = 0
        self.counterfactual_reused = 0  # steps whose baseline had the last baseline's inputs: its flow reused
        self._last_baseline: tuple[tuple, HeatFlowResult] | None = None
        # the drop from the plant to each substation, first from the model at typical demand and expected returns
        t0 = self.supply_temperature_c(0)
        t_ret = np.full(typical_demand_w.size, float(self.expected_return(t0)))
        self._observe(self._network.solve(t0, typical_demand_w, t_ret))

    @property
    def model_retries(self) -> int:
        """Pipe flows of the operator's network model that needed the damped retry."""
        return self._network.n_retries

    @property
    def model_fallbacks(self) -> int:
        """Pipe flows of the operator's network model that the fast path left to pandapipes."""
        return self._network.n_fallbacks

    def supply_temperature_c(self, k: int) -> float:
        return float(heating_curve_c(self.temp_air[k], **self.curve))

    def _observe(self, flow: HeatFlowResult) -> None:
        self.drop_k = flow.t_supply_plant_c - flow.t_supply_c

    def reference_k(self, now_step: int) -> np.ndarray:
        """Reference cooling per consumer [K] for a period planned at ``now_step``."""
        t_plant = float(heating_curve_c(self.temp_air[max(now_step - 1, 0)], **self.curve))
        t_supply = t_plant - self.drop_k
        return t_supply - np.array([self.expected_return(t) for t in t_supply])

    def publish(self, period: int, now_step: int) -> None:
        """Publish the reference cooling of every consumer for ``period`` (before it starts) on chain."""
        if 0 <= period < self.model.n_periods:
            refs_mk = np.round(self.reference_k(now_step) * 1000).astype(int)
            self._scheme.publish_references(period, [int(x) for x in refs_mk], sender=self.account)
            self.references_k[period] = refs_mk / 1000

    def assess(self, period: int, flow: HeatFlowResult, dt_s: float) -> float:
        """Benefit of this step's above-reference cooling [EUR] (see the class docstring)."""
        self._observe(flow)
        ref = self.references_k[period]
        baseline_return = np.maximum(flow.t_return_c, flow.t_supply_c - ref)
        if np.array_equal(baseline_return, flow.t_return_c):
            return 0.0
        base = self._baseline(flow.t_supply_plant_c, flow.demand_heat_w, baseline_return)
        loss_wh = (base.pipe_loss_w - flow.pipe_loss_w) * dt_s / 3600
        pump_wh = (base.pump_electric_w - flow.pump_electric_w) * dt_s / 3600
        eur = loss_wh * self.heat_eur_per_wh + pump_wh * self.el_eur_per_wh
        self.loss_saved_wh[period] += loss_wh
        self.pump_saved_wh[period] += pump_wh
        self.benefit_eur[period] += eur
        return eur

    def _baseline(self, t_supply_plant_c: float, demand_w: np.ndarray, t_return_c: np.ndarray) -> HeatFlowResult:
        """The baseline's pipe flow: the last one if these inputs are bit for bit the last baseline's, else solved
        (the solver's warm start would only move a re-solve within its tolerance, ``grid_models.heat_tree``)."""
        key = (float(t_supply_plant_c), demand_w.tobytes(), t_return_c.tobytes())
        if self._last_baseline is not None and self._last_baseline[0] == key:
            self.counterfactual_reused += 1
            return self._last_baseline[1]
        base = self._network.solve(t_supply_plant_c, demand_w, t_return_c)
        self.counterfactual_flows += 1
        self._last_baseline = (key, base)
        return base

    def settle(self, period: int) -> None:
        """Deposit the period's bonus pool and have it paid out pro rata to the period's tokens."""
        tokens = self._scheme.tokens_in_period(period)
        pool = int(max(0.0, self.benefit_eur.get(period, 0.0)) * self.bonus_share * 1e6) if tokens else 0
        self._scheme.settle(period, pool, sender=self.account)
        self.pools_ueur[period] = pool
