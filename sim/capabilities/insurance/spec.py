"""Scenario schema of capability 5, mutual insurance of generation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import _Frozen
from sim.sites.spec import GeneratorSite


class InsuredSite(GeneratorSite):
    """A generation site in the mutual: ``units`` identical units (inverters, turbines) fail and are repaired
    independently (``mtbf_h``, ``mttr_h`` per unit), so one unit down is a partial outage."""

    units: Annotated[int, Field(gt=0, le=100)] = 1


class InsuranceSpec(_Frozen):
    """Mutual insurance of generation. Premiums = expected claimable loss / ``target_loss_ratio`` (the formula
    is in agents/insurer.py), so the loss ratio (payouts / premiums) the pool aims for is ``target_loss_ratio``;
    the solvency loading is 1 / target - 1 (0.8 -> 25 %). Parametric variant: ``threshold_percent`` +
    ``trigger_percent`` <= 100, so that the claim threshold never refuses a ratio the index pays."""

    variant: Literal["indemnity", "parametric"] = "indemnity"
    producers: Annotated[list[InsuredSite], Field(min_length=1)]
    price_eur_per_kwh: Annotated[float, Field(gt=0, le=1000)] = 0.08  # MutualInsurance: at most 1 000 EUR/kWh
    threshold_percent: Annotated[float, Field(ge=0, lt=100)] = 20.0
    target_loss_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    sum_insured_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    trigger_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    exit_percent: Annotated[float, Field(ge=0, lt=100)] = 30.0

    @model_validator(mode="after")
    def _checks(self) -> InsuranceSpec:
        names = [p.name for p in self.producers]
        if len(set(names)) != len(names):
            raise ValueError(f"producers: names must be unique, got {names}")
        if self.exit_percent >= self.trigger_percent:
            raise ValueError(f"exit_percent ({self.exit_percent:g}) must be below trigger_percent "
                             f"({self.trigger_percent:g})")
        # a claim opens below (1 - threshold) of expected, the index pays below the trigger: a threshold above
        # 1 - trigger would refuse ratios the index pays (in bps, as the contract compares them)
        if self.variant == "parametric" and round(self.threshold_percent * 100) + round(self.trigger_percent * 100) \
                > 10_000:
            raise ValueError(f"threshold_percent ({self.threshold_percent:g}) + trigger_percent "
                             f"({self.trigger_percent:g}) must be at most 100 for the parametric variant: a claim "
                             f"opens only below {100 - self.threshold_percent:g} % of expected production, so "
                             f"ratios from there up to the trigger would be refused though the index pays them")
        return self
