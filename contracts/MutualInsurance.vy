# pragma version 0.4.3
# pragma evm-version prague
"""
@title MutualInsurance
@notice Mutual insurance of power generation. Members join with a sum insured and a premium per period,
        paid into a shared pool. Per period the weather oracle posts each member's expected production (what
        the site would have produced, fully available, under the observed weather) and the member's meter
        posts its measured production as an EIP-712 signed reading, bounded by the meter's rated energy per
        period. The oracle records outages (from the plant's availability record, not the member's word); a
        member with an outage recorded for the period claims; the contract checks the shortfall against the
        threshold and pays from the pool: indemnity = loss x price (loss <= expected - measured), or
        parametric = cover x (trigger - ratio) / (trigger - exit) between the trigger and exit ratios
        (Etherisc's AYII design), ratio = measured / expected unrounded (one floor, of the payout). Payouts
        are capped at what is left of the sum insured (the part above it is logged, not paid); what the pool
        cannot pay now is queued and paid first from later premiums. The pool never goes negative. Premiums
        are collected for the current or the next period only.
@dev Energy in Wh, money in ueur, ratios in bps. Pool = premiums - payouts, always. Every amount is bounded
     (MAX_*), so no product overflows; time arithmetic never overflows (periods are counted from block time).
     Over 400 lines: one contract's whole mutual (membership, premiums, oracle, readings, outages, claims, queue).
"""
from ethereum.ercs import IERC20
import signed_reading

event Joined:
    member: indexed(address)
    meter: indexed(address)
    sum_insured_ueur: uint256
    premium_ueur: uint256
    cover_per_period_ueur: uint256
    max_wh_per_period: uint256

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
    beyond_cover_ueur: uint256  # the payout above what was left of the sum insured: never paid

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
MAX_PERIOD_S: constant(uint256) = 366 * 86400  # a period of at most a year
MAX_T0: constant(uint256) = 2**34  # block time of period 0 at most 2**34 s (the year 2514): no time sum overflows
MAX_PRICE_UEUR_PER_KWH: constant(uint256) = 10**9  # 1 000 EUR/kWh
MAX_UEUR: constant(uint256) = 10**18  # 10**12 EUR: a sum insured or premium above is a typo
MAX_WH_PER_PERIOD: constant(uint256) = 10**13  # 10 TWh in one period

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
max_wh_per_period: public(HashMap[address, uint256])
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
    @param t0 Block time at which period 0 starts [s], at most MAX_T0.
    @param period_s Period length [s], 1 to MAX_PERIOD_S.
    @param price_ueur_per_kwh Value of lost energy [ueur/kWh] (indemnity variant), at most MAX_PRICE_UEUR_PER_KWH.
    @param threshold_bps Shortfall below expected that opens a claim [bps of expected], below 100 %.
    @param parametric True for the parametric variant.
    @param trigger_bps Ratio measured/expected below which the parametric payout starts [bps]; the threshold
           must not refuse a ratio the index pays: threshold + trigger <= 100 % (parametric variant only).
    @param exit_bps Ratio at or below which the parametric payout is the whole cover per period [bps].
    """
    assert token.address != empty(address) and oracle != empty(address), "insurance: zero address"
    assert period_s > 0 and period_s <= MAX_PERIOD_S, "insurance: period_s out of range"
    assert t0 <= MAX_T0, "insurance: t0 out of range"
    assert price_ueur_per_kwh <= MAX_PRICE_UEUR_PER_KWH, "insurance: price too high"
    assert threshold_bps < BPS, "insurance: threshold must be below 100 %"
    assert not parametric or (exit_bps < trigger_bps and trigger_bps <= BPS), "insurance: need exit < trigger <= 100 %"
    assert not parametric or threshold_bps + trigger_bps <= BPS, \
        "insurance: threshold refuses ratios the index pays (need threshold + trigger <= 100 %)"
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
         cover_per_period_ueur: uint256, max_wh_per_period: uint256):
    """
    @notice The insurer admits a member with its meter, sum insured, premium per period and rated energy.
    @param member Member's account (pays premiums, receives payouts).
    @param meter Address of the member's production meter key.
    @param sum_insured_ueur Most the member can be paid over the contract's life [ueur], 1 to MAX_UEUR.
    @param premium_ueur Premium per period [ueur], at most MAX_UEUR.
    @param cover_per_period_ueur Parametric payout at or below the exit ratio [ueur], at most the sum insured.
    @param max_wh_per_period Most the site can produce in a period [Wh] (rated power x period x 1.1, the
           meter's range), 1 to MAX_WH_PER_PERIOD: bounds its readings and its expected production.
    """
    assert msg.sender == self.insurer, "insurance: caller is not the insurer"
    assert member != empty(address), "insurance: zero address"
    assert self.meter_of[member] == empty(address), "insurance: already a member"
    assert meter != empty(address) and self.member_of_meter[meter] == empty(address), "insurance: bad meter"
    assert len(self.members) < MAX_MEMBERS, "insurance: too many members"
    assert sum_insured_ueur > 0 and sum_insured_ueur <= MAX_UEUR, "insurance: sum insured out of range"
    assert premium_ueur <= MAX_UEUR, "insurance: premium out of range"
    assert cover_per_period_ueur <= sum_insured_ueur, "insurance: cover above sum insured"
    assert max_wh_per_period > 0 and max_wh_per_period <= MAX_WH_PER_PERIOD, "insurance: rated energy out of range"
    self.members.append(member)
    self.meter_of[member] = meter
    self.member_of_meter[meter] = member
    self.sum_insured_ueur[member] = sum_insured_ueur
    self.premium_ueur[member] = premium_ueur
    self.cover_per_period_ueur[member] = cover_per_period_ueur
    self.max_wh_per_period[member] = max_wh_per_period
    log Joined(member=member, meter=meter, sum_insured_ueur=sum_insured_ueur, premium_ueur=premium_ueur,
               cover_per_period_ueur=cover_per_period_ueur, max_wh_per_period=max_wh_per_period)


@internal
@view
def _periods_started() -> uint256:
    """Periods started by now (0 before t0): the current period is this minus 1, the next one this."""
    if block.timestamp < self.t0:
        return 0
    return (block.timestamp - self.t0) // self.period_s + 1


@internal
@view
def _periods_over() -> uint256:
    """Periods over by now: period p is over when p < this."""
    if block.timestamp < self.t0:
        return 0
    return (block.timestamp - self.t0) // self.period_s


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
            pay queued claims. Premiums are paid in advance: for the current or the next period only.
    @param period Period index: the current one or the next (period 0 before t0).
    """
    assert msg.sender == self.insurer, "insurance: caller is not the insurer"
    started: uint256 = self._periods_started()
    assert period <= started and started - period <= 1, "insurance: premiums for the current or next period only"
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
    @param period Period index, of a period that is over.
    @param members Members, in any order.
    @param expected_wh Expected production of each [Wh], at most its rated energy per period.
    @param weather_hash sha256 of the weather record used.
    """
    assert msg.sender == self.oracle, "insurance: caller is not the oracle"
    assert len(members) == len(expected_wh), "insurance: length mismatch"
    assert period < self._periods_over(), "insurance: period not over"
    i: uint256 = 0
    for member: address in members:
        assert self.meter_of[member] != empty(address), "insurance: not a member"
        assert expected_wh[i] <= self.max_wh_per_period[member], "insurance: expected out of range"
        assert not self.expected_posted[period][member], "insurance: expected already posted"
        self.expected_posted[period][member] = True
        self.expected_wh[period][member] = expected_wh[i]
        log ExpectedPosted(period=period, member=member, expected_wh=expected_wh[i], weather_hash=weather_hash)
        i += 1


@external
def submit_readings(readings: DynArray[signed_reading.Reading, MAX_BATCH]):
    """
    @notice Measured production per member and period, signed by the member's meter (EIP-712), once each;
            anyone may relay them (the meter's signature is the authority).
    @param readings Signed readings, each of a period that is over and at most the member's rated energy per
           period; any bad one reverts the batch.
    """
    over: uint256 = self._periods_over()
    for r: signed_reading.Reading in readings:
        member: address = self.member_of_meter[r.meter]
        assert member != empty(address), "insurance: unregistered meter"
        assert r.period < over, "insurance: period not over"
        assert not self.measured_posted[r.period][member], "insurance: reading already recorded"
        assert r.quality == signed_reading.QUALITY_MEASURED, "insurance: estimated reading"
        assert r.energy_wh <= self.max_wh_per_period[member], "insurance: reading out of range"
        if signed_reading.reading_signer(self.DOMAIN_SEPARATOR, r) != r.meter:
            assert signed_reading.signature_flaw(convert(r.v, uint256), r.s) == signed_reading.NO_FLAW, \
                "insurance: high-s signature"  # or a bad v
            raise "insurance: bad signature"
        self.measured_posted[r.period][member] = True
        self.measured_wh[r.period][member] = r.energy_wh
        log MeasuredAccepted(period=r.period, member=member, measured_wh=r.energy_wh)


@external
def report_outage(period: uint256, member: address, available_bps: uint256):
    """
    @notice The oracle records an outage (full or partial) of a member's plant during `period`, from the
            plant's availability record: a member's own word opens no claim.
    @param period Period index, of a period that has started.
    @param member Member whose plant was (partly) out.
    @param available_bps Share of the plant still available [bps], below 100 %.
    """
    assert msg.sender == self.oracle, "insurance: caller is not the oracle"
    assert self.meter_of[member] != empty(address), "insurance: not a member"
    assert period < self._periods_started(), "insurance: period not started"
    assert available_bps < BPS, "insurance: nothing was out"
    assert not self.outage[period][member], "insurance: outage already reported"
    self.outage[period][member] = True
    log OutageReported(period=period, member=member, available_bps=available_bps)


@external
def claim(period: uint256, loss_wh: uint256) -> uint256:
    """
    @notice Claim for `period`: the payout, capped at what is left of the sum insured, is paid at once as far
            as the pool allows, the rest queued. Returns the amount due (paid + queued).
    @param period Period index, with an outage recorded.
    @param loss_wh Lost energy claimed, at most expected - measured [Wh] (the indemnity variant pays it; the
           parametric variant pays the index and logs it).
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
    assert loss_wh <= expected - measured, "insurance: claim above the loss"
    self.claimed[period][member] = True

    amount: uint256 = 0
    if self.parametric:
        # ratio r = measured / expected, not rounded: cover x (trigger - r) / (trigger - exit), floored once
        cover: uint256 = self.cover_per_period_ueur[member]
        if measured * BPS <= self.exit_bps * expected:
            amount = cover
        elif measured * BPS < self.trigger_bps * expected:
            amount = cover * (self.trigger_bps * expected - measured * BPS) \
                // ((self.trigger_bps - self.exit_bps) * expected)
    else:
        amount = loss_wh * self.price_ueur_per_kwh // 1000
    left: uint256 = self.sum_insured_ueur[member] - self.paid_out_ueur[member] - self.owed_ueur[member]
    beyond: uint256 = 0
    if amount > left:
        beyond = amount - left
        amount = left

    paid: uint256 = min(amount, self._pool())
    queued: uint256 = amount - paid
    self.claims_paid += 1
    self.owed_ueur[member] += queued
    self.total_owed_ueur += queued
    self._pay(member, paid)
    log ClaimPaid(period=period, member=member, loss_wh=loss_wh, amount_ueur=amount, paid_ueur=paid,
                  queued_ueur=queued, beyond_cover_ueur=beyond)
    return amount


@external
def record_solvency(period: uint256):
    """
    @notice The insurer logs the pool, the exposure (sum insured not yet paid or owed) and what is owed, for
            `period` (the run's summary reads these).
    @param period Period index, of a period that is over.
    """
    assert msg.sender == self.insurer, "insurance: caller is not the insurer"
    assert period < self._periods_over(), "insurance: period not over"
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
