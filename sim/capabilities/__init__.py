"""Capabilities plug into the Twin's clock through a few hooks; each owns its actors, meters and contract.

Per step the Twin calls, for every enabled capability in order: ``decide(k)`` (agents act), then the feeder's
power flow runs, then ``solve(k)`` (a capability's own physics, e.g. the heat network's pipe flow), then
``measure(k, flow)``. A capability that runs its own VEE says how many periods it holds back in
``vee_lag_periods``; settlement waits for the largest lag. When a settlement period closes: ``period_closed(period)``; one second later:
``settle(validated, through_period)`` with the VEE-validated readings of every meter; at the end: ``finish()``.
``summary(ledger)`` returns the capability's KPIs and ``timeseries()`` its tidy rows. Plots are drawn from the
results folder alone by the functions listed in ``sim.report.PLOTTERS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario import Scenario


class Capability:
    """Base class with no-op hooks."""

    name = "capability"
    contracts: tuple[str, ...] = ()
    vee_lag_periods = 0

    def __init__(self, twin):
        self.twin = twin

    def decide(self, k: int) -> None: ...

    def solve(self, k: int) -> None: ...

    def measure(self, k: int, flow) -> None: ...

    def period_closed(self, period: int) -> None: ...

    def settle(self, validated: dict, through_period: int) -> None: ...

    def finish(self) -> None: ...

    def summary(self, ledger) -> dict:
        return {}

    def timeseries(self):
        """Tidy rows (time UTC, entity, quantity, value, unit) this capability adds, or None."""
        return None


def enabled(scenario: Scenario) -> list[type[Capability]]:
    """The capabilities a scenario asks for, in a fixed order."""
    from sim.capabilities.heat import HeatCapability
    from sim.capabilities.vpp import VppCapability

    out: list[type[Capability]] = []
    if scenario.vpp is not None:
        out.append(VppCapability)
    if scenario.heat is not None:
        out.append(HeatCapability)
    return out
