# pragma version 0.4.3
# pragma evm-version prague
"""
@title VppSettlement
@notice Virtual power plant accountancy: the operator declares each member's energy per settlement period
        before the period starts; delivered energy comes only from meter readings whose EIP-712 signature
        verifies against the member's registered meter (one signature per reading, or one over a meter's run of
        consecutive periods: every value is signed either way), once per meter and period; shortfall beyond a
        tolerance is penalised from the member's collateral; the period's revenue (paid by the buyer) and
        its penalties are redistributed by shares fixed at registration (basis points, sum 10 000).
@dev Energy in Wh, money in ueur (micro-euros of EuroToken), time in block seconds. Period p covers
     [t0 + p * period_s, t0 + (p + 1) * period_s). Integer rounding dust of a payout goes to the last member,
     so that every period pays out exactly revenue + penalties.
"""
from ethereum.ercs import IERC20
import signed_reading

event MemberRegistered:
    member: indexed(address)
    meter: indexed(address)
    share_bps: uint256
    max_wh_per_period: uint256

event MembershipSealed:
    n_members: uint256

event CollateralDeposited:
    member: indexed(address)
    amount_ueur: uint256

event Declared:
    period: indexed(uint256)
    member: indexed(address)
    energy_wh: uint256

event ReadingAccepted:
    period: indexed(uint256)
    meter: indexed(address)
    member: indexed(address)
    energy_wh: uint256
    quality: uint8

event Penalty:
    period: indexed(uint256)
    member: indexed(address)
    shortfall_wh: uint256
    amount_ueur: uint256

event Payout:
    period: indexed(uint256)
    member: indexed(address)
    amount_ueur: uint256

event PricePublished:
    period: indexed(uint256)
    price_ueur_per_kwh: uint256

event PeriodSettled:
    period: indexed(uint256)
    price_ueur_per_kwh: uint256
    declared_wh: uint256
    delivered_wh: uint256
    revenue_ueur: uint256
    penalties_ueur: uint256
    paid_ueur: uint256

MAX_MEMBERS: constant(uint256) = 256
MAX_BATCH: constant(uint256) = 256
MAX_METER_BATCHES: constant(uint256) = 128
SHARE_TOTAL_BPS: constant(uint256) = 10000

operator: public(address)
buyer: public(address)
token: public(IERC20)
t0: public(uint256)
period_s: public(uint256)
n_periods: public(uint256)
price_ueur_per_kwh: public(uint256)
penalty_ueur_per_kwh: public(uint256)
tolerance_bps: public(uint256)
DOMAIN_SEPARATOR: public(bytes32)

members: public(DynArray[address, MAX_MEMBERS])
share_bps: public(HashMap[address, uint256])
meter_of: public(HashMap[address, address])
member_of_meter: public(HashMap[address, address])
max_wh_per_period: public(HashMap[address, uint256])
collateral_ueur: public(HashMap[address, uint256])
shares_total_bps: public(uint256)
sealed: public(bool)

period_price_ueur_per_kwh: public(HashMap[uint256, uint256])
declared: public(HashMap[uint256, bool])
declared_wh: public(HashMap[uint256, HashMap[address, uint256]])
delivered_wh: public(HashMap[uint256, HashMap[address, uint256]])
reported: public(HashMap[uint256, HashMap[address, bool]])
n_reported: public(HashMap[uint256, uint256])
settled: public(HashMap[uint256, bool])
total_revenue_ueur: public(uint256)
total_penalties_ueur: public(uint256)
total_paid_ueur: public(uint256)
readings_accepted: public(uint256)


@deploy
def __init__(
    token: IERC20,
    buyer: address,
    t0: uint256,
    period_s: uint256,
    n_periods: uint256,
    price_ueur_per_kwh: uint256,
    penalty_ueur_per_kwh: uint256,
    tolerance_bps: uint256,
):
    """
    @param token EuroToken used for every payment.
    @param buyer Account that pays for delivered energy (must approve this contract).
    @param t0 Block time at which period 0 starts [s].
    @param period_s Settlement period length [s].
    @param n_periods Number of periods in the horizon.
    @param price_ueur_per_kwh Price paid for delivered energy [ueur/kWh].
    @param penalty_ueur_per_kwh Penalty on shortfall beyond tolerance [ueur/kWh].
    @param tolerance_bps Shortfall tolerated without penalty, share of the declaration [bps].
    """
    assert period_s > 0, "vpp: period_s must be positive"
    assert tolerance_bps <= SHARE_TOTAL_BPS, "vpp: tolerance above 100 %"
    self.operator = msg.sender
    self.token = token
    self.buyer = buyer
    self.t0 = t0
    self.period_s = period_s
    self.n_periods = n_periods
    self.price_ueur_per_kwh = price_ueur_per_kwh
    self.penalty_ueur_per_kwh = penalty_ueur_per_kwh
    self.tolerance_bps = tolerance_bps
    self.DOMAIN_SEPARATOR = signed_reading.domain_separator(self)


@internal
@view
def _only_operator():
    assert msg.sender == self.operator, "vpp: caller is not the operator"


@external
def register_member(member: address, meter: address, share_bps: uint256, max_wh_per_period: uint256):
    """
    @notice Register a member, its meter's signing address, its share and its meter's range limit.
    @param member Member's account (receives payouts, pays penalties).
    @param meter Address of the meter's signing key.
    @param share_bps Share of each period's pool [bps].
    @param max_wh_per_period Largest energy the meter can read in a period [Wh] (rated power x period x 1.1).
    """
    self._only_operator()
    assert not self.sealed, "vpp: membership is sealed"
    assert member != empty(address) and meter != empty(address), "vpp: zero address"
    assert self.meter_of[member] == empty(address), "vpp: member already registered"
    assert self.member_of_meter[meter] == empty(address), "vpp: meter already registered"
    assert share_bps > 0, "vpp: share must be positive"
    self.members.append(member)
    self.share_bps[member] = share_bps
    self.meter_of[member] = meter
    self.member_of_meter[meter] = member
    self.max_wh_per_period[meter] = max_wh_per_period
    self.shares_total_bps += share_bps
    log MemberRegistered(member=member, meter=meter, share_bps=share_bps, max_wh_per_period=max_wh_per_period)


@external
def seal():
    """
    @notice Close membership; shares must sum to exactly 10 000 bps.
    """
    self._only_operator()
    assert not self.sealed, "vpp: membership is sealed"
    assert len(self.members) > 0, "vpp: no members"
    assert self.shares_total_bps == SHARE_TOTAL_BPS, "vpp: shares must sum to 10000 bps"
    self.sealed = True
    log MembershipSealed(n_members=len(self.members))


@external
def deposit_collateral(amount_ueur: uint256):
    """
    @notice A member deposits collateral from which its penalties are paid (approve first).
    @param amount_ueur Collateral moved into the contract [ueur].
    """
    assert self.meter_of[msg.sender] != empty(address), "vpp: caller is not a member"
    self.collateral_ueur[msg.sender] += amount_ueur
    assert extcall self.token.transferFrom(msg.sender, self, amount_ueur), "vpp: collateral transfer failed"
    log CollateralDeposited(member=msg.sender, amount_ueur=amount_ueur)


@external
def declare(period: uint256, energy_wh: DynArray[uint256, MAX_MEMBERS]):
    """
    @notice Declare every member's energy for `period`, before the period starts, once.
    @param period Period index.
    @param energy_wh Declared energy per member, in registration order [Wh].
    """
    self._only_operator()
    assert self.sealed, "vpp: membership not sealed"
    assert period < self.n_periods, "vpp: period out of range"
    assert block.timestamp < self.t0 + period * self.period_s, "vpp: late declaration"
    assert not self.declared[period], "vpp: period already declared"
    assert len(energy_wh) == len(self.members), "vpp: one declaration per member"
    self.declared[period] = True
    i: uint256 = 0
    for member: address in self.members:
        self.declared_wh[period][member] = energy_wh[i]
        log Declared(period=period, member=member, energy_wh=energy_wh[i])
        i += 1


@external
def publish_price(period: uint256, price_ueur_per_kwh: uint256):
    """
    @notice The buyer publishes the price of `period` before it starts (time-of-use and dynamic tariffs);
            a period without a published price is paid at the default price.
    @param period Period index.
    @param price_ueur_per_kwh Price paid for energy delivered in `period` [ueur/kWh].
    """
    assert msg.sender == self.buyer, "vpp: caller is not the buyer"
    assert period < self.n_periods, "vpp: period out of range"
    assert block.timestamp < self.t0 + period * self.period_s, "vpp: late price"
    assert price_ueur_per_kwh > 0, "vpp: price must be positive"
    assert self.period_price_ueur_per_kwh[period] == 0, "vpp: price already published"
    self.period_price_ueur_per_kwh[period] = price_ueur_per_kwh
    log PricePublished(period=period, price_ueur_per_kwh=price_ueur_per_kwh)


@external
@view
def price_of(period: uint256) -> uint256:
    """
    @notice The price that settles `period`: the published one, else the default [ueur/kWh].
    @param period Period index.
    """
    return self._price_of(period)


@internal
@view
def _price_of(period: uint256) -> uint256:
    price: uint256 = self.period_price_ueur_per_kwh[period]
    if price == 0:
        return self.price_ueur_per_kwh
    return price


@external
def submit_readings(readings: DynArray[signed_reading.Reading, MAX_BATCH]):
    """
    @notice Record signed meter readings, many per transaction; any bad reading reverts the batch.
    @param readings EIP-712 signed (meter, period, energy_wh, quality) with v, r, s.
    """
    for r: signed_reading.Reading in readings:
        member: address = self._check(r.meter, r.period, r.energy_wh, r.quality)
        assert not signed_reading.is_high_s(r), "vpp: high-s signature"
        assert signed_reading.signer(self.DOMAIN_SEPARATOR, r) == r.meter, "vpp: bad signature"
        self._record(member, r.meter, r.period, r.energy_wh, r.quality)


@external
def submit_reading_batches(batches: DynArray[signed_reading.ReadingBatch, MAX_METER_BATCHES]):
    """
    @notice Record meters' runs of consecutive readings, one EIP-712 signature per run (every value is covered
            by it); the checks and effects per value are those of `submit_readings`. Any bad batch or value
            reverts the whole call.
    @param batches Per meter: (meter, first_period, energy_wh[], quality[]) signed as a ReadingBatch, with v, r, s.
    """
    for b: signed_reading.ReadingBatch in batches:
        assert len(b.energy_wh) == len(b.quality), "vpp: one quality flag per value"
        assert not signed_reading.batch_is_high_s(b), "vpp: high-s signature"
        assert signed_reading.batch_signer(self.DOMAIN_SEPARATOR, b) == b.meter, "vpp: bad signature"
        period: uint256 = b.first_period
        i: uint256 = 0
        for e: uint256 in b.energy_wh:
            self._record(self._check(b.meter, period, e, b.quality[i]), b.meter, period, e, b.quality[i])
            period += 1
            i += 1


@internal
@view
def _check(meter: address, period: uint256, energy_wh: uint256, quality: uint8) -> address:
    """
    @notice Checks of one reading before its signature; returns the meter's member.
    """
    member: address = self.member_of_meter[meter]
    assert member != empty(address), "vpp: unregistered meter"
    assert period < self.n_periods, "vpp: period out of range"
    assert block.timestamp >= self.t0 + (period + 1) * self.period_s, "vpp: period not over"
    assert not self.settled[period], "vpp: period already settled"
    assert not self.reported[period][meter], "vpp: reading already recorded"
    assert quality <= signed_reading.QUALITY_ESTIMATED, "vpp: unknown quality flag"
    assert energy_wh <= self.max_wh_per_period[meter], "vpp: reading out of range"
    return member


@internal
def _record(member: address, meter: address, period: uint256, energy_wh: uint256, quality: uint8):
    """
    @notice Effects of one verified reading.
    """
    self.reported[period][meter] = True
    self.n_reported[period] += 1
    self.delivered_wh[period][member] = energy_wh
    self.readings_accepted += 1
    log ReadingAccepted(period=period, meter=meter, member=member, energy_wh=energy_wh, quality=quality)


@external
def settle(period: uint256):
    """
    @notice Settle `period` once every member's reading is in: the buyer pays delivered x the period's price, members
            short of their declaration beyond tolerance pay penalty x shortfall from collateral, and the
            pool (revenue + penalties) is paid to members by share.
    @param period Period index.
    """
    self._only_operator()
    assert period < self.n_periods, "vpp: period out of range"
    assert not self.settled[period], "vpp: period already settled"
    assert self.n_reported[period] == len(self.members), "vpp: readings missing"
    self.settled[period] = True

    declared_total: uint256 = 0
    delivered_total: uint256 = 0
    penalties: uint256 = 0
    for member: address in self.members:
        d: uint256 = self.declared_wh[period][member]
        e: uint256 = self.delivered_wh[period][member]
        declared_total += d
        delivered_total += e
        floor_wh: uint256 = d - d * self.tolerance_bps // SHARE_TOTAL_BPS
        if e < floor_wh:
            shortfall: uint256 = floor_wh - e
            amount: uint256 = min(shortfall * self.penalty_ueur_per_kwh // 1000, self.collateral_ueur[member])
            self.collateral_ueur[member] -= amount
            penalties += amount
            log Penalty(period=period, member=member, shortfall_wh=shortfall, amount_ueur=amount)

    price: uint256 = self._price_of(period)
    revenue: uint256 = delivered_total * price // 1000
    if revenue > 0:
        assert extcall self.token.transferFrom(self.buyer, self, revenue), "vpp: buyer payment failed"

    pool: uint256 = revenue + penalties
    paid: uint256 = 0
    n: uint256 = len(self.members)
    i: uint256 = 0
    for member: address in self.members:
        amount: uint256 = pool * self.share_bps[member] // SHARE_TOTAL_BPS
        if i == n - 1:
            amount = pool - paid
        paid += amount
        i += 1
        if amount > 0:
            assert extcall self.token.transfer(member, amount), "vpp: payout failed"
        log Payout(period=period, member=member, amount_ueur=amount)

    self.total_revenue_ueur += revenue
    self.total_penalties_ueur += penalties
    self.total_paid_ueur += paid
    log PeriodSettled(
        period=period,
        price_ueur_per_kwh=price,
        declared_wh=declared_total,
        delivered_wh=delivered_total,
        revenue_ueur=revenue,
        penalties_ueur=penalties,
        paid_ueur=paid,
    )
