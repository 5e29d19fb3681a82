"""Scenario schema of capability 3, source certificates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from grid_models.loads import SLP_PROFILES
from sim.schema import _Frozen
from sim.sites.spec import GeneratorSite

MAX_CONSUMER_KWH = 10**9  # 1 TWh a year: the meter (3x the profile's peak) stays inside Certificates' range bound

if TYPE_CHECKING:
    from sim.scenario import Scenario


class ConsumerGroup(_Frozen):
    """``count`` consumers named ``{name}-01`` … with a BDEW standard load profile scaled to ``annual_kwh``."""

    name: str = Field(min_length=1, max_length=27, pattern=r"^[A-Za-z0-9_-]+$")  # ids go on chain (32 chars)
    count: Annotated[int, Field(gt=0, le=1000)]
    profile: Literal[SLP_PROFILES] = "g0"  # type: ignore[valid-type]
    annual_kwh: Annotated[float, Field(gt=0, le=MAX_CONSUMER_KWH)]


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


def describe(scenario: Scenario) -> str:
    spec = scenario.certificates
    return f"{len(spec.sites)} generation sites and {len(spec.consumer_ids())} consumers with certificates"
