"""The VPP's scenario sections: ``[vpp]`` (members, shares, declarations, settlement) and ``[prices]`` (energy
price, penalty, collateral, tariff design). Units are in the field names."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.files.provenance import resolve_file
from sim.schema import NonNeg, _Frozen

if TYPE_CHECKING:
    from sim.scenario import Scenario

SHARE_TOTAL_BPS = 10_000
MAX_COLLATERAL_EUR = 1e9  # per member: 256 members' stay far inside EuroToken's supply bound, 2**128 - 1 ueur
MAX_PRICE_EUR_PER_KWH = 1000.0  # a price beyond any market's; the buyer's payments stay far inside uint256
MAX_VPP_MEMBERS = 256  # members of one VppSettlement (its MAX_MEMBERS, and EuroToken's transfer_many bound)


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

    members: Annotated[list[str], Field(min_length=1)] | None = None
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
        if self.members is not None and len(set(self.members)) != len(self.members):
            dup = sorted({m for m in self.members if self.members.count(m) > 1})
            raise ValueError(f"members: each prosumer once, got {dup} more than once")
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
            tiny = sorted(m for m, share in self.shares_percent.items() if share * SHARE_TOTAL_BPS / 100 < 1)
            if tiny:
                raise ValueError(f"shares_percent: a share below 0.01 % rounds to 0 basis points on chain: {tiny}")
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
    """Energy price (base), penalty, collateral and the tariff design (see agents/tariffs.py).

    ``tariff = "file"``: each settlement period's price comes from ``price_file``, a day-ahead or retail price
    series (CSV or Parquet; relative to the scenario file, a path given as an override relative to the working
    directory; kept as an absolute path): a ``time`` column (interval starts, ISO 8601 with their UTC offset or
    naive in the site's time zone) and ``eur_per_mwh`` or ``eur_per_kwh``, any equal step. A period's price is
    the time-weighted mean of the file's prices over it; the file must cover every period. A mean below
    1 µEUR/kWh (negative or zero prices) is paid 1 µEUR/kWh, the settlement's lowest price, and counted in the
    summary. ``energy_eur_per_kwh`` stays the base price: the contract's default, which then settles no period
    (every period's price is published), and the reference of the batteries, which export at full power in a
    period priced at least 1.25 x base, as under the other tariffs. See docs/your_data.md.
    """

    energy_eur_per_kwh: Annotated[float, Field(ge=0, le=MAX_PRICE_EUR_PER_KWH)]
    penalty_eur_per_kwh: Annotated[float, Field(ge=0, lt=1048.576)]  # VppSettlement's bound: 2**20 x 1000 ueur/kWh
    member_collateral_eur: Annotated[float, Field(ge=0, le=MAX_COLLATERAL_EUR)] = 50.0
    tariff: Literal["flat", "time_of_use", "dynamic", "file"] = "flat"
    price_file: str | None = None
    tou_windows: list[TouWindow] = [
        TouWindow(start_h=10, end_h=16, multiplier=0.6),
        TouWindow(start_h=17, end_h=21, multiplier=1.6),
    ]
    dynamic_low_multiplier: Annotated[float, Field(gt=0)] = 0.5
    dynamic_high_multiplier: Annotated[float, Field(gt=0)] = 1.5

    _file = field_validator("price_file")(resolve_file)

    @model_validator(mode="after")
    def _file_with_file_tariff(self) -> PriceSpec:
        if self.tariff == "file" and self.price_file is None:
            raise ValueError("tariff = 'file' needs price_file (a CSV or Parquet price series)")
        if self.tariff != "file" and self.price_file is not None:
            raise ValueError(f"price_file is only read with tariff = 'file' (tariff is {self.tariff!r})")
        return self


def pool_sizes(n_members: int, max_members: int) -> list[int]:
    """Sizes of the fewest pools of at most ``max_members`` that hold ``n_members``, as even as possible (the
    first pools take the remainder)."""
    n_pools = max(1, -(-n_members // max_members))
    base, extra = divmod(n_members, n_pools)
    return [base + (i < extra) for i in range(n_pools)]


def member_ids(scenario: Scenario) -> list[str]:
    """The VPP's members: ``vpp.members``, or every prosumer."""
    if scenario.vpp is None:
        return []
    return list(scenario.vpp.members) if scenario.vpp.members else scenario.prosumer_ids()


def check(scenario: Scenario) -> None:
    """Cross-section checks of ``[vpp]`` (raises ValueError)."""
    if scenario.prices is None:
        raise ValueError("prices: missing: a [prices] section is required with [vpp]")
    if not scenario.population:
        raise ValueError("population: missing: [vpp] needs [[population]] groups of prosumers")
    ids, names = set(scenario.prosumer_ids()), [g.name for g in scenario.population]
    for m in scenario.vpp.members or []:
        if m not in ids:
            raise ValueError(f"vpp.members: {m!r} is not a prosumer id (ids look like '{names[0]}-01')")
    settlement_s = scenario.run.settlement_s
    if scenario.vpp.declares_day_ahead and (86_400 % settlement_s or settlement_s < 3600):
        raise ValueError(f"run.settlement_s ({settlement_s}) must divide a day into at most 24 periods "
                         "(3600, 7200, … 86400) for vpp day-ahead declarations or day settlement")
    if scenario.prices.tariff == "file":
        from sim.capabilities.vpp import price_file

        price_file.check(scenario, MAX_PRICE_EUR_PER_KWH)
    if scenario.vpp.share_rule == "pv_kwp":
        _check_pv_shares(scenario)
    if scenario.vpp.shares_percent:
        members = set(member_ids(scenario))
        if set(scenario.vpp.shares_percent) != members:
            raise ValueError(
                "vpp.shares_percent must name every member exactly once; "
                f"missing {sorted(members - set(scenario.vpp.shares_percent))}, "
                f"unknown {sorted(set(scenario.vpp.shares_percent) - members)}"
            )
    if scenario.prices.tariff == "dynamic":
        for i, g in enumerate(scenario.population):
            if g.annual_load_kwh is None:
                raise ValueError(f"population[{i}].annual_load_kwh: missing: the dynamic tariff's day-ahead DSO "
                                 "forecast assumes each group's annual energy (also with a load_file or "
                                 "[feeder] loads = 'network')")


def _check_pv_shares(scenario: Scenario) -> None:
    """With ``share_rule = "pv_kwp"`` every member's share, within its pool, is at least 1 basis point (what
    VppSettlement registers): a member without PV, or with too little beside the others', is refused here."""
    from agents.allocation import largest_remainder

    kwp = {f"{g.name}-{i:02d}": g.pv_kwp for g in scenario.population for i in range(1, g.count + 1)}
    members, start = member_ids(scenario), 0
    for size in pool_sizes(len(members), scenario.vpp.pool_members):
        pool = members[start:start + size]
        weights = [kwp[m] for m in pool]
        bps = largest_remainder(SHARE_TOTAL_BPS, weights) if sum(weights) > 0 else [0] * len(pool)
        zero = [m for m, b in zip(pool, bps) if b < 1]
        if zero:
            raise ValueError(f"vpp.share_rule: 'pv_kwp' shares by installed PV, and {len(zero)} member(s) would get "
                             f"a share of 0 basis points ({', '.join(zero[:5])}{' …' * (len(zero) > 5)}): give them "
                             "PV, leave them out of vpp.members, or use share_rule 'equal' or 'explicit'")
        start += size
