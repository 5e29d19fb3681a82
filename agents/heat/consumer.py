"""HeatConsumer: a building's owner and its district-heating substation.

The substation's state (``grid_models.substation.STATES``) sets its return temperature. At each review (once
a day by default) a *responsive* owner whose installation is faulty considers fixing it (a service visit puts it back to
``well_tuned``):

1. **What fixing would gain.** From the contract, through the wrapper it was handed, the owner reads its own
   running totals (heat, volume, Σ V·T registers) since its last look, the latest published reference
   cooling, and how much bonus the scheme paid per token over the same time. The service technician's
   estimate of the return-temperature drop is the substation model's difference between the current state
   and ``well_tuned`` at the owner's supply temperature and load. With the same heat delivered, a cooling
   ΔT + δ needs V·ΔT/(ΔT + δ) of the volume; tokens per window go from max(0, V·(ΔT − ΔT_ref)) to
   max(0, V'·(ΔT + δ − ΔT_ref)). The gain in tokens times the bonus per token, extrapolated over a heating
   season (``heating_season_days``), is the expected yearly bonus gain G [EUR].
2. **Whether to act.** It fixes with probability ``p = p_max · G / (G + G_half)``: zero without a gain, rising
   with the bonus expected, saturating at ``p_max`` per review (owners procrastinate even when it pays).

Some owners never react (``responsive`` false); the token scheme still treats them by the same rule: tokens
for cooling above the reference, never a penalty.

Where the numbers come from: the shape (a saturating response to the expected benefit) is the usual
discrete-choice assumption; its scale is a scenario parameter, since no study we know of measures it for
district-heat customers. Field experience bounds it: after Roskilde's cooling tariff (VEKS, 2003) average
customer cooling was planned to rise from 28.5 to 35 degC over four years, i.e. owners respond over months
to years; Din Forsyning (Varde, 2018) expected its motivation tariff to touch 30–40 % of customers, most of
them with a rebate and about 5 % with a surcharge; and the common faults are cheap to fix once found
(Månsson et al. 2019). The demo scenario compresses that response into a month so that it can be seen.
"""

from __future__ import annotations

import mesa
import numpy as np

from grid_models.substation import STATES, WELL_TUNED, return_temperature_c


class HeatConsumer(mesa.Agent):
    def __init__(
        self,
        model: mesa.Model,
        *,
        name: str,
        index: int,
        account: str,
        state: int,
        responsive: bool,
        design_heat_w: float,
        scheme,
        rng: np.random.Generator,
        max_fix_probability: float,
        half_response_bonus_eur_per_year: float,
        heating_season_days: float,
    ):
        super().__init__(model)
        self.name, self.index, self.account = name, index, account
        self.state, self.initial_state = state, state
        self.responsive, self.design_heat_w = responsive, design_heat_w
        self._scheme, self._rng = scheme, rng
        self.p_max, self.g_half = max_fix_probability, half_response_bonus_eur_per_year
        self.season_days = heating_season_days
        self._seen = None  # the running totals read at the last review
        self._seen_pool_ueur, self._seen_supply = 0, 0
        self.fixed_at_step: int | None = None
        self.decisions: list[dict] = []

    @property
    def state_name(self) -> str:
        return STATES[self.state]

    def expected_gain_eur_per_year(self, window_s: float, last_period: int) -> float:
        """Step 1 of the class docstring; updates what the owner has seen."""
        reference_k = self._scheme.reference_k(last_period, self.account)
        totals = self._scheme.totals(self.account)
        pool, supply = self._scheme.call("total_paid_ueur"), self._scheme.total_supply()
        window = totals if self._seen is None else totals.minus(self._seen)
        bonus_per_token_eur = (pool - self._seen_pool_ueur) / max(supply - self._seen_supply, 1) / 1e6
        self._seen, self._seen_pool_ueur, self._seen_supply = totals, pool, supply
        if window.volume_ml <= 0 or bonus_per_token_eur <= 0 or reference_k is None:
            return 0.0
        load = window.heat_wh / (window_s / 3600) / self.design_heat_w
        t_supply = window.t_supply_c
        drop_k = float(return_temperature_c(self.state, t_supply, load)
                       - return_temperature_c(WELL_TUNED, t_supply, load))
        dt_now = window.delta_t_k
        volume_l = window.volume_ml / 1000
        volume_after_l = volume_l * dt_now / (dt_now + drop_k)
        tokens_now = max(0.0, volume_l * (dt_now - reference_k))  # token units: l*K
        tokens_after = max(0.0, volume_after_l * (dt_now + drop_k - reference_k))
        per_window_eur = (tokens_after - tokens_now) * bonus_per_token_eur
        return max(0.0, per_window_eur) * self.season_days * 86400 / window_s

    def consider_fix(self, step: int, window_s: float, last_period: int, react: bool) -> bool:
        """At a review (step 2 of the class docstring), looking at the settled periods up to ``last_period``.
        Returns whether the owner fixed its installation."""
        if not (react and self.responsive and self.state != WELL_TUNED):
            return False
        gain = self.expected_gain_eur_per_year(window_s, last_period)
        p = self.p_max * gain / (gain + self.g_half)
        fixed = bool(self._rng.random() < p)
        self.decisions.append({"consumer": self.name, "step": step, "state": self.state_name,
                               "expected_gain_eur_per_year": gain, "probability": p, "fixed": fixed})
        if fixed:
            self.state, self.fixed_at_step = WELL_TUNED, step
        return fixed
