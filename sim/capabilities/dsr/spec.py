"""Scenario schema of capability 4, micro demand-side management (smart outlets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from sim.schema import _Frozen

if TYPE_CHECKING:
    from sim.hil.table import DeviceSpec
    from sim.scenario import Scenario

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


class OpenAdrSpec(_Frozen):
    """``[dsr.openadr]``: the grid operator publishes its DR events through an OpenADR 2.0b VTN and the outlets act
    through a VEN (openleadr; ``docs/openadr.md``). ``vtn = "in_process"``: openleadr's VTN on 127.0.0.1 (an
    ephemeral port), plain HTTP, unsigned messages: for tests and demos. ``ven_name``: the name the VEN registers
    with. ``timeout_s``: wall seconds to wait for one exchange (an event's opt, a report) before the run fails;
    ``poll_s``: how often the VEN polls the VTN besides the polls the twin asks for [wall s]. The simulated clock
    waits for each exchange, so the run settles exactly as without ``[dsr.openadr]``."""

    vtn: Literal["in_process"] = "in_process"
    ven_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = "gridledger-outlets"
    timeout_s: Annotated[float, Field(gt=0, le=300)] = 30.0
    poll_s: Annotated[float, Field(gt=0, le=3600)] = 10.0


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
    openadr: OpenAdrSpec | None = None

    @model_validator(mode="after")
    def _unique(self) -> DsrSpec:
        kinds = [o.appliance for o in self.outlets]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"outlets: one group per appliance kind, got {kinds}")
        return self


def check(scenario: Scenario) -> None:
    """Cross-section checks of ``[dsr]``, and of the relays bound to its outlets (raises ValueError)."""
    if not scenario.population:
        raise ValueError("population: missing: [dsr] needs [[population]] households on the feeder")
    if scenario.run.step_s != 60:
        raise ValueError(f"run.step_s: [dsr] outlets act by the minute, so step_s must be 60, "
                         f"got {scenario.run.step_s}")
    appliances, ids = [o.appliance for o in scenario.dsr.outlets], scenario.prosumer_ids()
    for d in scenario.devices:
        if d.entity.startswith("outlet/"):
            _check_outlet_relay(d, f"devices: {d.name!r}", ids, scenario.run.step_s, appliances)


def _check_outlet_relay(d: DeviceSpec, where: str, prosumer_ids: list[str], step_s: int | None,
                        dsr_appliances: list[str] | None) -> None:
    """A relay switching a smart outlet: ``outlet/<prosumer id>/<appliance>``, driven by ``[dsr]``."""
    parts = d.entity.split("/")
    if d.kind != "relay":
        raise ValueError(f"{where}: entity {d.entity!r} is a smart outlet, switched on and off: kind must be "
                         f"'relay', got {d.kind!r}")
    if len(parts) != 3 or parts[1] not in prosumer_ids or parts[2] not in dsr_appliances:
        raise ValueError(f"{where}: entity {d.entity!r}: expected 'outlet/<prosumer id>/<appliance>' with a "
                         f"prosumer id (e.g. {prosumer_ids[:3]}) and an appliance of [[dsr.outlets]] "
                         f"({dsr_appliances})")
    if step_s is not None and step_s % d.poll_s:
        raise ValueError(f"{where}: poll_s ({d.poll_s:g}) must divide run.step_s ({step_s}): a delay minute is "
                         "claimed only when the polls in that minute read the relay back off")
