"""Scenario schema of capability 2, district-heating efficiency tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from grid_models.substation import MIN_COOLING_K
from grid_models.substation import STATES as SUBSTATION_STATES
from sim.capabilities.heat.tariff import DEFAULT_PRESET, TariffRule, preset_rule, rule_from
from sim.files.provenance import resolve_file
from sim.inputs import run_times
from sim.schema import NonNeg, Pos, ScenarioError, _Frozen

if TYPE_CHECKING:
    from sim.scenario import Scenario


MIN_RETURN_C = 0.0  # a return temperature is of liquid water


class HeatNetworkSpec(_Frozen):
    """The district-heating network (see grid_models.heat_network) and the plant's heating curve. ``solver``: how
    each step's pipe flow is solved: ``"fast"`` (the default: pandapipes' bidirectional equations solved directly
    on the radial network, within 0.01 K and 0.1 % of pandapipes, see docs/validation.md) or ``"pandapipes"``
    (``pps.pipeflow`` every step, the reference)."""

    branches: Annotated[int, Field(ge=1, le=20)] = 3
    # at most 10 km of main per building and 100 W/(m K), some thirty times a bare steel pipe in wet soil
    # (2·π·λ/ln(4H/d) ≈ 3 W/(m K)): L·k ≤ 1e6 W/K a segment, far inside what the pipe flow solves (5e8 W/K ran,
    # 1e11 did not: a loss of 2**31 W/(m K) validated and stopped the run; found by the deep scenario fuzz)
    segment_length_m: Annotated[float, Field(gt=0, le=10_000)] = 50.0
    pipe_loss_w_per_mk: Annotated[float, Field(gt=0, le=100)] = 0.18
    ground_temp_c: Annotated[float, Field(ge=-10, le=30)] = 6.0
    pump_lift_bar: Pos = 2.0
    pump_pressure_bar: Pos = 6.0
    pump_efficiency: Annotated[float, Field(gt=0, le=1)] = 0.6
    supply_max_c: Annotated[float, Field(gt=0, le=130)] = 85.0
    supply_min_c: Annotated[float, Field(gt=0, le=130)] = 70.0
    design_outdoor_c: float = -12.0
    limit_outdoor_c: float = 15.0
    # "fast": pandapipes' bidirectional equations solved without its bookkeeping on the radial network
    # (grid_models/heat_tree.py; pandapipes for a step it cannot take); "pandapipes": pps.pipeflow every step
    solver: Literal["fast", "pandapipes"] = "fast"

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
    """Danish motivation tariff (see sim/capabilities/heat/tariff.py): ``preset`` names a published tariff
    (``lemvig_2021``, the default; ``skive``; ``gues``; or ``custom``, which takes nothing from a preset), and
    every key given replaces the preset's value. The expected return is a table: piecewise linear in the
    flow-weighted supply temperature between (``expected_return_supply_c[i]``, ``expected_return_c[i]``), flat
    outside; or, with ``basis = "month"``, twelve values (January first) of ``expected_return_c``. A neutral zone
    ``neutral_below_c`` / ``neutral_above_c`` either side of it; outside, ``counting`` counts the degrees beyond
    the edge (``from_edge``) or the whole difference (``whole_difference``); ``surcharge_per_c`` /
    ``rebate_per_c`` per counted degC in ``rate_unit`` (% of the energy price, or EUR per MWh), capped at
    ``surcharge_cap`` / ``rebate_cap`` (same unit). It applies to the variable energy charge (heat MWh x
    ``heat.prices.heat_eur_per_mwh``)."""

    preset: Literal["lemvig_2021", "skive", "gues", "custom"] = DEFAULT_PRESET
    basis: Literal["supply_temperature", "month"] | None = None
    expected_return_supply_c: list[float] | None = None
    expected_return_c: list[float] | None = None
    neutral_below_c: NonNeg | None = None
    neutral_above_c: NonNeg | None = None
    counting: Literal["from_edge", "whole_difference"] | None = None
    surcharge_per_c: NonNeg | None = None
    rebate_per_c: NonNeg | None = None
    rate_unit: Literal["percent_of_energy_price", "eur_per_mwh"] | None = None
    surcharge_cap: NonNeg | None = None
    rebate_cap: NonNeg | None = None

    @model_validator(mode="after")
    def _rule(self) -> MotivationTariffSpec:
        self.rule()  # raises ValueError naming what is wrong
        return self

    def rule(self) -> TariffRule:
        """The tariff rule: the preset's values with the keys given here replacing them."""
        given = self.model_dump(exclude={"preset"})
        if self.preset == "custom":
            defaults = {"basis": "supply_temperature", "neutral_below_c": 0.0, "neutral_above_c": 0.0,
                        "counting": "whole_difference", "surcharge_per_c": 0.0, "rebate_per_c": 0.0,
                        "rate_unit": "percent_of_energy_price"}
            values = {**defaults, **{k: v for k, v in given.items() if v is not None}}
            if values.get("expected_return_c") is None:
                raise ValueError("preset \"custom\" needs the expected-return table: expected_return_supply_c "
                                 "and expected_return_c (or expected_return_c alone with basis = \"month\")")
            return rule_from(values)
        return preset_rule(self.preset, **given)


class TokenReferenceSpec(_Frozen):
    """The return temperature the operator expects when it publishes each consumer's token reference
    (ΔT_ref,i = T_s,i − T_r,expected(T_s,i), see agents.heat.operator): linear in the supply temperature between
    the points, flat outside. Not a utility's published tariff: the token scheme's own parameter, set near what the
    substation model's well-tuned substations return in winter (25 + 15·√load degC, see grid_models.substation).
    ``from_tariff = true`` uses the motivation tariff's expected-return table instead (supply basis only; the points
    here are then not used), so that both designs judge a consumer against the same expectation."""

    from_tariff: bool = False
    expected_return_supply_c: list[float] = [65.0, 85.0]
    expected_return_c: list[float] = [40.0, 38.0]

    @model_validator(mode="after")
    def _points(self) -> TokenReferenceSpec:
        xs = self.expected_return_supply_c
        if not xs or len(xs) != len(self.expected_return_c):
            raise ValueError("expected_return_supply_c and expected_return_c need the same (non-zero) length")
        if any(b <= a for a, b in zip(xs, xs[1:])):
            raise ValueError("expected_return_supply_c must be strictly increasing")
        return self


class HeatBehaviourSpec(_Frozen):
    """How consumers react to the bonus (see agents.heat.consumer): a share are ``responsive``; every
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
    (shares summing to 1, assigned in exact counts by largest remainder). ``demand_file``: their measured heat
    demand instead of the profile's, a CSV or Parquet file relative to the scenario file (see
    docs/your_data.md: a column ``{id}_p_kw`` (kW heat) or ``{id}_energy_kwh`` (kWh per interval) per
    building, or one ``p_kw`` / ``energy_kwh`` for all); ``demand_scale``: ``"measured"`` (as given) or
    ``"annual"`` (each series scaled to ``annual_heat_kwh`` per 8760 h). ``annual_heat_kwh`` sizes the
    substation (its design heat) either way."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+$")
    count: Annotated[int, Field(gt=0, le=200)]
    annual_heat_kwh: Annotated[float, Field(gt=0, le=10**8)]  # 100 GWh: the meter stays inside HeatEfficiency's range
    profile: Literal["EFH", "MFH", "GHD", "GKO", "GBH", "GBA"] = "EFH"
    building_class: Annotated[int, Field(ge=0, le=11)] = 5
    states: dict[Literal[SUBSTATION_STATES], NonNeg] = {"well_tuned": 1.0}  # type: ignore[valid-type]
    demand_file: str | None = None
    demand_scale: Literal["measured", "annual"] = "measured"

    _file = field_validator("demand_file")(resolve_file)

    def ids(self) -> list[str]:
        return [f"{self.name}-{i:02d}" for i in range(1, self.count + 1)]

    @model_validator(mode="after")
    def _check(self) -> HeatBuildingGroup:
        if self.demand_scale != "measured" and self.demand_file is None:
            raise ValueError("demand_scale is how demand_file's values are used; give demand_file or leave "
                             "demand_scale out")
        total = sum(self.states.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"states shares must sum to 1, got {total:g}")
        residential = self.profile in ("EFH", "MFH")
        if residential != (self.building_class > 0):
            raise ValueError("building_class is 1-11 for EFH/MFH profiles and 0 for the others")
        return self


class HeatSpec(_Frozen):
    """District heating (capability 2). The BDEW demand is normalised over a year whose days before the run
    follow a reference climate (see grid_models.heat_demand): by default the weather's own annual cycle
    (``[weather]``, without its daily swing and noise), so that a run as warm as its climate carries its
    climate's share of the annual demand; ``annual_mean_temp_c`` and ``annual_amplitude_c`` (both or neither)
    give another harmonic, coldest on the weather's coldest day. ``step_s``: the pipe flow is solved
    every that many seconds with the interval's mean demand and held in between (a heat network is
    quasi-static at that scale); default: every step of the run. A whole multiple of ``run.step_s`` that divides
    ``run.settlement_s``."""

    buildings: Annotated[list[HeatBuildingGroup], Field(min_length=1)]
    network: HeatNetworkSpec = HeatNetworkSpec()
    prices: HeatPriceSpec = HeatPriceSpec()
    tariff: MotivationTariffSpec = MotivationTariffSpec()
    reference: TokenReferenceSpec = TokenReferenceSpec()
    behaviour: HeatBehaviourSpec = HeatBehaviourSpec()
    annual_mean_temp_c: float | None = Field(None, ge=-30, le=35)  # None: the weather's annual cycle
    annual_amplitude_c: float | None = Field(None, ge=0, le=35)
    step_s: Annotated[int, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _reference_climate(self) -> HeatSpec:
        if (self.annual_mean_temp_c is None) != (self.annual_amplitude_c is None):
            raise ValueError("annual_mean_temp_c and annual_amplitude_c come together (a reference climate other "
                             "than the weather's), or neither (the weather's annual cycle)")
        return self

    def reference_climate(self, weather_cycle: dict) -> dict:
        """Climate arguments of ``grid_models.heat_demand.bdew_heat_kw``: the weather's annual cycle
        (``WeatherSpec.annual_cycle``) unless this section gives its own harmonic."""
        if self.annual_mean_temp_c is not None:
            return dict(annual_mean_temp_c=self.annual_mean_temp_c, annual_amplitude_c=self.annual_amplitude_c,
                        coldest_day_of_year=weather_cycle["coldest_day_of_year"], monthly_mean_temp_c=None)
        return dict(annual_mean_temp_c=weather_cycle["mean_temp_c"],
                    annual_amplitude_c=weather_cycle["annual_temp_amplitude_c"],
                    coldest_day_of_year=weather_cycle["coldest_day_of_year"],
                    monthly_mean_temp_c=weather_cycle["monthly_mean_temp_c"])

    @model_validator(mode="after")
    def _reference(self) -> HeatSpec:
        if self.reference.from_tariff and self.tariff.rule().basis != "supply_temperature":
            raise ValueError("reference.from_tariff needs a tariff whose expected return is a function of the "
                             "supply temperature (the operator publishes references by supply temperature), "
                             "not of the month")
        expected, net = self.expected_return_for_reference(), self.network
        which = "tariff's expected_return_c" if self.reference.from_tariff else "reference.expected_return_c"
        points = [net.supply_min_c, net.supply_max_c] + [x for x in (
            self.tariff.rule().table_x if self.reference.from_tariff else self.reference.expected_return_supply_c)
            if net.supply_min_c < x < net.supply_max_c]
        for t in points:  # piecewise linear, flat outside: its breakpoints and the heating curve's ends
            r = expected(t)
            if not MIN_RETURN_C <= r <= t - MIN_COOLING_K:
                raise ValueError(f"{which}: the expected return at supply {t:g} degC is {r:.6g} degC; the operator "
                                 f"models every substation returning at it, so it must lie from {MIN_RETURN_C:g} "
                                 f"degC (water) to {MIN_COOLING_K:g} K below that supply (a substation's least "
                                 f"cooling) at every supply the heating curve gives ({net.supply_min_c:g}-"
                                 f"{net.supply_max_c:g} degC)")
        return self

    def expected_return_for_reference(self):
        """The operator's expected return [degC] as a function of the supply temperature [degC]."""
        if self.reference.from_tariff:
            rule = self.tariff.rule()
            return lambda t: float(rule.expected_return_c(t))
        xs, cs = self.reference.expected_return_supply_c, self.reference.expected_return_c
        return lambda t: float(np.interp(t, xs, cs))

    def building_ids(self) -> list[str]:
        """Building ids in a fixed order: group by group, ``{name}-{i:02d}`` from 1."""
        return [f"{g.name}-{i:02d}" for g in self.buildings for i in range(1, g.count + 1)]


def check(scenario: Scenario) -> None:
    """Cross-section checks of ``[heat]`` (raises ValueError)."""
    spec, names = scenario.heat, [g.name for g in scenario.population]
    groups = [g.name for g in spec.buildings]
    if len(set(groups)) != len(groups) or set(groups) & set(names):
        raise ValueError(f"heat.buildings names must be unique and differ from population names, got {groups}")
    step, run = spec.step_s, scenario.run
    if step is not None and (step % run.step_s or run.settlement_s % step):
        raise ValueError(f"heat.step_s ({step}) must be a whole multiple of run.step_s ({run.step_s}) "
                         f"and divide run.settlement_s ({run.settlement_s})")
    for i, g in enumerate(spec.buildings):
        if g.demand_file is not None:  # read as the run will: a file that validates runs
            try:
                demand_kw(g, run_times(run, scenario.site), run.step_s, scenario.site.tz)
            except ScenarioError as exc:
                raise ValueError(f"heat.buildings[{i}].demand_file: {exc}") from None


def demand_kw(g: HeatBuildingGroup, times, step_s: int, tz: str) -> np.ndarray:
    """The group's measured heat demand [kW] on the run's steps (``times``: their starts), (steps, count)."""
    from sim.files.profiles import profiles_kw

    return profiles_kw(g.demand_file, g.ids(), what="heat demand", times=times, step_s=step_s, tz=tz,
                       scale=g.demand_scale, per=g.annual_heat_kwh)


def describe(scenario: Scenario) -> str:
    return f"{len(scenario.heat.building_ids())} buildings on a district-heating network"
