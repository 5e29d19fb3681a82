"""Scenario files: TOML parsed into frozen, validated objects.

The kernel's sections (run, site, weather, feeder, population, meters, chain, realtime, HIL) are here; each
capability's sections come from its package, through the registry (``sim.registry.REGISTRY``), and are
optional: a scenario enables a capability by giving its first section. Units are in the field names (see
README, "Units"). Sim time is seconds from ``run.start``. Building blocks and error formatting are in
``sim.schema``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError, create_model, model_validator

from sim.hil.table import DeviceSpec, check_run_devices, inline_devices_file
from sim.registry import REGISTRY
from sim.schema import ScenarioError, _Frozen, format_errors, read_toml
from sim.sections import (
    FEEDER_HOUSEHOLDS,
    FEEDERS,
    TRANSFORMERS,
    ChainSpec,
    FeederSpec,
    HilSpec,
    MeterSpec,
    PopulationGroup,
    RealtimeSpec,
    RunSpec,
    SiteSpec,
    WeatherSpec,
    local_start_problem,
)

__all__ = ["FEEDERS", "FEEDER_HOUSEHOLDS", "TRANSFORMERS", "Scenario", "ScenarioError", "load_scenario", "read_toml",
           "validate_scenario"]


class KernelScenario(_Frozen):
    """The kernel's sections; ``Scenario`` adds every registered capability's sections to these."""

    run: RunSpec
    site: SiteSpec
    weather: WeatherSpec = WeatherSpec()
    feeder: FeederSpec | None = None
    population: list[PopulationGroup] = []
    meters: MeterSpec = MeterSpec()
    chain: ChainSpec = ChainSpec()
    realtime: RealtimeSpec | None = None
    hil: HilSpec = HilSpec()
    devices: list[DeviceSpec] = []

    @model_validator(mode="after")
    def _cross(self) -> KernelScenario:
        claimed = tuple(p for info in REGISTRY if info.enabled(self) for p in info.device_prefixes)
        check_run_devices(self.devices, prosumer_ids=self.prosumer_ids(), settlement_s=self.run.settlement_s,
                          allow_remote_hosts=self.hil.allow_remote_hosts, realtime=self.realtime is not None,
                          claimed_prefixes=claimed)
        problem = local_start_problem(self.run.start, self.site.tz)
        if problem:
            raise ValueError(f"run.start: {problem}")
        names = [g.name for g in self.population]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be unique, got {names}")
        if self.population and self.feeder is None:
            raise ValueError("feeder: missing: [[population]] needs a [feeder] to connect to")
        room = FEEDER_HOUSEHOLDS[self.feeder.network] if self.feeder else 0
        if self.feeder and len(self.prosumer_ids()) > room:
            raise ValueError(f"population: {len(self.prosumer_ids())} prosumers do not fit on feeder "
                             f"{self.feeder.network!r}, which has {room} households")
        for info in REGISTRY:
            if info.check is not None and info.enabled(self):
                info.check(self)
        return self

    def prosumer_ids(self) -> list[str]:
        """Prosumer ids in a fixed order: group by group, ``{name}-{i:02d}`` from 1."""
        return [f"{g.name}-{i:02d}" for g in self.population for i in range(1, g.count + 1)]

    @property
    def n_steps(self) -> int:
        return self.run.duration_s // self.run.step_s

    @property
    def n_periods(self) -> int:
        return self.run.duration_s // self.run.settlement_s

    def digest(self) -> str:
        """sha256 of the canonical JSON of the validated scenario (keys sorted, absent capability sections left
        out: adding a capability to gridledger changes no existing scenario's digest)."""
        data = self.model_dump(mode="json")
        for info in REGISTRY:
            for section in info.sections:
                if data.get(section) is None:
                    data.pop(section, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any] | None = None, *, source: str = "<overrides>") -> Scenario:
        """A new scenario with dotted-key overrides applied (``{"run.seed": 3, "prices.energy_eur_per_kwh": .2}``)."""
        data = self.model_dump(mode="python")
        for key, value in (overrides or {}).items():
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
            last = parts[-1]
            if isinstance(node, list):
                node[int(last)] = value
            else:
                node[last] = value
        return validate_scenario(data, source=source)


Scenario = create_model(
    "Scenario", __base__=KernelScenario, __module__=__name__,
    **{section: (model | None, None) for info in REGISTRY for section, model in info.sections.items()},
)
Scenario.__doc__ = "A whole scenario: the kernel's sections and every registered capability's (optional) sections."


def validate_scenario(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario mapping; raise ScenarioError naming ``source`` and each bad field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(format_errors(source, exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file (a ``devices_file`` it names is read in, see sim/hil/table.py)."""
    path = Path(path)
    return validate_scenario(inline_devices_file(read_toml(path), path), source=str(path))
