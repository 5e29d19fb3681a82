"""Scenario files: TOML parsed into frozen, validated objects.

The kernel's sections (run, site, weather, feeder, population, meters, chain, realtime, HIL) are here; each
capability's sections come from its package, through the registry (``sim.registry.REGISTRY``), and are
optional: a scenario enables a capability by giving its first section. Units are in the field names (see
README, "Units"). Sim time is seconds from ``run.start``. Building blocks and error formatting are in
``sim.schema``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError, create_model, model_validator

from grid_models.network_source import file_sha256, network_kind
from sim.capabilities.base import load
from sim.files.provenance import digest_files
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

__all__ = ["FEEDERS", "FEEDER_HOUSEHOLDS", "TRANSFORMERS", "Scenario", "ScenarioError", "load_scenario",
           "network_provenance", "read_toml", "validate_scenario"]


# keys added after scenarios were written (kernel or capability; dotted below the section), with their defaults: at the
# default a key is left out of the digest, so that the run ids of existing scenarios stay as they were
LATER_KEYS: dict[str, dict[str, Any]] = {"dsr": {"openadr": None},
                                         "feeder": {"loads": "bdew", "prosumer_loads": None},
                                         "hil": {"require_devices": True},
                                         "heat": {"network.solver": "fast"},
                                         "certificates": {"settlement": "bulk"},
                                         "weather": {"file": None, "format": None, "coerce_year": None,
                                                     "stamp": "start"}}


def _equator_facing_as_given(data: Any, lat: float | None = None) -> None:
    """In a dumped scenario, in place: every PV azimuth left to its default (None: facing the equator) written as
    the azimuth it means, so that a scenario written when the default was 180 keeps its digest."""
    from sim.sections import equator_facing_azimuth_deg

    if isinstance(data, dict):
        lat = data.get("lat", lat) if isinstance(data.get("lat"), float | int) else lat
        if lat is None and isinstance(data.get("site"), dict):
            lat = data["site"].get("lat")
        for key in ("azimuth_deg", "pv_azimuth_deg"):
            if key in data and data[key] is None and lat is not None:
                data[key] = equator_facing_azimuth_deg(lat)
        for value in data.values():
            _equator_facing_as_given(value, lat)
    elif isinstance(data, list):
        for value in data:
            _equator_facing_as_given(value, lat)


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
        if self.feeder:
            self._check_feeder_population()
        if self.weather.file is not None:
            self._check_weather_file()
        for info in REGISTRY:
            if info.check is not None and info.enabled(self):
                load(info.check)(self)
        return self

    def _check_feeder_population(self) -> None:
        feeder, n = self.feeder, len(self.prosumer_ids())
        room = feeder.households()
        if n > room:
            raise ValueError(f"population: {n} prosumers do not fit on feeder {feeder.network!r}, which has {room} "
                             "households")
        if feeder.prosumer_loads is not None and len(feeder.prosumer_loads) != n:
            raise ValueError(f"feeder.prosumer_loads: {len(feeder.prosumer_loads)} loads named for {n} prosumers: "
                             "one load per prosumer, in the order of [[population]]")
        for i, g in enumerate(self.population):
            if feeder.loads == "bdew" and g.annual_load_kwh is None and g.load_file is None:
                raise ValueError(f"population[{i}].annual_load_kwh: missing: required with [feeder] loads = 'bdew' "
                                 "(unless a load_file gives the measured load)")
            if feeder.loads == "network" and g.annual_load_kwh is not None and g.load_scale != "annual":
                raise ValueError(f"population[{i}].annual_load_kwh: with [feeder] loads = 'network' a prosumer's "
                                 "demand is its load's own profile from the network; leave annual_load_kwh out")
        self._check_profile_files()

    def _check_profile_files(self) -> None:
        """Read every group's load and PV file as the run will (``sim.inputs``): a file that validates runs."""
        from sim.files.profiles import profiles_kw
        from sim.inputs import run_times

        times = None
        for i, g in enumerate(self.population):
            ids = [f"{g.name}-{j:02d}" for j in range(1, g.count + 1)]
            for key, what, scale, per, at_most in (
                    ("load_file", "household load", g.load_scale, g.annual_load_kwh, None),
                    ("pv_file", "PV output", g.pv_scale, g.pv_kwp,
                     1.0 if g.pv_scale == "per_kwp" else g.pv_kwp)):
                if getattr(g, key) is None:
                    continue
                times = run_times(self.run, self.site) if times is None else times
                try:
                    profiles_kw(getattr(g, key), ids, what=what, times=times, step_s=self.run.step_s,
                                tz=self.site.tz, scale=scale, per=per, at_most=at_most)
                except ScenarioError as exc:
                    raise ValueError(f"population[{i}].{key}: {exc}") from None

    def _check_weather_file(self) -> None:
        from sim.files.weather import check
        from sim.inputs import run_times

        try:
            check(self.weather, self.site, run_times(self.run, self.site), self.run.step_s)
        except ScenarioError as exc:
            raise ValueError(f"weather.file: {exc}") from None

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
        out, and so are ``LATER_KEYS`` at their defaults: adding a capability or a kernel key to gridledger changes no
        existing scenario's digest; a network file enters by its sha256, not its path)."""
        data = self.model_dump(mode="json")
        for section, defaults in LATER_KEYS.items():
            for dotted, default in defaults.items():
                *path, key = dotted.split(".")
                node = data.get(section)
                for part in path:
                    node = node.get(part) if isinstance(node, dict) else None
                if isinstance(node, dict) and node.get(key, default) == default:
                    node.pop(key, None)
        digest_files(data)  # load, PV, heat, price files by their content, and left out when not given
        _equator_facing_as_given(data)
        if self.feeder is not None and network_kind(self.feeder.network) == "file":
            # the file's content, not where it lies: the same grid gives the same id in any folder
            data["feeder"]["network"] = f"sha256:{file_sha256(self.feeder.network)}"
        if self.weather.file is not None:  # likewise the weather file's content
            from sim.files.weather import weather_path

            data["weather"]["file"] = f"sha256:{file_sha256(weather_path(self.weather.file))}"
        for info in REGISTRY:
            for section in info.sections:
                if data.get(section) is None:
                    data.pop(section, None)
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()

    def with_overrides(self, overrides: dict[str, Any] | None = None, *, source: str = "<overrides>") -> Scenario:
        """A new scenario with dotted-key overrides applied (``{"run.seed": 3, "prices.energy_eur_per_kwh": .2}``)."""
        data = self.model_dump(mode="python")
        if "weather.file" in (overrides or {}):  # a file replaces the [weather] section (format etc. by overrides)
            data["weather"] = {}
        for key, value in (overrides or {}).items():
            node = data
            parts = key.split(".")
            try:
                for part in parts[:-1]:
                    node = node[_list_index(part)] if isinstance(node, list) else node.setdefault(part, {})
                last = parts[-1]
                if isinstance(node, list):
                    node[_list_index(last)] = value
                else:
                    node[last] = value
            except (ValueError, IndexError, TypeError, AttributeError):
                shown = key if len(key) <= 80 else key[:80] + "…"
                raise ScenarioError(f"{source}: {shown!r}: no such key in the scenario (a dotted key, list items by "
                                    "their index from 0, e.g. population.0.count)") from None
        return validate_scenario(data, source=source)


def _list_index(part: str) -> int:
    """A list item's index in a dotted key: ASCII digits only (``-1``, ``+1``, ``1_0``, `` 1`` are refused, not
    read as Python would: ``-1`` would change the last item)."""
    if not (part.isascii() and part.isdigit()):
        raise ValueError(part)
    return int(part)


Scenario = create_model(
    "Scenario", __base__=KernelScenario, __module__=__name__,
    **{section: (model | None, None) for info in REGISTRY for section, model in info.models().items()},
)
Scenario.__doc__ = "A whole scenario: the kernel's sections and every registered capability's (optional) sections."


def network_provenance(scenario: Scenario) -> dict[str, Any] | None:
    """Where a SimBench or file feeder network came from (a file by its sha256, a SimBench grid by its code and the
    simbench release) and what of it the twin left out; None for a Kerber feeder or no feeder."""
    kind = network_kind(scenario.feeder.network) if scenario.feeder else None
    if kind is None:
        return None
    from grid_models.feeder import network_data

    network = scenario.feeder.network
    data = network_data(network)
    source = ({"file": network, "sha256": file_sha256(network)} if kind == "file" else
              {"simbench_code": network.split(":", 1)[1], "simbench": importlib.metadata.version("simbench")})
    return {**source, "households": data.households, "left_out": data.left_out, "loads": scenario.feeder.loads}


def validate_scenario(data: dict[str, Any], *, source: str = "<scenario>", base_dir: Path | None = None) -> Scenario:
    """Validate a parsed scenario mapping; raise ScenarioError naming ``source`` and each bad field. A relative
    network file is found from ``base_dir`` (the scenario file's folder; default the working directory)."""
    try:
        return Scenario.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise ScenarioError(format_errors(source, exc)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file (a ``devices_file`` it names is read in, see sim/hil/table.py; a
    network file it names is found relative to it)."""
    path = Path(path)
    return validate_scenario(inline_devices_file(read_toml(path), path), source=str(path), base_dir=path.parent)
