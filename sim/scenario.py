"""Scenario files: TOML parsed into frozen, validated objects.

pydantic (v2) is used rather than dataclasses because it gives, for free and tested by others, what a
demanding user needs from a scenario parser: strict types, rejection of unknown keys, and error locations
(``population[0].pv_kwp``) that we turn into one message naming the file, the field and what was expected.

The kernel's sections (run, site, weather, feeder, population, VPP, prices, meters, chain, HIL) are here; each
other capability's section is in ``sim.specs``. Units are in the field names (see README, "Units"). Sim time is
seconds from ``run.start``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from sim.hil.table import DeviceSpec, check_run_devices, inline_devices_file
from sim.schema import NonNeg, Pos, _Frozen
from sim.capabilities.certificates.spec import CertificatesSpec
from sim.capabilities.dsr.spec import DsrSpec
from sim.capabilities.heat.spec import HeatSpec
from sim.capabilities.insurance.spec import InsuranceSpec

FEEDER_HOUSEHOLDS = {"kerber_landnetz_kabel_1": 8, "kerber_landnetz_kabel_2": 14, "kerber_dorfnetz": 57,
                     "kerber_vorstadtnetz_kabel_1": 146, "kerber_vorstadtnetz_district_7": 1022}
FEEDERS = tuple(FEEDER_HOUSEHOLDS)
TRANSFORMERS = ("0.1 MVA 10/0.4 kV", "0.16 MVA 10/0.4 kV", "0.25 MVA 10/0.4 kV", "0.4 MVA 10/0.4 kV",
                "0.63 MVA 10/0.4 kV")  # pandapower standard types that fit the Kerber feeders' 10 kV side
# (on a district, every substation's transformer is replaced)
SHARE_TOTAL_BPS = 10_000
MAX_VPP_MEMBERS = 256  # members of one VppSettlement (its MAX_MEMBERS, and EuroToken's transfer_many bound)


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file, the field and what was expected."""


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
    solver: Literal["lightsim2grid", "runpp-lightsim2grid", "pandapower"] = "lightsim2grid"
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
    ``post_every_periods``: readings are posted and periods settled every that many settlement periods; with
    more than 1, each meter signs its run of consecutive values once (an EIP-712 ``ReadingBatch``: every value
    is still signed and verified on chain, with one signature per run instead of one per value). Each period
    is still settled on its own; only the posting is batched.

    ``declaration``: ``"rolling"`` declares each period two periods before it starts (the forecast of that
    moment); ``"day_ahead"`` declares a whole day's periods at once, two periods before the day starts (days
    count from ``run.start``). ``settlement = "day"`` (day-ahead declarations, the default with it) commits a
    day's declarations on chain as one hash and settles the day in one transaction: each member's meter signs
    its day of values once (an EIP-712 ``ReadingBatch``), the contract checks every value, settles every
    period by the same rules as ``"period"`` and pays each member once for the day. A day settles only with
    every member's batch; a refused batch leaves the whole day unsettled, with the contract's reason.

    ``pool_members``: one VppSettlement contract settles at most this many members (at most 256, the contract's
    bound). A larger VPP is split, in member order, into the fewest pools of at most that many members, their
    sizes as even as possible (1000 members: 4 pools of 250). Each pool is its own contract with the same prices,
    tolerance and collateral rules; shares are agreed within each pool (the share rule applied to the pool's
    members, explicit shares scaled to the pool), declarations, readings and settlement go pool by pool, and a
    pool's revenue and penalties are redistributed among its own members.
    """

    members: list[str] | None = None
    share_rule: Literal["equal", "explicit", "pv_kwp"] = "equal"
    shares_percent: dict[str, NonNeg] | None = None
    tolerance_percent: Annotated[float, Field(ge=0, le=100)] = 10.0
    forecast: Literal["smart_persistence", "clear_sky"] = "smart_persistence"
    forecast_derate: Annotated[float, Field(gt=0, le=2)] = 0.9
    post_every_periods: Annotated[int, Field(ge=1, le=168)] = 1
    settlement: Literal["period", "day"] = "period"
    declaration: Literal["rolling", "day_ahead"] | None = None  # default: day_ahead with settlement = "day"
    pool_members: Annotated[int, Field(ge=1, le=MAX_VPP_MEMBERS)] = MAX_VPP_MEMBERS

    @property
    def declares_day_ahead(self) -> bool:
        return (self.declaration or ("day_ahead" if self.settlement == "day" else "rolling")) == "day_ahead"

    @model_validator(mode="after")
    def _shares(self) -> VppSpec:
        if self.settlement == "day" and self.declaration == "rolling":
            raise ValueError("declaration = 'rolling' cannot go with settlement = 'day' (a day settles against "
                             "declarations committed before it starts: use 'day_ahead')")
        if self.settlement == "day" and self.post_every_periods != 1:
            raise ValueError("post_every_periods is not read with settlement = 'day' (a day's readings go with "
                             "its settlement): leave it out")
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
    penalty_eur_per_kwh: Annotated[float, Field(ge=0, lt=1048.576)]  # VppSettlement's bound: 2**20 x 1000 ueur/kWh
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


class Scenario(_Frozen):
    run: RunSpec
    site: SiteSpec
    weather: WeatherSpec = WeatherSpec()
    feeder: FeederSpec | None = None
    population: list[PopulationGroup] = []
    vpp: VppSpec | None = None
    prices: PriceSpec | None = None
    heat: HeatSpec | None = None
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
                          allow_remote_hosts=self.hil.allow_remote_hosts, realtime=self.realtime is not None,
                          step_s=self.run.step_s,
                          dsr_appliances=None if self.dsr is None else [o.appliance for o in self.dsr.outlets])
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
        if self.heat is not None:
            groups = [g.name for g in self.heat.buildings]
            if len(set(groups)) != len(groups) or set(groups) & set(names):
                raise ValueError(f"heat.buildings names must be unique and differ from population names, got {groups}")
            step = self.heat.step_s
            if step is not None and (step % self.run.step_s or self.run.settlement_s % step):
                raise ValueError(f"heat.step_s ({step}) must be a whole multiple of run.step_s ({self.run.step_s}) "
                                 f"and divide run.settlement_s ({self.run.settlement_s})")
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
        if self.vpp.declares_day_ahead and (86_400 % self.run.settlement_s or self.run.settlement_s < 3600):
            raise ValueError(f"run.settlement_s ({self.run.settlement_s}) must divide a day into at most 24 periods "
                             "(3600, 7200, … 86400) for vpp day-ahead declarations or day settlement")
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
