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

from grid_models.substation import STATES as SUBSTATION_STATES

FEEDER_HOUSEHOLDS = {"kerber_landnetz_kabel_1": 8, "kerber_landnetz_kabel_2": 14, "kerber_dorfnetz": 57}
FEEDERS = tuple(FEEDER_HOUSEHOLDS)
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
    network: Literal[FEEDERS]  # type: ignore[valid-type]
    solver: Literal["lightsim2grid", "pandapower"] = "lightsim2grid"


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


class PriceSpec(_Frozen):
    energy_eur_per_kwh: NonNeg
    penalty_eur_per_kwh: NonNeg
    member_collateral_eur: NonNeg = 50.0


class MeterSpec(_Frozen):
    """Fault injection for virtual meters (probabilities per reading), to exercise VEE."""

    drop_probability: Annotated[float, Field(ge=0, le=1)] = 0.0
    spike_probability: Annotated[float, Field(ge=0, le=1)] = 0.0


class HeatNetworkSpec(_Frozen):
    """The district-heating network (see grid_models.heat_network) and the plant's heating curve."""

    branches: Annotated[int, Field(ge=1, le=20)] = 3
    segment_length_m: Pos = 50.0
    pipe_loss_w_per_mk: Pos = 0.18
    ground_temp_c: Annotated[float, Field(ge=-10, le=30)] = 6.0
    pump_lift_bar: Pos = 2.0
    pump_pressure_bar: Pos = 6.0
    pump_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.6
    supply_max_c: Annotated[float, Field(gt=0, le=130)] = 85.0
    supply_min_c: Annotated[float, Field(gt=0, le=130)] = 70.0
    design_outdoor_c: float = -12.0
    limit_outdoor_c: float = 15.0

    @model_validator(mode="after")
    def _curve(self) -> HeatNetworkSpec:
        if self.supply_min_c > self.supply_max_c:
            raise ValueError("supply_min_c must not exceed supply_max_c")
        if self.design_outdoor_c >= self.limit_outdoor_c:
            raise ValueError("design_outdoor_c must be below limit_outdoor_c")
        return self


class HeatPriceSpec(_Frozen):
    """Heat is billed at ``heat_eur_per_mwh``; the operator values heat it does not lose at
    ``heat_production_eur_per_mwh`` and pumping it does not need at ``electricity_eur_per_kwh``, and pays
    ``bonus_share_percent`` of that measured benefit as the bonus pool."""

    heat_eur_per_mwh: NonNeg = 50.0
    heat_production_eur_per_mwh: NonNeg = 35.0
    electricity_eur_per_kwh: NonNeg = 0.25
    bonus_share_percent: Annotated[float, Field(ge=0, le=100)] = 100.0


class MotivationTariffSpec(_Frozen):
    """Danish motivation tariff: ``percent_per_c`` of the energy bill per degC of the flow-weighted return
    temperature beyond ``neutral_band_c`` either side of the expected return, capped at ``cap_percent``.
    The expected return is linear in the flow-weighted supply temperature between the points
    (``expected_return_supply_c[i]``, ``expected_return_c[i]``) and flat outside them."""

    percent_per_c: NonNeg = 1.0
    neutral_band_c: NonNeg = 4.0
    cap_percent: NonNeg = 20.0
    expected_return_supply_c: list[float] = [65.0, 85.0]
    expected_return_c: list[float] = [40.0, 38.0]

    @model_validator(mode="after")
    def _points(self) -> MotivationTariffSpec:
        xs = self.expected_return_supply_c
        if not xs or len(xs) != len(self.expected_return_c):
            raise ValueError("expected_return_supply_c and expected_return_c need the same (non-zero) length")
        if any(b <= a for a, b in zip(xs, xs[1:])):
            raise ValueError("expected_return_supply_c must be strictly increasing")
        return self


class HeatBehaviourSpec(_Frozen):
    """How consumers react to the bonus (see agents.heat_consumer): a share are ``responsive``; every
    ``review_every_h`` hours a responsive consumer with a faulty installation looks at what it earned and fixes
    it with probability ``p x G / (G + half_response_bonus_eur_per_year)``, G the yearly bonus it expects to
    gain and p ``max_fix_probability_per_day`` scaled to the review interval. ``react = false`` runs the same
    consumers with nobody reacting."""

    react: bool = True
    responsive_share: Annotated[float, Field(ge=0, le=1)] = 0.6
    max_fix_probability_per_day: Annotated[float, Field(ge=0, le=1)] = 0.25
    half_response_bonus_eur_per_year: Pos = 15.0
    heating_season_days: Annotated[float, Field(gt=0, le=366)] = 210.0
    review_every_h: Annotated[int, Field(ge=1, le=24 * 31)] = 24


class HeatBuildingGroup(_Frozen):
    """``count`` buildings ``{name}-01`` … with a BDEW heat profile and substation states drawn by ``states``
    (shares summing to 1, assigned in exact counts by largest remainder)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    count: Annotated[int, Field(gt=0, le=200)]
    annual_heat_kwh: Pos
    profile: Literal["EFH", "MFH", "GHD", "GKO", "GBH", "GBA"] = "EFH"
    building_class: Annotated[int, Field(ge=0, le=11)] = 5
    states: dict[Literal[SUBSTATION_STATES], NonNeg] = {"well_tuned": 1.0}  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _check(self) -> HeatBuildingGroup:
        total = sum(self.states.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"states shares must sum to 1, got {total:g}")
        residential = self.profile in ("EFH", "MFH")
        if residential != (self.building_class > 0):
            raise ValueError("building_class is 1-11 for EFH/MFH profiles and 0 for the others")
        return self


class HeatSpec(_Frozen):
    """District heating (capability 2). ``annual_mean_temp_c``/``annual_amplitude_c`` describe the reference
    climate the BDEW demand is normalised over (see grid_models.heat_demand)."""

    buildings: Annotated[list[HeatBuildingGroup], Field(min_length=1)]
    network: HeatNetworkSpec = HeatNetworkSpec()
    prices: HeatPriceSpec = HeatPriceSpec()
    tariff: MotivationTariffSpec = MotivationTariffSpec()
    behaviour: HeatBehaviourSpec = HeatBehaviourSpec()
    annual_mean_temp_c: Annotated[float, Field(ge=-30, le=35)] = 8.5
    annual_amplitude_c: NonNeg = 8.0

    def building_ids(self) -> list[str]:
        """Building ids in a fixed order: group by group, ``{name}-{i:02d}`` from 1."""
        return [f"{g.name}-{i:02d}" for g in self.buildings for i in range(1, g.count + 1)]


class ChainSpec(_Frozen):
    backend: Literal["py-evm"] = "py-evm"


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

    @model_validator(mode="after")
    def _cross(self) -> Scenario:
        names = [g.name for g in self.population]
        if len(set(names)) != len(names):
            raise ValueError(f"population names must be unique, got {names}")
        if self.vpp is not None and self.prices is None:
            raise ValueError("prices: missing: a [prices] section is required with [vpp]")
        if self.vpp is not None and not self.population:
            raise ValueError("population: missing: [vpp] needs [[population]] groups of prosumers")
        if self.population and self.feeder is None:
            raise ValueError("feeder: missing: [[population]] needs a [feeder] to connect to")
        ids = set(self.prosumer_ids())
        if self.heat is not None:
            groups = [g.name for g in self.heat.buildings]
            if len(set(groups)) != len(groups) or set(groups) & set(names):
                raise ValueError(f"heat.buildings names must be unique and differ from population names, got {groups}")
        room = FEEDER_HOUSEHOLDS[self.feeder.network] if self.feeder else 0
        if self.feeder and len(ids) > room:
            raise ValueError(f"population: {len(ids)} prosumers do not fit on feeder "
                             f"{self.feeder.network!r}, which has {room} households")
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
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
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


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a TOML scenario file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    return validate_scenario(data, source=str(path))
