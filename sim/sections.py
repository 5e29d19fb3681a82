"""The kernel's scenario sections: run, site, weather, feeder, population, meters, chain, realtime, HIL.

Units are in the field names (see README, "Units"). Sim time is seconds from ``run.start``. ``sim.scenario``
composes these with every registered capability's sections.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from grid_models.network_source import SIMBENCH_PREFIX
from sim.schema import NonNeg, Pos, _Frozen

FEEDER_HOUSEHOLDS = {"kerber_landnetz_kabel_1": 8, "kerber_landnetz_kabel_2": 14, "kerber_dorfnetz": 57,
                     "kerber_vorstadtnetz_kabel_1": 146, "kerber_vorstadtnetz_district_7": 1022}
FEEDERS = tuple(FEEDER_HOUSEHOLDS)
TRANSFORMERS = ("0.1 MVA 10/0.4 kV", "0.16 MVA 10/0.4 kV", "0.25 MVA 10/0.4 kV", "0.4 MVA 10/0.4 kV",
                "0.63 MVA 10/0.4 kV")  # pandapower standard types that fit the Kerber feeders' 10 kV side
# (on a district, every substation's transformer is replaced)


class RunSpec(_Frozen):
    """Horizon and clock. ``start`` is local wall time at the site (naive) or an aware datetime."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    start: dt.datetime
    duration_s: Annotated[int, Field(gt=0)]
    step_s: Annotated[int, Field(gt=0)] = 900
    settlement_s: Annotated[int, Field(gt=0)] = 3600
    seed: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _periods_fit(self) -> RunSpec:
        if self.settlement_s % self.step_s:
            raise ValueError(f"settlement_s ({self.settlement_s}) must be a whole multiple of step_s ({self.step_s})")
        if self.duration_s % self.settlement_s:
            raise ValueError(
                f"duration_s ({self.duration_s}) must be a whole multiple of settlement_s ({self.settlement_s})"
            )
        return self


class SiteSpec(_Frozen):
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    tz: str
    altitude_m: Annotated[float, Field(ge=-500, le=9000)] = 0.0

    @field_validator("tz")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(v)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"an IANA time zone such as 'Europe/Berlin', got {v!r}") from exc
        return v


class WeatherSpec(_Frozen):
    """Synthetic weather: pvlib clear sky times a seeded AR(1) clear-sky index (see grid_models.weather)."""

    model: Literal["clearsky_ar1"] = "clearsky_ar1"
    mean_clear_sky_index: Annotated[float, Field(gt=0, le=1)] = 0.7
    cloud_persistence_h: Annotated[float, Field(gt=0)] = 6.0
    mean_temp_c: Annotated[float, Field(ge=-40, le=45)] = 17.0
    daily_temp_swing_c: NonNeg = 8.0
    mean_wind_speed_m_per_s: NonNeg = 4.0


class FeederSpec(_Frozen):
    """``network``: a Kerber feeder (``kerber_landnetz_kabel_1``, ``kerber_landnetz_kabel_2``, ``kerber_dorfnetz``,
    ``kerber_vorstadtnetz_kabel_1``, ``kerber_vorstadtnetz_district_7``), a SimBench grid ``"simbench:<code>"`` (e.g.
    ``"simbench:1-LV-rural1--0-sw"``, read offline from the simbench package) or a pandapower net saved with
    ``pandapower.to_json``, ``"<file>.json"`` (relative to the scenario file; a path given as an override is relative
    to the working directory); the scenario keeps it as an absolute path. A network that cannot be used is refused
    here, with the reason (see docs/your_grid.md).
    ``transformer`` replaces the feeder's own transformer by a pandapower standard type (e.g. an older
    0.16 MVA unit in place of the Dorfnetz's 0.4 MVA); default: the network's own.
    ``loads``: ``"bdew"``, every household a BDEW H0 profile with an individual seeded variation (non-members
    3500 kWh/a, prosumers their group's ``annual_load_kwh``), or ``"network"``, every household its load's own
    profile from the network (SimBench's annual 15-minute profiles; prosumers then give no ``annual_load_kwh``).
    ``prosumer_loads``: the names of the loads the prosumers sit on, one per prosumer in the order of
    ``[[population]]``; default: spread evenly over the network's load table."""

    network: str
    solver: Literal["lightsim2grid", "runpp-lightsim2grid", "pandapower"] = "lightsim2grid"
    transformer: Literal[TRANSFORMERS] | None = None  # type: ignore[valid-type]
    loads: Literal["bdew", "network"] = "bdew"
    prosumer_loads: list[str] | None = None

    @field_validator("network")
    @classmethod
    def _known_network(cls, v: str, info: ValidationInfo) -> str:
        if v in FEEDERS:
            return v
        if v.startswith(SIMBENCH_PREFIX) and len(v) > len(SIMBENCH_PREFIX):
            return v
        if v.lower().endswith(".json"):
            path = Path(v).expanduser()
            if not path.is_absolute():
                base = (info.context or {}).get("base_dir")
                path = (Path(base) if base is not None else Path.cwd()) / path
            return os.path.normpath(path.absolute())
        raise ValueError(f"one of the Kerber feeders {', '.join(FEEDERS)}; 'simbench:<code>' (e.g. "
                         f"'simbench:1-LV-rural1--0-sw'); or a pandapower JSON file '<name>.json', got {v!r}")

    @model_validator(mode="after")
    def _network_usable(self) -> FeederSpec:
        if self.network in FEEDERS and self.loads == "network":
            raise ValueError("loads: 'network' takes the load profiles a network carries (SimBench's); the Kerber "
                             "feeders carry none (use loads = 'bdew')")
        if self.network in FEEDERS and self.prosumer_loads is None:
            return self  # known, and every transformer of TRANSFORMERS fits
        from grid_models.feeder import NetworkError, build_network, network_data, transformer_problem
        from grid_models.networks import prosumer_positions

        try:
            if self.network in FEEDERS:
                net = build_network(self.network)
            else:
                data = network_data(self.network)
                if data.problems:
                    raise ValueError(f"network {self.network!r}: " + "; ".join(data.problems))
                if self.solver == "lightsim2grid" and data.direct_problem:
                    raise ValueError(f"solver: network {self.network!r}: {data.direct_problem}; solver "
                                     "'runpp-lightsim2grid' or 'pandapower' can")
                if self.loads == "network" and data.profiles is None:
                    raise ValueError(f"loads: 'network': network {self.network!r}: {data.profiles_problem}")
                net = data.net
        except NetworkError as exc:
            raise ValueError(f"network: {exc}") from None
        if self.transformer is not None and (problem := transformer_problem(net, self.transformer)):
            raise ValueError(f"transformer: {problem}")
        if self.prosumer_loads is not None:
            try:  # the names; their count is checked against the population by the scenario
                prosumer_positions(net, len(self.prosumer_loads), self.prosumer_loads)
            except NetworkError as exc:
                raise ValueError(f"prosumer_loads: {exc}") from None
        return self

    def households(self) -> int:
        """How many households (in-service loads) the network has."""
        if self.network in FEEDER_HOUSEHOLDS:
            return FEEDER_HOUSEHOLDS[self.network]
        from grid_models.feeder import network_data

        return network_data(self.network).households


class PopulationGroup(_Frozen):
    """``count`` identical prosumers named ``{name}-01`` … with PV, battery and a household load.
    ``annual_load_kwh`` is required with ``[feeder] loads = "bdew"`` and left out with ``loads = "network"`` (each
    prosumer's demand is then its load's own profile)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    count: Annotated[int, Field(gt=0, le=1000)]
    pv_kwp: NonNeg
    annual_load_kwh: Pos | None = None
    battery_kwh: NonNeg = 0.0
    battery_kw: NonNeg = 0.0
    pv_tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    pv_azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0

    @model_validator(mode="after")
    def _battery_power(self) -> PopulationGroup:
        if self.battery_kwh > 0 and self.battery_kw <= 0:
            raise ValueError("battery_kw must be > 0 when battery_kwh > 0")
        return self


class MeterSpec(_Frozen):
    """Fault injection for virtual meters (probabilities per reading), to exercise VEE."""

    drop_probability: Annotated[float, Field(ge=0, le=1)] = 0.0
    spike_probability: Annotated[float, Field(ge=0, le=1)] = 0.0


class ChainSpec(_Frozen):
    """``py-evm`` (eth-tester; the reference, real blocks and signed transactions) or ``revm`` (fast);
    ``web3`` (web3 calls over eth-tester, a block per transaction) is the slow, straightforward path that
    ``benchmarks/year_vpp.py`` compares against."""

    backend: Literal["py-evm", "revm", "web3"] = "py-evm"


class RealtimeSpec(_Frozen):
    """Pace the run on the wall clock (``simpy.rt.RealtimeEnvironment``), as hardware in the loop needs.

    ``factor``: simulated seconds per wall-clock second (1 = real time, 60 = a simulated minute per second).
    An event processed more than ``slack_s`` wall seconds after it was due is a missed deadline: counted and
    reported in the summary, and with ``strict = true`` the run stops with an error.
    """

    factor: Pos = 1.0
    strict: bool = False
    slack_s: NonNeg = 0.25


class HilSpec(_Frozen):
    """``devices_file``: a device table (relative to the scenario file) read into ``[[devices]]``;
    ``allow_remote_hosts``: let the bridge connect to devices on other machines (default: 127.0.0.1 only)."""

    devices_file: str | None = None
    allow_remote_hosts: bool = False
