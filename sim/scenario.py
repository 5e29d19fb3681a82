"""Scenario files: TOML parsed into frozen, validated objects.

pydantic (v2) is used rather than dataclasses because it gives, for free and tested by others, what a
demanding user needs from a scenario parser: strict types, rejection of unknown keys, and error locations
(``population[0].pv_kwp``) that we turn into one message naming the file, the field and what was expected.

Units are in the field names (see README, "Units"). Sim time is seconds from ``run.start``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from grid_models.loads import SLP_PROFILES
from sim.hil.table import DeviceSpec, check_run_devices, inline_devices_file

FEEDER_HOUSEHOLDS = {"kerber_landnetz_kabel_1": 8, "kerber_landnetz_kabel_2": 14, "kerber_dorfnetz": 57}
FEEDERS = tuple(FEEDER_HOUSEHOLDS)
TRANSFORMERS = ("0.1 MVA 10/0.4 kV", "0.16 MVA 10/0.4 kV", "0.25 MVA 10/0.4 kV", "0.4 MVA 10/0.4 kV",
                "0.63 MVA 10/0.4 kV")  # pandapower standard types that fit the Kerber feeders' 10 kV side
APPLIANCES = ("refrigerator", "freezer", "water_heater", "washing_machine", "dishwasher", "ev_charger")
SHARE_TOTAL_BPS = 10_000


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the field and what was expected."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


NonNeg = Annotated[float, Field(ge=0)]
Pos = Annotated[float, Field(gt=0)]


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
    """``transformer`` replaces the feeder's own transformer by a pandapower standard type (e.g. an older
    0.16 MVA unit in place of the Dorfnetz's 0.4 MVA); default: the network's own."""

    network: Literal[FEEDERS]  # type: ignore[valid-type]
    solver: Literal["lightsim2grid", "pandapower"] = "lightsim2grid"
    transformer: Literal[TRANSFORMERS] | None = None  # type: ignore[valid-type]


class PopulationGroup(_Frozen):
    """``count`` identical prosumers named ``{name}-01`` … with PV, battery and a household load."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    count: Annotated[int, Field(gt=0, le=1000)]
    pv_kwp: NonNeg
    annual_load_kwh: Pos
    battery_kwh: NonNeg = 0.0
    battery_kw: NonNeg = 0.0
    pv_tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    pv_azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0

    @model_validator(mode="after")
    def _battery_power(self) -> PopulationGroup:
        if self.battery_kwh > 0 and self.battery_kw <= 0:
            raise ValueError("battery_kw must be > 0 when battery_kwh > 0")
        return self


class VppSpec(_Frozen):
    """Members and revenue shares, fixed before the first period.

    ``members`` lists prosumer ids (default: every prosumer). ``shares_percent`` maps member id to its share
    in percent (sum 100); ``share_rule = "equal"`` splits evenly. Shares go on chain in basis points.
    """

    members: list[str] | None = None
    share_rule: Literal["equal", "explicit", "pv_kwp"] = "equal"
    shares_percent: dict[str, NonNeg] | None = None
    tolerance_percent: Annotated[float, Field(ge=0, le=100)] = 10.0
    forecast: Literal["smart_persistence", "clear_sky"] = "smart_persistence"
    forecast_derate: Annotated[float, Field(gt=0, le=2)] = 0.9

    @model_validator(mode="after")
    def _shares(self) -> VppSpec:
        if self.share_rule == "explicit":
            if not self.shares_percent:
                raise ValueError("share_rule = 'explicit' needs a shares_percent table")
            total = sum(self.shares_percent.values())
            if abs(total - 100.0) > 1e-9:
                raise ValueError(f"shares_percent must sum to 100, got {total:g}")
        elif self.shares_percent is not None:
            raise ValueError("shares_percent is only read with share_rule = 'explicit'")
        return self


class TouWindow(_Frozen):
    """A daily time-of-use window [start_h, end_h) in local hours with its price multiplier."""

    start_h: Annotated[float, Field(ge=0, le=24)]
    end_h: Annotated[float, Field(ge=0, le=24)]
    multiplier: Annotated[float, Field(gt=0)]

    @model_validator(mode="after")
    def _order(self) -> TouWindow:
        if self.end_h <= self.start_h:
            raise ValueError(f"end_h ({self.end_h:g}) must be after start_h ({self.start_h:g})")
        return self


class PriceSpec(_Frozen):
    """Energy price (base), penalty, collateral and the tariff design (see agents/tariffs.py)."""

    energy_eur_per_kwh: NonNeg
    penalty_eur_per_kwh: NonNeg
    member_collateral_eur: NonNeg = 50.0
    tariff: Literal["flat", "time_of_use", "dynamic"] = "flat"
    tou_windows: list[TouWindow] = [
        TouWindow(start_h=10, end_h=16, multiplier=0.6),
        TouWindow(start_h=17, end_h=21, multiplier=1.6),
    ]
    dynamic_low_multiplier: Annotated[float, Field(gt=0)] = 0.5
    dynamic_high_multiplier: Annotated[float, Field(gt=0)] = 1.5


class MeterSpec(_Frozen):
    """Fault injection for virtual meters (probabilities per reading), to exercise VEE."""

    drop_probability: Annotated[float, Field(ge=0, le=1)] = 0.0
    spike_probability: Annotated[float, Field(ge=0, le=1)] = 0.0


class GeneratorSite(_Frozen):
    """A production device that is issued certificates, with its location and meter.

    ``nameplate_kw``: for PV the modules' peak power (kWp, DC; inverter at kWp / 1.1); for wind the turbines'
    rated power in total, a whole multiple of the turbine type's rating. Forced outages: mean time between
    failures ``mtbf_h`` and to repair ``mttr_h``.
    """

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    technology: Literal["pv", "wind"]
    lat: Annotated[float, Field(ge=-90, le=90)]
    lon: Annotated[float, Field(ge=-180, le=180)]
    altitude_m: Annotated[float, Field(ge=-500, le=9000)] = 0.0
    nameplate_kw: Pos
    tilt_deg: Annotated[float, Field(ge=0, le=90)] = 30.0
    azimuth_deg: Annotated[float, Field(ge=0, lt=360)] = 180.0
    turbine_type: str | None = None
    hub_height_m: Annotated[float, Field(gt=10, le=250)] | None = None
    roughness_length_m: Annotated[float, Field(gt=0, lt=10)] = 0.15
    wind_profile: Literal["logarithmic", "hellman"] = "logarithmic"
    mtbf_h: Pos = 1000.0
    mttr_h: Pos = 12.0

    @model_validator(mode="after")
    def _technology_fields(self) -> GeneratorSite:
        if self.technology == "pv":
            if self.turbine_type is not None or self.hub_height_m is not None:
                raise ValueError("turbine_type and hub_height_m are for technology = 'wind' only")
            return self
        if self.turbine_type is None or self.hub_height_m is None:
            raise ValueError("technology = 'wind' needs turbine_type and hub_height_m")
        from grid_models.wind import turbine_curve

        rated_kw = turbine_curve(self.turbine_type).rated_kw
        n = self.nameplate_kw / rated_kw
        if abs(n - round(n)) > 1e-9 or round(n) < 1:
            raise ValueError(f"nameplate_kw must be a whole multiple of the {self.turbine_type} rating "
                             f"({rated_kw:g} kW), got {self.nameplate_kw:g}")
        return self

    @property
    def n_turbines(self) -> int:
        from grid_models.wind import turbine_curve

        return round(self.nameplate_kw / turbine_curve(self.turbine_type).rated_kw) if self.turbine_type else 0


class ConsumerGroup(_Frozen):
    """``count`` consumers named ``{name}-01`` … with a BDEW standard load profile scaled to ``annual_kwh``."""

    name: str = Field(min_length=1, max_length=27, pattern=r"^[A-Za-z0-9_-]+$")  # ids go on chain (32 chars)
    count: Annotated[int, Field(gt=0, le=1000)]
    profile: Literal[SLP_PROFILES] = "g0"  # type: ignore[valid-type]
    annual_kwh: Pos


class InsuredSite(GeneratorSite):
    """A generation site in the mutual: ``units`` identical units (inverters, turbines) fail and are repaired
    independently (``mtbf_h``, ``mttr_h`` per unit), so one unit down is a partial outage."""

    units: Annotated[int, Field(gt=0, le=100)] = 1


class InsuranceSpec(_Frozen):
    """Mutual insurance of generation. Premiums = expected claimable loss / ``target_loss_ratio`` (the formula
    is in agents/insurer.py), so the loss ratio (payouts / premiums) the pool aims for is ``target_loss_ratio``;
    the solvency loading is 1 / target - 1 (0.8 -> 25 %)."""

    variant: Literal["indemnity", "parametric"] = "indemnity"
    producers: Annotated[list[InsuredSite], Field(min_length=1)]
    price_eur_per_kwh: Pos = 0.08
    threshold_percent: Annotated[float, Field(ge=0, lt=100)] = 20.0
    target_loss_ratio: Annotated[float, Field(gt=0, le=1)] = 0.8
    sum_insured_share: Annotated[float, Field(gt=0, le=1)] = 0.5
    trigger_percent: Annotated[float, Field(gt=0, le=100)] = 80.0
    exit_percent: Annotated[float, Field(ge=0, lt=100)] = 30.0

    @model_validator(mode="after")
    def _checks(self) -> InsuranceSpec:
        names = [p.name for p in self.producers]
        if len(set(names)) != len(names):
            raise ValueError(f"producers: names must be unique, got {names}")
        if self.exit_percent >= self.trigger_percent:
            raise ValueError(f"exit_percent ({self.exit_percent:g}) must be below trigger_percent "
                             f"({self.trigger_percent:g})")
        return self


class CertificatesSpec(_Frozen):
    """Hourly granular certificates: generation sites issued certificates up to their weather cap, and
    consumers who buy them hour by hour and retire them against their own metered consumption."""

    sites: Annotated[list[GeneratorSite], Field(min_length=1)]
    consumers: Annotated[list[ConsumerGroup], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique(self) -> CertificatesSpec:
        names = [x.name for x in self.sites] + [g.name for g in self.consumers]
        if len(set(names)) != len(names):
            raise ValueError(f"site and consumer group names must be unique, got {names}")
        return self

    def consumer_ids(self) -> list[str]:
        return [f"{g.name}-{i:02d}" for g in self.consumers for i in range(1, g.count + 1)]


class ChainSpec(_Frozen):
    """``py-evm`` (eth-tester; the reference, real blocks and signed transactions) or ``revm`` (fast)."""

    backend: Literal["py-evm", "revm"] = "py-evm"


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


class Scenario(_Frozen):
    run: RunSpec
    site: SiteSpec
    weather: WeatherSpec = WeatherSpec()
    feeder: FeederSpec | None = None
    population: list[PopulationGroup] = []
    vpp: VppSpec | None = None
    prices: PriceSpec | None = None
    meters: MeterSpec = MeterSpec()
    chain: ChainSpec = ChainSpec()
    certificates: CertificatesSpec | None = None
    insurance: InsuranceSpec | None = None
    realtime: RealtimeSpec | None = None
    hil: HilSpec = HilSpec()
    devices: list[DeviceSpec] = []
    dsr: DsrSpec | None = None

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        check_run_devices(self.devices, prosumer_ids=self.prosumer_ids(), settlement_s=self.run.settlement_s,
                          allow_remote_hosts=self.hil.allow_remote_hosts, realtime=self.realtime is not None)
        names = [g.name for g in self.population]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be unique, got {names}")
        if self.vpp is not None and self.prices is None:
            raise ValueError("prices: missing: a [prices] section is required with [vpp]")
        if self.vpp is not None and not self.population:
            raise ValueError("population: missing: [vpp] needs [[population]] groups of prosumers")
        if self.population and self.feeder is None:
            raise ValueError("feeder: missing: [[population]] needs a [feeder] to connect to")
        if self.certificates is not None and self.run.settlement_s > 3600:
            raise ValueError(f"run.settlement_s must be at most 3600 with [certificates] (EnergyTag: intervals of "
                             f"at most 1 h), got {self.run.settlement_s}")
        if self.certificates is not None:
            spec = self.certificates
            clash = set(self.prosumer_ids()) & ({x.name for x in spec.sites} | set(spec.consumer_ids()))
            if clash:
                raise ValueError(f"certificates: site and consumer ids must differ from prosumer ids, both use "
                                 f"{sorted(clash)}")
        ids = set(self.prosumer_ids())
        room = FEEDER_HOUSEHOLDS[self.feeder.network] if self.feeder else 0
        if self.feeder and len(ids) > room:
            raise ValueError(f"population: {len(ids)} prosumers do not fit on feeder "
                             f"{self.feeder.network!r}, which has {room} households")
        if self.dsr is not None:
            if not self.population:
                raise ValueError("population: missing: [dsr] needs [[population]] households on the feeder")
            if self.run.step_s != 60:
                raise ValueError(f"run.step_s: [dsr] outlets act by the minute, so step_s must be 60, "
                                 f"got {self.run.step_s}")
        if self.vpp is None:
            return self
        for m in self.vpp.members or []:
            if m not in ids:
                raise ValueError(f"vpp.members: {m!r} is not a prosumer id (ids look like '{names[0]}-01')")
        if self.vpp.shares_percent:
            members = set(self.vpp_member_ids())
            if set(self.vpp.shares_percent) != members:
                raise ValueError(
                    "vpp.shares_percent must name every member exactly once; "
                    f"missing {sorted(members - set(self.vpp.shares_percent))}, "
                    f"unknown {sorted(set(self.vpp.shares_percent) - members)}"
                )
        return self

    def prosumer_ids(self) -> list[str]:
        """Prosumer ids in a fixed order: group by group, ``{name}-{i:02d}`` from 1."""
        return [f"{g.name}-{i:02d}" for g in self.population for i in range(1, g.count + 1)]

    def vpp_member_ids(self) -> list[str]:
        if self.vpp is None:
            return []
        return list(self.vpp.members) if self.vpp.members else self.prosumer_ids()

    @property
    def n_steps(self) -> int:
        return self.run.duration_s // self.run.step_s

    @property
    def n_periods(self) -> int:
        return self.run.duration_s // self.run.settlement_s

    def digest(self) -> str:
        """sha256 of the canonical JSON of the validated scenario."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

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


def _format_errors(source: str, exc: ValidationError) -> str:
    lines = [f"{source}: invalid scenario ({exc.error_count()} problem{'s' * (exc.error_count() > 1)})"]
    for err in exc.errors():
        loc = ""
        for part in err["loc"]:
            name = str(part) if str(part).isprintable() and str(part) else repr(part)  # keys from a TOML file
            loc += f"[{part}]" if isinstance(part, int) else (f".{name}" if loc else name)
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see scenarios/ for the accepted keys)"
        elif err["type"] == "missing":
            msg = "missing: this field (or section) is required"
        else:
            msg = err["msg"].removeprefix("Value error, ")
            if "input" in err and not isinstance(err["input"], dict | list):
                msg += f" (got {err['input']!r})"
        lines.append(f"  {source}: {loc or '<top>'}: {msg}")
    return "\n".join(lines)


def validate_scenario(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate a parsed scenario mapping; raise ScenarioError naming ``source`` and each bad field."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_format_errors(source, exc)) from None


def read_toml(path: Path, kind: str = "scenario") -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file raises ScenarioError naming it."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {kind} file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file (a ``devices_file`` it names is read in, see sim/hil/table.py)."""
    path = Path(path)
    return validate_scenario(inline_devices_file(read_toml(path), path), source=str(path))
