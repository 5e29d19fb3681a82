"""The ``[tariff]`` section: one retail tariff design the households are billed under — import and export energy
prices, network fees, levies, the community's own sharing rule, the billing period and the customers' response.
Units are in the field names; every money amount is EUR, every energy kWh, every power kW.

Energy prices (``[tariff.import_price]``, ``[tariff.export_price]``), each one of:

- ``kind = "flat"``: ``price_eur_per_kwh`` in every period;
- ``kind = "time_of_use"``: ``bands``, each ``{price_eur_per_kwh, start_h, end_h, days}`` on the local hour of the
  period's start (``days``: ``"all"``, ``"weekdays"`` Monday-Friday, ``"weekends"`` Saturday-Sunday; a date in
  ``holidays`` counts as a weekend day); the first band that matches prices the period, ``price_eur_per_kwh`` the rest;
- ``kind = "spot"``: the time-weighted mean of a day-ahead price series over the period (``price_file``: a
  ``time`` column and ``eur_per_mwh`` or ``eur_per_kwh``, the layout of ``[prices] price_file``, docs/your_data.md)
  times ``spot_factor`` plus ``price_eur_per_kwh`` (the supplier's markup). Day-ahead prices are known the day
  before: the price is causal.

``[tariff.network]``: ``energy_eur_per_kwh`` on imported energy; ``peak_eur_per_kw_year`` on the billing period's
peak (the highest settlement-period average import [kW], at least ``peak_min_kw``), prorated by the billing
period's days / 365; a capacity subscription of ``subscribed_kw`` at ``subscription_eur_per_kw_day``, each kWh
imported above it in a period at ``excess_eur_per_kwh``; ``fixed_eur_per_day``. ``levies_eur_per_kwh``: taxes and
levies per imported kWh. ``[tariff.community]``: the community's sharing rule (see ``bills``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.files.provenance import resolve_file
from sim.schema import NonNeg, ScenarioError, _Frozen

if TYPE_CHECKING:
    from sim.scenario import Scenario

MAX_EUR_PER_KWH = 100.0  # a retail price beyond any market's
MAX_HOUSEHOLD_FUNDS_EUR = 1e7
Price = Annotated[float, Field(ge=-MAX_EUR_PER_KWH, le=MAX_EUR_PER_KWH)]


class TouBand(_Frozen):
    """A time-of-use band: ``price_eur_per_kwh`` on periods starting in [start_h, end_h) local time on ``days``."""

    price_eur_per_kwh: Price
    start_h: Annotated[float, Field(ge=0, le=24)]
    end_h: Annotated[float, Field(ge=0, le=24)]
    days: Literal["all", "weekdays", "weekends"] = "all"

    @model_validator(mode="after")
    def _order(self) -> TouBand:
        if self.end_h <= self.start_h:
            raise ValueError(f"end_h ({self.end_h:g}) must be after start_h ({self.start_h:g})")
        return self


class EnergyPrice(_Frozen):
    """A price of energy per period [EUR/kWh] (module docstring)."""

    kind: Literal["flat", "time_of_use", "spot"] = "flat"
    price_eur_per_kwh: Price = 0.0
    bands: list[TouBand] = []
    holidays: list[dt.date] = []
    price_file: str | None = None
    spot_factor: Annotated[float, Field(ge=0, le=10)] = 1.0

    _file = field_validator("price_file")(resolve_file)

    @model_validator(mode="after")
    def _kind(self) -> EnergyPrice:
        if self.kind == "time_of_use" and not self.bands:
            raise ValueError("kind = 'time_of_use' needs bands (each {price_eur_per_kwh, start_h, end_h, days})")
        if self.kind != "time_of_use" and (self.bands or self.holidays):
            raise ValueError(f"bands and holidays are only read with kind = 'time_of_use' (kind is {self.kind!r})")
        if self.kind == "spot" and self.price_file is None:
            raise ValueError("kind = 'spot' needs price_file (a day-ahead price series, CSV or Parquet)")
        if self.kind != "spot" and self.price_file is not None:
            raise ValueError(f"price_file is only read with kind = 'spot' (kind is {self.kind!r})")
        return self


class NetworkFees(_Frozen):
    """The DSO's network tariff (module docstring)."""

    energy_eur_per_kwh: NonNeg = 0.0
    peak_eur_per_kw_year: NonNeg = 0.0
    peak_min_kw: NonNeg = 0.0
    subscribed_kw: NonNeg = 0.0
    subscription_eur_per_kw_day: NonNeg = 0.0
    excess_eur_per_kwh: NonNeg = 0.0
    fixed_eur_per_day: NonNeg = 0.0

    @model_validator(mode="after")
    def _subscription(self) -> NetworkFees:
        if self.excess_eur_per_kwh and not self.subscribed_kw:
            raise ValueError("excess_eur_per_kwh needs subscribed_kw (the subscribed capacity it is charged above)")
        return self


class CommunitySharing(_Frozen):
    """The community's own sharing rule: in each settlement period the energy its members export and import at
    the same time is shared, ``rule = "pro_rata"``: each importer gets the shared energy in proportion to its
    import, each exporter sells it in proportion to its export (the Austrian "dynamic" allocation key, ElWOG
    §16e), at ``internal_eur_per_kwh``; network fees on shared energy are reduced by ``network_discount_percent``
    (Austria: 57 % for a local renewable energy community, SNE-V 2018 §5)."""

    rule: Literal["pro_rata"] = "pro_rata"
    internal_eur_per_kwh: Annotated[float, Field(ge=0, le=MAX_EUR_PER_KWH)]
    network_discount_percent: Annotated[float, Field(ge=0, le=100)] = 0.0


class TariffSpec(_Frozen):
    """One tariff design (module docstring). ``billing_period``: bills per local ``"day"``, ``"week"`` (7 days
    from ``run.start``) or calendar ``"month"``. ``response``: ``"none"`` keeps every customer's behaviour as it
    is without the tariff (only money differs between designs); ``"battery"``: batteries of households outside
    a VPP charge from the grid in cheap periods only what the coming day's PV surplus will not bring, staggered
    and within the design's charged capacity, and otherwise cover the household's deficit
    (``response.ForecastBattery``); ``"battery_naive"``: they charge at full power in every cheap period
    (``capability._PriceSignal``, kept for comparison); ``"deferrables"``: the households' micro-DSR deferrable
    appliances (``[dsr]``) start each job at its cheapest allowed minute (``agents.dsr.price_shift``); ``"all"``:
    ``"battery"`` and ``"deferrables"``. A VPP member's battery follows its VPP. ``household_funds_eur``: the money
    each household holds on chain to pay its bills. ``trafo_limit_percent``: the transformer loading above which
    a step counts in the summary's hours above the limit. ``co2_file``: the grid's emission intensity, a series
    (``time`` and ``g_per_kwh``, the layout of a price file): the summary's ``co2_kg`` is the households' grid
    import (shared energy left out) times the intensity of its period (location-based accounting).
    ``flex_eur_per_token``: what one flex token of ``[dsr]`` (FlexDelays, minted for delays of the household's
    smart outlets) is worth: the bill's ``flex_tokens_eur`` credit values the tokens minted in its billing
    period at this rate (the tokens stay on chain as tokens)."""

    name: str = Field("tariff", min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    billing_period: Literal["day", "week", "month"] = "week"
    response: Literal["none", "battery", "battery_naive", "deferrables", "all"] = "none"
    import_price: EnergyPrice
    export_price: EnergyPrice = EnergyPrice()
    network: NetworkFees = NetworkFees()
    levies_eur_per_kwh: NonNeg = 0.0
    community: CommunitySharing | None = None
    household_funds_eur: Annotated[float, Field(ge=0, le=MAX_HOUSEHOLD_FUNDS_EUR)] = 1000.0
    trafo_limit_percent: Annotated[float, Field(gt=0, le=1000)] = 100.0
    co2_file: str | None = None
    flex_eur_per_token: Annotated[float, Field(ge=0, le=1000)] = 0.0

    _co2 = field_validator("co2_file")(resolve_file)


def check(scenario: Scenario) -> None:
    """Cross-section checks of ``[tariff]`` (raises ValueError): households to bill, spot files that cover the
    run."""
    if not scenario.population:
        raise ValueError("tariff: the tariff bills the [[population]] households: none are given")
    if scenario.feeder is None:
        raise ValueError("tariff: the households' meters read the feeder's power flow: a [feeder] is required")
    if scenario.tariff.response in ("deferrables", "all") and getattr(scenario, "dsr", None) is None:
        raise ValueError(f"tariff.response: {scenario.tariff.response!r} shifts the deferrable appliances of [dsr]'s "
                         "smart outlets: add a [dsr] section, or use 'none' or 'battery'")
    from sim.capabilities.tariffs.prices import period_prices_eur_per_kwh

    for side in ("import_price", "export_price"):
        try:
            period_prices_eur_per_kwh(scenario, side)
        except ScenarioError as exc:
            raise ValueError(f"tariff.{side}.price_file: {exc}") from None
    if scenario.tariff.co2_file is not None:
        from sim.capabilities.tariffs.prices import co2_g_per_kwh

        try:
            co2_g_per_kwh(scenario)
        except ScenarioError as exc:
            raise ValueError(f"tariff.co2_file: {exc}") from None
