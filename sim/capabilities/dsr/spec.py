"""Scenario schema of capability 4, micro demand-side management (smart outlets)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import _Frozen

APPLIANCES = ("refrigerator", "freezer", "water_heater", "washing_machine", "dishwasher", "ev_charger")


class OutletGroup(_Frozen):
    """Smart outlets switching one kind of appliance, in a share of the households, with the customer's limits.

    ``share``: fraction of the households that have one (drawn with the run's seed). Limits, checked by the
    outlet and again by the contract: ``max_delay_per_event_min``, ``max_delay_per_day_min``, and
    ``no_delay_hours``, local hours ``[from, to)`` in which no delay may fall (whole hours, 0-24). Deferrable
    appliances must finish at most ``deadline_h`` hours after they would have without DSR (EV chargers: by
    ``[dsr] ev_departure_h`` the next morning).
    """

    appliance: Literal[APPLIANCES]  # type: ignore[valid-type]
    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    max_delay_per_event_min: Annotated[int, Field(gt=0, le=1440)]
    max_delay_per_day_min: Annotated[int, Field(gt=0, le=1440)]
    no_delay_hours: list[Annotated[list[Annotated[int, Field(ge=0, le=24)]], Field(min_length=2, max_length=2)]] = []
    deadline_h: Annotated[float, Field(ge=0, le=24)] = 3.0

    @model_validator(mode="after")
    def _hours(self) -> OutletGroup:
        for a, b in self.no_delay_hours:
            if a >= b:
                raise ValueError(f"no_delay_hours: each window is [from, to) with from < to, got [{a}, {b}]")
        if self.max_delay_per_event_min > self.max_delay_per_day_min:
            raise ValueError("max_delay_per_event_min must not exceed max_delay_per_day_min")
        return self


class DsrSpec(_Frozen):
    """Micro demand-side management: the grid operator issues a DR event when the power flow shows the
    transformer or a line loaded above its threshold or a voltage below its limit; outlets respond within
    their customers' limits. ``respond = false`` keeps everything else (same seed) but outlets ignore events:
    the comparison run."""

    respond: bool = True
    threshold_trafo_percent: Annotated[float, Field(gt=0, le=200)] = 90.0
    threshold_line_percent: Annotated[float, Field(gt=0, le=200)] = 100.0
    threshold_vm_min_pu: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.92
    event_duration_min: Annotated[int, Field(gt=0, le=1440)] = 60
    margin_percent: Annotated[float, Field(ge=0, le=100)] = 10.0
    tokens_per_kwh: Annotated[int, Field(gt=0, le=10**9)] = 10
    ev_charger_kw: Annotated[float, Field(gt=0, le=50)] = 11.0
    ev_departure_h: Annotated[int, Field(ge=0, lt=24)] = 7
    outlets: list[OutletGroup] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> DsrSpec:
        kinds = [o.appliance for o in self.outlets]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"outlets: one group per appliance kind, got {kinds}")
        return self
