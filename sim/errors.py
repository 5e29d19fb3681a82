"""The errors the command line turns into one-line messages and exit codes (README, "Exit codes"). Kept free of
heavy imports, so that ``sim.cli`` can name them without importing pandas, pydantic or the chain."""

from __future__ import annotations


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the field and what was expected."""


class DeadlineMissed(RuntimeError):
    """A strict real-time run fell behind the wall clock by more than its slack."""


class DevicesSilent(RuntimeError):
    """A HIL run with ``[hil] require_devices = true`` in which a device never answered; names the devices."""

    def __init__(self, names: list[str], detail: str):
        super().__init__(detail)
        self.names = names


class PhysicsFailed(RuntimeError):
    """The physics found no solution for a step (the heat network's pipe flow did not converge): demands beyond
    what the network carries. Names the network and the step. (The feeder's power flow never raises it: where it
    has no solution, the feeder's protection trips for that step, ``grid_models.feeder.TRIPPED``.)"""


class PortInUse(OSError):
    """The device simulator cannot listen: the port is taken by another process."""
