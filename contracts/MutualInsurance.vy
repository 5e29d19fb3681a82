# pragma version 0.4.3
# pragma evm-version prague
"""
@title MutualInsurance
@notice Mutual insurance of power generation. Members join with a sum insured and a premium per period,
        paid into a shared pool. Per period the weather oracle posts each member's expected production (what
        the site would have produced, fully available, under the observed weather) and the member's meter
        posts its measured production as an EIP-712 signed reading. A member who reported an outage for the
        period claims; the contract checks the shortfall against the threshold and pays from the pool:
        indemnity = loss x price (loss <= expected - measured), or parametric = cover x (trigger - ratio) /
        (trigger - exit) between the trigger and exit ratios (Etherisc's design). Payouts are capped by what
        is left of the sum insured; what the pool cannot pay now is queued and paid first from later
        premiums. The pool never goes negative.
@dev Energy in Wh, money in ueur, ratios in bps. Pool = premiums - payouts, always.
"""
from ethereum.ercs import IERC20
import signed_reading

event Joined:
    member: indexed(address)
    meter: indexed(address)
    sum_insured_ueur: uint256
    premium_ueur: uint256
    cover_per_period_ueur: uint256

event PremiumPaid:
    period: indexed(uint256)
    member: indexed(address)
    amount_ueur: uint256

event ExpectedPosted:
    period: indexed(uint256)
    member: indexed(address)
    expected_wh: uint256
    weather_hash: bytes32

event MeasuredAccepted:
    period: indexed(uint256)
    member: indexed(address)
    measured_wh: uint256

event OutageReported:
    period: indexed(uint256)
    member: indexed(address)
    available_bps: uint256

event ClaimPaid:
    period: indexed(uint256)
    member: indexed(address)
    loss_wh: uint256
    amount_ueur: uint256
    paid_ueur: uint256
    queued_ueur: uint256

event QueuedPaid:
    member: indexed(address)
    amount_ueur: uint256

event Solvency:
    period: indexed(uint256)
    pool_ueur: uint256
    exposure_ueur: uint256
    owed_ueur: uint256

MAX_MEMBERS: constant(uint256) = 128
MAX_BATCH: constant(uint256) = 128
BPS: constant(uint256) = 10000

insurer: public(address)
oracle: public(address)
token: public(IERC20)
t0: public(uint256)
period_s: public(uint256)
price_ueur_per_kwh: public(uint256)
threshold_bps: public(uint256)
parametric: public(bool)
trigger_bps: public(uint256)
exit_bps: public(uint256)
DOMAIN_SEPARATOR: public(bytes32)

members: public(DynArray[address, MAX_MEMBERS])
meter_of: public(HashMap[address, address])
member_of_meter: public(HashMap[address, address])
sum_insured_ueur: public(HashMap[address, uint256])
paid_out_ueur: public(HashMap[address, uint256])
premium_ueur: public(HashMap[address, uint256])
cover_per_period_ueur: public(HashMap[address, uint256])
owed_ueur: public(HashMap[address, uint256])

expected_wh: public(HashMap[uint256, HashMap[address, uint256]])
expected_posted: public(HashMap[uint256, HashMap[address, bool]])
measured_wh: public(HashMap[uint256, HashMap[address, uint256]])
measured_posted: public(HashMap[uint256, HashMap[address, bool]])
outage: public(HashMap[uint256, HashMap[address, bool]])
claimed: public(HashMap[uint256, HashMap[address, bool]])
premium_paid: public(HashMap[uint256, HashMap[address, bool]])

total_premiums_ueur: public(uint256)
total_payouts_ueur: public(uint256)
total_owed_ueur: public(uint256)
claims_paid: public(uint256)


@deploy
def __init__(
    token: IERC20,
    oracle: address,
    t0: uint256,
    period_s: uint256,
    price_ueur_per_kwh: uint256,
    threshold_bps: uint256,
    parametric: bool,
    trigger_bps: uint256,
    exit_bps: uint256,
):
    """
    @param token EuroToken used for premiums and payouts.
    @param oracle Weather oracle posting expected production.
    @param t0 Block time at which period 0 starts [s].
    @param period_s Period length [s].
    @param price_ueur_per_kwh Value of lost energy [ueur/kWh] (indemnity variant).
    @param threshold_bps Shortfall below expected that opens a claim [bps of expected].
    @param parametric True for the parametric variant.
    @param trigger_bps Ratio measured/expected below which the parametric payout starts [bps].
    @param exit_bps Ratio at or below which the parametric payout is the whole cover per period [bps].
    """
    assert threshold_bps <= BPS, "insurance: threshold above 100 %"
    assert not parametric or (exit_bps < trigger_bps and trigger_bps <= BPS), "insurance: need exit < trigger <= 100 %"
    self.insurer = msg.sender
    self.oracle = oracle
    self.token = token
    self.t0 = t0
    self.period_s = period_s
    self.price_ueur_per_kwh = price_ueur_per_kwh
    self.threshold_bps = threshold_bps
    self.parametric = parametric
    self.trigger_bps = trigger_bps
    self.exit_bps = exit_bps
    self.DOMAIN_SEPARATOR = signed_reading.domain_separator(self)


@external
def join(member: address, meter: address, sum_insured_ueur: uint256, premium_ueur: uint256,
         cover_per_period_ueur: uint256):
    """
    @notice The insurer admits a member with its meter, sum insured and premium per period.
    @param member Member's account (pays premiums, receives payouts).
    @param meter Address of the member's production meter key.
    @param sum_insured_ueur Most the member can be paid over the contract's life [ueur].
    @param premium_ueur Premium per period [ueur].
    @param cover_per_period_ueur Parametric payout at or below the exit ratio [ueur].
    """
    assert msg.sender == self.insurer, "insurance: caller is not the insurer"
    assert self.meter_of[member] == empty(address), "insurance: already a member"
    assert meter != empty(address) and self.member_of_meter[meter] == empty(address), "insurance: bad meter"
    assert sum_insured_ueur > 0, "insurance: sum insured must be positive"
    self.members.append(member)
    self.meter_of[member] = meter
    self.member_of_meter[meter] = member
    self.sum_insured_ueur[member] = sum_insured_ueur
    self.premium_ueur[member] = premium_ueur
    self.cover_per_period_ueur[member] = cover_per_period_ueur
    log Joined(member=member, meter=meter, sum_insured_ueur=sum_insured_ueur, premium_ueur=premium_ueur,
               cover_per_period_ueur=cover_per_period_ueur)


@internal
@view
def _pool() -> uint256:
    return self.total_premiums_ueur - self.total_payouts_ueur


@external
@view
def pool_ueur() -> uint256:
    """
    @notice The pool: premiums received minus payouts made [ueur].
    """
    return self._pool()


@internal
def _pay(member: address, amount: uint256):
    if amount > 0:
        self.total_payouts_ueur += amount
        self.paid_out_ueur[member] += amount
        assert extcall self.token.transfer(member, amount), "insurance: payout failed"


@internal
def _pay_queue():
    """Pay queued claims, in membership order, as far as the pool allows."""
    pool: uint256 = self._pool()
    for member: address in self.members:
        if pool == 0 or self.total_owed_ueur == 0:
            break
        owed: uint256 = self.owed_ueur[member]
        if owed > 0:
            amount: uint256 = min(owed, pool)
            self.owed_ueur[member] -= amount
            self.total_owed_ueur -= amount
            pool -= amount
            self._pay(member, amount)
            log QueuedPaid(member=member, amount_ueur=amount)


@external
def collect_premiums(period: uint256):
    """
    @notice Pull every member's premium for `period` into the pool (each has approved this contract), then
            pay queued claims.
    @param period Period index.
    """
    assert msg.sender == self.insurer, "insurance: caller is not the insurer"
    for member: address in self.members:
        if not self.premium_paid[period][member]:
            self.premium_paid[period][member] = True
            amount: uint256 = self.premium_ueur[member]
            self.total_premiums_ueur += amount
            assert extcall self.token.transferFrom(member, self, amount), "insurance: premium transfer failed"
            log PremiumPaid(period=period, member=member, amount_ueur=amount)
    self._pay_queue()


@external
def post_expected(period: uint256, members: DynArray[address, MAX_BATCH], expected_wh: DynArray[uint256, MAX_BATCH],
                  weather_hash: bytes32):
    """
    @notice The oracle posts expected production under the observed weather, once per member and period.
    @param period Period index.
    @param members Members, in any order.
    @param expected_wh Expected production of each [Wh].
    @param weather_hash sha256 of the weather record used.
    """
    assert msg.sender == self.oracle, "insurance: caller is not the oracle"
    assert len(members) == len(expected_wh), "insurance: length mismatch"
    i: uint256 = 0
    for member: address in members:
        assert self.meter_of[member] != empty(address), "insurance: not a member"
        assert not self.expected_posted[period][member], "insurance: expected already posted"
        self.expected_posted[period][member] = True
        self.expected_wh[period][member] = expected_wh[i]
        log ExpectedPosted(period=period, member=member, expected_wh=expected_wh[i], weather_hash=weather_hash)
        i += 1


@external
def submit_readings(readings: DynArray[signed_reading.Reading, MAX_BATCH]):
    """
    @notice Measured production per member and period, signed by the member's meter (EIP-712), once each.
    @param readings Signed readings; any bad one reverts the batch.
    """
    for r: signed_reading.Reading in readings:
        member: address = self.member_of_meter[r.meter]
        assert member != empty(address), "insurance: unregistered meter"
        assert block.timestamp >= self.t0 + (r.period + 1) * self.period_s, "insurance: period not over"
        assert not self.measured_posted[r.period][member], "insurance: reading already recorded"
        assert r.quality == signed_reading.QUALITY_MEASURED, "insurance: estimated reading"
        if signed_reading.reading_signer(self.DOMAIN_SEPARATOR, r) != r.meter:
            assert signed_reading.signature_flaw(convert(r.v, uint256), r.s) == signed_reading.NO_FLAW, \
                "insurance: high-s signature"  # or a bad v
            raise "insurance: bad signature"
        self.measured_posted[r.period][member] = True
        self.measured_wh[r.period][member] = r.energy_wh
        log MeasuredAccepted(period=r.period, member=member, measured_wh=r.energy_wh)


@external
def report_outage(period: uint256, available_bps: uint256):
    """
    @notice A member reports an outage (full or partial) of its plant during `period`.
    @param period Period index.
    @param available_bps Share of the plant still available [bps].
    """
    assert self.meter_of[msg.sender] != empty(address), "insurance: not a member"
    assert available_bps < BPS, "insurance: nothing was out"
    assert not self.outage[period][msg.sender], "insurance: outage already reported"
    self.outage[period][msg.sender] = True
    log OutageReported(period=period, member=msg.sender, available_bps=available_bps)


@external
def claim(period: uint256, loss_wh: uint256) -> uint256:
    """
    @notice Claim for `period`: pays at once what the pool allows, queues the rest. Returns the amount due.
    @param period Period index.
    @param loss_wh Lost energy claimed (indemnity variant; at most expected - measured) [Wh].
    """
    member: address = msg.sender
    assert self.meter_of[member] != empty(address), "insurance: not a member"
    assert self.outage[period][member], "insurance: no outage recorded"
    assert not self.claimed[period][member], "insurance: period already claimed"
    assert self.expected_posted[period][member], "insurance: expected production missing"
    assert self.measured_posted[period][member], "insurance: measured production missing"
    expected: uint256 = self.expected_wh[period][member]
    measured: uint256 = self.measured_wh[period][member]
    assert expected > 0 and measured * BPS < expected * (BPS - self.threshold_bps), "insurance: shortfall below threshold"
    self.claimed[period][member] = True

    amount: uint256 = 0
    if self.parametric:
        ratio_bps: uint256 = measured * BPS // expected
        cover: uint256 = self.cover_per_period_ueur[member]
        if ratio_bps <= self.exit_bps:
            amount = cover
        elif ratio_bps < self.trigger_bps:
            amount = cover * (self.trigger_bps - ratio_bps) // (self.trigger_bps - self.exit_bps)
    else:
        assert loss_wh <= expected - measured, "insurance: claim above the loss"
        amount = loss_wh * self.price_ueur_per_kwh // 1000
    left: uint256 = self.sum_insured_ueur[member] - self.paid_out_ueur[member] - self.owed_ueur[member]
    assert amount <= left, "insurance: payout above sum insured"

    paid: uint256 = min(amount, self._pool())
    queued: uint256 = amount - paid
    self.claims_paid += 1
    self.owed_ueur[member] += queued
    self.total_owed_ueur += queued
    self._pay(member, paid)
    log ClaimPaid(period=period, member=member, loss_wh=loss_wh, amount_ueur=amount, paid_ueur=paid,
                  queued_ueur=queued)
    return amount


@external
def record_solvency(period: uint256):
    """
    @notice Log the pool, the exposure (sum insured not yet paid or owed) and what is owed, for `period`.
    @param period Period index.
    """
    exposure: uint256 = 0
    for member: address in self.members:
        exposure += self.sum_insured_ueur[member] - self.paid_out_ueur[member] - self.owed_ueur[member]
    log Solvency(period=period, pool_ueur=self._pool(), exposure_ueur=exposure,
                 owed_ueur=self.total_owed_ueur)


@external
@view
def remaining_cover_ueur(member: address) -> uint256:
    """
    @notice What `member` can still be paid [ueur].
    @param member Member's account.
    """
    return self.sum_insured_ueur[member] - self.paid_out_ueur[member] - self.owed_ueur[member]
