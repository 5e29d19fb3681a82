"""What a capability receives from the twin: a small, typed, read-only view of the run (no access to the Twin).

Sim time is seconds from ``run.start``; periods are settlement periods counted from 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from contracts.chain import BaseChain
from sim.bank import Bank
from sim.inputs import Inputs
from sim.measurement.layer import MeasurementLayer
from sim.phase_timer import PhaseTimer

if TYPE_CHECKING:
    from sim.scenario import Scenario


@dataclass(frozen=True)
class Clock:
    """The run's clock: steps of ``step_s`` [s], settlement periods of ``settlement_s`` [s]; ``now_s()`` is the
    simulated time [s] since ``run.start``."""

    step_s: int
    settlement_s: int
    n_steps: int
    n_periods: int
    now_s: Callable[[], float]

    @property
    def steps_per_period(self) -> int:
        return self.settlement_s // self.step_s

    def period_of_step(self, k: int) -> int:
        return k // self.steps_per_period


@dataclass(frozen=True)
class Community:
    """The prosumers of the feeder, read-only: ids in order, their population groups, accounts (id -> address),
    meters (in id order), each one's household index on the feeder, and the feeder's household count."""

    ids: list[str]
    groups: list[tuple[str, Any]]
    accounts: dict[str, str]
    meters: list
    household_of: np.ndarray | None
    n_households: int


@dataclass(frozen=True)
class CapabilityContext:
    """What a capability may use. ``model`` is the Mesa model its agents join (agents read the clock from it);
    ``rngs`` are the capability's own seeded streams (those it registered); ``timed(concern)`` times a phase;
    ``hil`` is the HIL bridge or None; ``feeder_results`` the power-flow recorder, read after the run."""

    scenario: Scenario
    clock: Clock
    inputs: Inputs
    chain: BaseChain
    bank: Bank
    community: Community
    measurement: MeasurementLayer
    rngs: dict[str, np.random.Generator]
    timed: Callable[[str], PhaseTimer]
    model: mesa.Model
    hil: Any = None
    feeder_results: Any = None
    price_signals: Callable[[str], Any] | None = None  # appliance -> the first capability's price signal, or None

    def price_signal(self, appliance: str):
        """The retail import price the customers answer with ``appliance`` (``Capability.price_signal``), or None;
        ask it once the clock runs (every capability is built by then)."""
        return self.price_signals(appliance) if self.price_signals is not None else None

    @property
    def t0_s(self) -> int:
        """Unix time of ``run.start`` [s]."""
        return self.inputs.t0_s

    def set_chain_time(self) -> None:
        """Set the chain's clock to the simulated time now."""
        self.chain.set_time(self.inputs.t0_s + int(self.clock.now_s()))
