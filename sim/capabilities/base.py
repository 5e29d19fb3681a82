"""Capabilities plug into the Twin's clock through a few hooks; each owns its actors, meters and contract.

Per step the Twin calls, for every enabled capability in order: ``decide(k)`` (agents act), then the
capabilities' ``extra_load_kw(k)`` (per household on the feeder) is added to the base demand, the injections go
into the feeder in one vectorised assignment and one power flow runs, then ``solve(k)`` (a capability's own
physics, e.g. the heat network's pipe flow), then ``measure(k, flow)``. A capability that runs its own VEE says
how many periods it holds back in ``vee_lag_periods``; settlement waits for the largest lag. When a settlement
period closes: ``period_closed(period)``; one second later:
``settle(validated, through_period)`` with the VEE-validated readings of every meter; at the end: ``finish()``.
``summary(ledger)`` returns the capability's KPIs and ``timeseries()`` its tidy rows. A relay or set-point
of the HIL bridge bound to an entity a capability owns follows ``command_source(entity)``. Plots are drawn from the
results folder alone by the functions listed in ``sim.results.report.PLOTTERS``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contracts.chain import ChainRevert

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

    def extra_load_kw(self, k: int):
        """Demand this capability adds at each household of the feeder this step [kW], or None."""
        return None

    def solve(self, k: int) -> None: ...

    def measure(self, k: int, flow) -> None: ...

    def period_closed(self, period: int) -> None: ...

    def settle(self, validated: dict, through_period: int) -> None: ...

    def finish(self) -> None: ...

    def summary(self, ledger) -> dict:
        return {}

    def command_source(self, entity: str):
        """For a HIL relay or set-point bound to ``entity``: a callable ``f(t_s) -> value | None`` giving the
        command at simulated time ``t_s`` (a relay is on when it is truthy; None keeps the last command), if
        this capability owns ``entity``; else None. See ``sim.hil.actuator``."""
        return None

    def timeseries(self):
        """Tidy rows (time UTC, entity, quantity, value, unit) this capability adds, or None."""
        return None


def log_posted(signed: list, rows: list[dict], refused: list, log: list[dict]) -> None:
    """Mark each readings-log row accepted, or refused with the contract's reason (``refused``: the wrapper's
    ``Refused`` items, matched by meter and period), and append the rows to ``log``."""
    reasons = {(r.reading.meter, r.reading.period): r.reason for r in refused}
    for s, row in zip(signed, rows):
        reason = reasons.get((s.meter, s.period), "")
        row["status"], row["reason"] = ("refused" if reason else "accepted"), reason
    log.extend(rows)


def settle_each(periods: range, settle, unsettled: dict[int, str]) -> None:
    """Call ``settle(period)`` for each period; a revert leaves the period unsettled with its reason."""
    for period in periods:
        try:
            settle(period)
        except ChainRevert as exc:
            unsettled[period] = exc.reason


def enabled(scenario: Scenario) -> list[type[Capability]]:
    """The capabilities a scenario asks for, in a fixed order."""
    from sim.capabilities.certificates.capability import CertificatesCapability
    from sim.capabilities.dsr.capability import DsrCapability
    from sim.capabilities.heat.capability import HeatCapability
    from sim.capabilities.vpp.capability import VppCapability

    out: list[type[Capability]] = []
    if scenario.vpp is not None:
        out.append(VppCapability)
    if scenario.certificates is not None:
        out.append(CertificatesCapability)
    if scenario.insurance is not None:
        from sim.capabilities.insurance.capability import InsuranceCapability

        out.append(InsuranceCapability)
    if scenario.dsr is not None:
        out.append(DsrCapability)
    if scenario.heat is not None:
        out.append(HeatCapability)
    return out
