"""What a capability is: hooks on the twin's clock (``Capability``) and what it registers (``CapabilityInfo``).

Per step the Twin calls, for every enabled capability in registry order: ``decide(k)`` (agents act), then the
capabilities' ``extra_load_kw(k)`` (per household on the feeder) is added to the base demand, the injections go
into the feeder in one vectorised assignment and one power flow runs, then ``solve(k)`` (a capability's own
physics, e.g. the heat network's pipe flow), then ``measure(k, flow)`` (its meters integrate the step; the
measurement layer closes, fault-injects and validates every meter at period ends). When a settlement period
closes: ``period_closed(period)``; one second later ``settle(validated, through_period)`` with the VEE-validated
readings of every meter (by meter id); at the end: ``finish()``, then ``close()`` (also when the run fails).
``summary(ledger)`` returns the capability's KPIs and ``timeseries()`` its tidy rows. A relay or set-point of the
HIL bridge bound to an entity a capability owns follows ``command_source(entity)``. A capability sees the run
through its ``CapabilityContext`` only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.context import CapabilityContext
    from sim.scenario import Scenario


def load(ref: str) -> Any:
    """The object a ``"package.module:name"`` reference names (imported when first needed)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class CapabilityInfo:
    """What a capability adds to gridledger, declared in its package's ``__init__``; the registry
    (``sim.registry.REGISTRY``) lists these. References ``"module:name"`` are imported when first used.

    - ``sections``: its scenario sections, name -> ``"module:Model"`` of its pydantic model (each optional; the
      first enables it; ``models()`` imports them), so that reading the registry imports no capability's code
      (``gridledger --help`` stays fast);
    - ``capability``: its ``Capability`` class; ``contracts``: the contracts it deploys (for the manifest);
    - ``rng_streams``: its seeded streams, name -> index among the run seed's children (fixed forever, so that
      adding a capability changes no other stream);
    - ``check``: ``f(scenario)``, cross-section checks, raising ValueError; ``describe``: ``f(scenario)``, a phrase
      for ``gridledger validate``; ``run_line``: ``f(summary, name)``, its closing line after ``gridledger run``
      (every capability has one);
    - ``plots``: ``f(timeseries, ledger, plots_dir) -> [paths]``, drawn from a results folder alone;
    - ``report``: ``f(summary) -> sim.results.headline.Section``: its headline figures in words for the run
      report (``summary``: its own part of summary.json);
    - ``commands``: ``f(subparsers)`` adding its CLI subcommands; ``sweep_kpis``: headline KPIs of sweeps;
    - ``device_prefixes``: HIL entities (``outlet/...``) whose relays or set-points it drives.
    """

    name: str
    sections: dict[str, str]
    capability: str
    contracts: tuple[str, ...] = ()
    rng_streams: dict[str, int] = field(default_factory=dict)
    check: str | None = None
    describe: str | None = None
    run_line: str | None = None
    plots: str | None = None
    report: str | None = None
    commands: str | None = None
    sweep_kpis: tuple[str, ...] = ()
    device_prefixes: tuple[str, ...] = ()

    def models(self) -> dict[str, type]:
        """Its sections' pydantic models (imported now)."""
        return {section: load(ref) for section, ref in self.sections.items()}

    @property
    def section(self) -> str:
        """The section whose presence enables the capability."""
        return next(iter(self.sections))

    def enabled(self, scenario: Scenario) -> bool:
        return getattr(scenario, self.section) is not None


class Capability:
    """Base class with no-op hooks."""

    name = "capability"

    def __init__(self, ctx: CapabilityContext):
        self.ctx = ctx

    def decide(self, k: int) -> None: ...

    def extra_load_kw(self, k: int):
        """Demand this capability adds at each household of the feeder this step [kW], or None."""
        return None

    def solve(self, k: int) -> None: ...

    def measure(self, k: int, flow) -> None: ...

    def period_closed(self, period: int) -> None: ...

    def settle(self, validated: dict, through_period: int) -> None: ...

    def finish(self) -> None: ...

    def close(self) -> None:
        """Release what the capability holds outside the run (threads, servers, sockets): called once the run
        ends, after ``finish``, and also when the run fails."""

    def summary(self, ledger) -> dict:
        return {}

    def declarations(self, prosumer_id: str):
        """The energy this capability has declared for the prosumer per period (its battery follows it), with
        ``.get(period) -> Wh``-like access, or None (see ``agents.prosumer``)."""
        return None

    def price_signal(self, appliance: str):
        """The retail import price customers answer with ``appliance`` (``"deferrables"``: their micro-DSR
        deferrable appliances), an ``agents.price_signal.PriceSignal``, if this capability sets one and its customers
        respond with that appliance; else None (``CapabilityContext.price_signal`` asks every capability)."""
        return None

    def command_source(self, entity: str):
        """For a HIL relay or set-point bound to ``entity``: a callable ``f(t_s) -> value | None`` giving the
        command at simulated time ``t_s`` (a relay is on when it is truthy; None keeps the last command), if
        this capability owns ``entity``; else None. See ``sim.hil.actuator``."""
        return None

    def tables(self) -> dict:
        """Tables this capability adds to the results folder, file name -> DataFrame (``bills.parquet``); called
        after ``summary``."""
        return {}

    def timeseries(self):
        """Tidy rows (time UTC, entity, quantity, value, unit) this capability adds, or None: a DataFrame, or a
        list of ``sim.results.tables.Series`` (arrays at the capability's own times, written to
        ``timeseries.parquet`` a row group at a time without ever making a frame: the way for long runs)."""
        return None


def log_posted(signed: list, rows: list[dict], refused: list, log: list[dict], contract: str) -> None:
    """Mark each readings-log row accepted, or refused with the contract's reason (``refused``: the wrapper's
    ``Refused`` items, matched by meter and period), with its signature (posted to ``contract``, an address),
    and append the rows to ``log``."""
    from sim.measurement.readings_log import signature_columns

    reasons = {(r.reading.meter, r.reading.period): r.reason for r in refused}
    for s, row in zip(signed, rows):
        reason = reasons.get((s.meter, s.period), "")
        row["status"], row["reason"] = ("refused" if reason else "accepted"), reason
        row.update(signature_columns(s, contract))
    log.extend(rows)


def settle_each(periods: range, settle, unsettled: dict[int, str]) -> None:
    """Call ``settle(period)`` for each period; a revert leaves the period unsettled with its reason."""
    from contracts.chain import ChainRevert

    for period in periods:
        try:
            settle(period)
        except ChainRevert as exc:
            unsettled[period] = exc.reason
