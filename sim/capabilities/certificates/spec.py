"""Scenario schema of capability 3, source certificates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from grid_models.loads import SLP_PROFILES
from sim.files.provenance import resolve_file
from sim.schema import ScenarioError, _Frozen
from sim.sites.spec import GeneratorSite

MAX_CONSUMER_KWH = 10**9  # 1 TWh a year: the meter (3x the profile's peak) stays inside Certificates' range bound

if TYPE_CHECKING:
    from sim.scenario import Scenario


class ConsumerGroup(_Frozen):
    """``count`` consumers named ``{name}-01`` … with a BDEW standard load profile scaled to ``annual_kwh``, or
    their measured load from ``load_file`` (a CSV or Parquet file relative to the scenario file, see
    docs/your_data.md: a column ``{id}_p_kw`` (kW) or ``{id}_energy_kwh`` (kWh per interval) per
    consumer, or one ``p_kw`` / ``energy_kwh`` for all), ``load_scale`` ``"measured"`` (as given; ``annual_kwh``
    may then be left out) or ``"annual"`` (each series scaled to ``annual_kwh`` per 8760 h)."""

    name: str = Field(min_length=1, max_length=27, pattern=r"^[A-Za-z0-9_-]+$")  # ids go on chain (32 chars)
    count: Annotated[int, Field(gt=0, le=1000)]
    profile: Literal[SLP_PROFILES] = "g0"  # type: ignore[valid-type]
    annual_kwh: Annotated[float, Field(ge=0.001, le=MAX_CONSUMER_KWH)] | None = None  # 1 Wh: meters count whole Wh
    load_file: str | None = None
    load_scale: Literal["measured", "annual"] = "measured"

    _file = field_validator("load_file")(resolve_file)

    @model_validator(mode="after")
    def _annual(self) -> ConsumerGroup:
        if self.load_scale == "annual" and self.load_file is None:
            raise ValueError("load_scale is how load_file's values are used; give load_file or leave load_scale out")
        if self.annual_kwh is None and (self.load_file is None or self.load_scale == "annual"):
            raise ValueError("annual_kwh: missing: required unless a load_file gives the measured load")
        return self

    def ids(self) -> list[str]:
        return [f"{self.name}-{i:02d}" for i in range(1, self.count + 1)]


class CertificatesSpec(_Frozen):
    """Hourly granular certificates: generation sites issued certificates up to their weather cap, and
    consumers who buy them hour by hour and retire them against their own metered consumption."""

    sites: Annotated[list[GeneratorSite], Field(min_length=1)]
    consumers: Annotated[list[ConsumerGroup], Field(min_length=1)]
    # "bulk": each day's caps, consumption, mints, sales and claims in a few transactions (the sales and claims
    # together through Certificates.sell_and_retire); "per_action": the caps and each interval's mint and sales as
    # the interval settles, each consumer's claims once a day (the reference path). Same balances, retirements and
    # scores (docs/bulk_certificates.md).
    settlement: Literal["bulk", "per_action"] = "bulk"

    @model_validator(mode="after")
    def _unique(self) -> CertificatesSpec:
        names = [x.name for x in self.sites] + [g.name for g in self.consumers]
        if len(set(names)) != len(names):
            raise ValueError(f"site and consumer group names must be unique, got {names}")
        return self

    def consumer_ids(self) -> list[str]:
        return [f"{g.name}-{i:02d}" for g in self.consumers for i in range(1, g.count + 1)]


def check(scenario: Scenario) -> None:
    """Cross-section checks of ``[certificates]`` (raises ValueError)."""
    if scenario.run.settlement_s > 3600:
        raise ValueError(f"run.settlement_s must be at most 3600 with [certificates] (EnergyTag: intervals of "
                         f"at most 1 h), got {scenario.run.settlement_s}")
    spec = scenario.certificates
    clash = set(scenario.prosumer_ids()) & ({x.name for x in spec.sites} | set(spec.consumer_ids()))
    if clash:
        raise ValueError(f"certificates: site and consumer ids must differ from prosumer ids, both use "
                         f"{sorted(clash)}")
    from sim.files.profiles import profiles_kw
    from sim.inputs import run_times

    for i, g in enumerate(spec.consumers):
        if g.load_file is not None:  # read as the run will: a file that validates runs
            try:
                profiles_kw(g.load_file, g.ids(), what="consumer load", times=run_times(scenario.run, scenario.site),
                            step_s=scenario.run.step_s, tz=scenario.site.tz, scale=g.load_scale, per=g.annual_kwh)
            except ScenarioError as exc:
                raise ValueError(f"certificates.consumers[{i}].load_file: {exc}") from None


def describe(scenario: Scenario) -> str:
    spec = scenario.certificates
    return f"{len(spec.sites)} generation sites and {len(spec.consumer_ids())} consumers with certificates"
