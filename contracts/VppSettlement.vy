# pragma version 0.4.3
# pragma evm-version prague
# pragma optimize codesize
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
     so that every period pays out exactly revenue + penalties. Compiled for code size (EIP-170: ~530 bytes smaller
     than for gas; settle_day executes within 0.1 % of the same opcodes). Signatures are checked through the
     signed_reading module.
     Over 400 lines: one contract's whole state machine (membership, declarations, readings, period and day settlement).
"""
from ethereum.ercs import IERC20
import signed_reading

interface EuroTokenBatch:  # EuroToken's batch payment (contracts/EuroToken.vy), used by settle_day. It returns
    # True or reverts with its reason (bubbled up by vyper), so its result is not read: an assert costs ~160 bytes
    def transfer_packed(payments: DynArray[uint256, 256]): nonpayable

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

event DeclarationsCommitted:
    first_period: indexed(uint256)
    n_periods: uint256
    root: bytes32

event MeterDaySettled:
    first_period: indexed(uint256)
    meter: indexed(address)
    member: indexed(address)
    delivered_wh: uint256
    shortfall_wh: uint256
    penalty_ueur: uint256
    payout_ueur: uint256
    n_estimated: uint256

MAX_MEMBERS: constant(uint256) = 256
MAX_DAY_PERIODS: constant(uint256) = signed_reading.MAX_DAY_VALUES  # a day of hourly periods per commitment
MAX_DAY_WH: constant(uint256) = 2**32 - 1  # settle_day refuses larger readings (they run in 64-bit lanes)
MAX_PENALTY_UEUR_PER_KWH: constant(uint256) = 2**20 * 1000  # ~1049 EUR/kWh: settle_day's penalty lanes stay exact
MAX_PRICE_UEUR_PER_KWH: constant(uint256) = 2**20 * 1000  # prices below it (~1049 EUR/kWh): revenues never overflow
MAX_WH_PER_PERIOD: constant(uint256) = 2**48  # a meter's registered range, at most ~281 TWh per period
DAY_ROW_BYTES: constant(uint256) = 96  # one member's day of declarations: MAX_DAY_PERIODS x 4 bytes
MAX_DAY_BYTES: constant(uint256) = 24576  # MAX_MEMBERS x DAY_ROW_BYTES
MAX_BATCH: constant(uint256) = 256
MAX_T0: constant(uint256) = 2**34  # block time of period 0 at most 2**34 s (the year 2514): no time sum overflows
MAX_N_PERIODS: constant(uint256) = 2**32  # the twin's longest run (ten years) at 1 s periods is 3.2 * 10**8
MAX_PERIOD_S: constant(uint256) = 86400  # a settlement period of at most a day (the twin's run.settlement_s)
MAX_METER_BATCHES: constant(uint256) = 128
SHARE_TOTAL_BPS: constant(uint256) = 10000
PAYMENT_AMOUNT_SHIFT: constant(uint256) = 160  # EuroToken.transfer_packed: amount << 160 | receiver
ADDRESS_MASK: constant(uint256) = 2**160 - 1
MAX_DAY_POOL_UEUR: constant(uint256) = 2**96 - 1  # a settle_day's pool, so that each payout packs beside an address
PAYOUT_WORDS: constant(uint256) = 6  # MAX_DAY_PERIODS / 4: pool remainders of 4 periods per word
PAYOUT_MAGIC: constant(uint256) = 109951163  # ceil(2**40 / 10 000)
# bits [40, 64) of each 64-bit lane
PAYOUT_QUOTIENT_BITS: constant(uint256) = (2**24 - 1) * 2**40 * (1 + 2**64 + 2**128 + 2**192)
LANES_ONES: constant(uint256) = 1 + 2**64 + 2**128 + 2**192  # 1 in each 64-bit lane
LANES_HIGH: constant(uint256) = 2**63 * LANES_ONES  # bit 63 of each lane
LANES_LO32: constant(uint256) = (2**32 - 1) * LANES_ONES  # bits [0, 32) of each lane
LANE_MASK: constant(uint256) = 2**64 - 1
DIV10K_MAGIC: constant(uint256) = 3518437209  # ceil(2**45 / 10 000)
DIV1K_MAGIC: constant(uint256) = 2199023256  # ceil(2**41 / 1000)
DIV1K_SMALL_MAGIC: constant(uint256) = 1073742  # ceil(2**30 / 1000)

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
# what settle_day and commit_declarations read of the i-th member (registration order) in one slot (one cold read
# instead of three): meter | min(max_wh_per_period, MAX_DAY_WH) << 160 | share_bps << 192
day_terms: HashMap[uint256, uint256]
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

# day settlement: one slot per committed day, two packed bitmaps of periods (bit p % 256 of word p // 256)
day_root: public(HashMap[uint256, bytes32])
committed_bits: public(HashMap[uint256, uint256])
day_settled_bits: public(HashMap[uint256, uint256])


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
    @param t0 Block time at which period 0 starts [s], at most MAX_T0.
    @param period_s Settlement period length [s], 1 to MAX_PERIOD_S.
    @param n_periods Number of periods in the horizon, at most MAX_N_PERIODS.
    @param price_ueur_per_kwh Price paid for delivered energy [ueur/kWh], below 2**20 x 1000.
    @param penalty_ueur_per_kwh Penalty on shortfall beyond tolerance [ueur/kWh], below 2**20 x 1000.
    @param tolerance_bps Shortfall tolerated without penalty, share of the declaration [bps].
    """
    assert t0 <= MAX_T0, "vpp: t0 out of range"
    assert period_s > 0 and period_s <= MAX_PERIOD_S, "vpp: period_s out of range"
    assert n_periods <= MAX_N_PERIODS, "vpp: too many periods"
    assert tolerance_bps <= SHARE_TOTAL_BPS, "vpp: tolerance above 100 %"
    assert penalty_ueur_per_kwh < MAX_PENALTY_UEUR_PER_KWH, "vpp: penalty rate too high"
    assert price_ueur_per_kwh < MAX_PRICE_UEUR_PER_KWH, "vpp: price above the maximum"
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
    @param share_bps Share of each period's pool [bps], 1 to 10 000.
    @param max_wh_per_period Largest energy the meter can read in a period [Wh] (rated power x period x 1.1), at
           most 2**48; bounds the member's readings and declarations.
    """
    self._only_operator()
    assert not self.sealed, "vpp: membership is sealed"
    assert member != empty(address) and meter != empty(address), "vpp: zero address"
    assert self.meter_of[member] == empty(address), "vpp: member already registered"
    assert self.member_of_meter[meter] == empty(address), "vpp: meter already registered"
    assert share_bps > 0 and share_bps <= SHARE_TOTAL_BPS, "vpp: share must be 1 to 10000 bps"
    assert max_wh_per_period <= MAX_WH_PER_PERIOD, "vpp: meter range above 2**48 Wh"
    self.day_terms[len(self.members)] = convert(meter, uint256) | (min(max_wh_per_period, MAX_DAY_WH) << 160) \
        | (share_bps << 192)
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
    # the token first (its own reason if the allowance or balance is short): what it moved fits in a balance, so
    # the sum below cannot overflow (the token is EuroToken, set at deployment: no call back)
    assert extcall self.token.transferFrom(msg.sender, self, amount_ueur), "vpp: collateral transfer failed"
    self.collateral_ueur[msg.sender] += amount_ueur
    log CollateralDeposited(member=msg.sender, amount_ueur=amount_ueur)


@external
def declare(period: uint256, energy_wh: DynArray[uint256, MAX_MEMBERS]):
    """
    @notice Declare every member's energy for `period`, before the period starts, once.
    @param period Period index.
    @param energy_wh Declared energy per member, in registration order [Wh], each within its meter's range.
    """
    self._only_operator()
    assert self.sealed, "vpp: membership not sealed"
    assert period < self.n_periods, "vpp: period out of range"
    assert block.timestamp < self.t0 + period * self.period_s, "vpp: late declaration"
    assert not self.declared[period], "vpp: period already declared"
    assert not self._is_committed(period), "vpp: period is committed for day settlement"
    assert len(energy_wh) == len(self.members), "vpp: one declaration per member"
    self.declared[period] = True
    i: uint256 = 0
    for member: address in self.members:
        assert energy_wh[i] <= self.max_wh_per_period[self.meter_of[member]], \
            "vpp: declaration above the meter's range"
        self.declared_wh[period][member] = energy_wh[i]
        log Declared(period=period, member=member, energy_wh=energy_wh[i])
        i += 1


@external
def publish_price(period: uint256, price_ueur_per_kwh: uint256):
    """
    @notice The buyer publishes the price of `period` before it starts (time-of-use and dynamic tariffs);
            a period without a published price is paid at the default price.
    @param period Period index.
    @param price_ueur_per_kwh Price paid for energy delivered in `period` [ueur/kWh], 1 to 2**20 x 1000 - 1.
    """
    assert msg.sender == self.buyer, "vpp: caller is not the buyer"
    assert period < self.n_periods, "vpp: period out of range"
    assert block.timestamp < self.t0 + period * self.period_s, "vpp: late price"
    assert price_ueur_per_kwh > 0, "vpp: price must be positive"
    assert price_ueur_per_kwh < MAX_PRICE_UEUR_PER_KWH, "vpp: price above the maximum"
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
        if signed_reading.reading_signer(self.DOMAIN_SEPARATOR, r) != r.meter:
            self._refuse_signature(convert(r.v, uint256), r.s)
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
        signer: address = signed_reading.batch_signer(self.DOMAIN_SEPARATOR, b)
        if signer != b.meter:
            self._refuse_signature(convert(b.v, uint256), b.s)
        elif signer == empty(address):  # meter 0 (refused per value below as unregistered): a refused form first
            if signed_reading.signature_flaw(convert(b.v, uint256), b.s) != signed_reading.NO_FLAW:
                self._refuse_signature(convert(b.v, uint256), b.s)
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
    assert not self._is_committed(period), "vpp: period is committed for day settlement"
    assert not self.reported[period][meter], "vpp: reading already recorded"
    assert quality <= signed_reading.QUALITY_ESTIMATED, "vpp: unknown quality flag"
    assert energy_wh <= self.max_wh_per_period[meter], "vpp: reading out of range"
    return member


@internal
@pure
def _refuse_signature(v: uint256, s: bytes32):
    """
    @notice Reverts with why a reading's signature did not recover its meter.
    """
    assert signed_reading.signature_flaw(v, s) == signed_reading.NO_FLAW, "vpp: high-s signature"  # or a bad v
    raise "vpp: bad signature"


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
    assert not self._is_committed(period), "vpp: period is committed for day settlement"
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


# --- day settlement ----------------------------------------------------------------------------------------------
@internal
@view
def _is_committed(period: uint256) -> bool:
    return (self.committed_bits[period // 256] >> (period % 256)) & 1 == 1


@internal
@pure
def _range_mask(first_period: uint256, n: uint256, word: uint256) -> uint256:
    """
    @notice Bits of periods [first_period, first_period + n) that fall in bitmap word `word`.
    """
    lo: uint256 = max(first_period, word * 256)
    hi: uint256 = min(first_period + n, word * 256 + 256)
    if hi <= lo:
        return 0
    width: uint256 = hi - lo
    ones: uint256 = max_value(uint256)
    if width < 256:
        ones = (1 << width) - 1
    return ones << (lo - word * 256)


@internal
@pure
def _declarations_root(first_period: uint256, n_periods: uint256, declared_wh: Bytes[MAX_DAY_BYTES]) -> bytes32:
    """
    @notice keccak256(abi_encode(first_period, n_periods, keccak256(declared_wh))): the commitment of a day's
            declarations. `declared_wh` packs the matrix member-major, one row of DAY_ROW_BYTES (96) per member in
            registration order: 3 words of 8 periods, 4-byte big-endian unsigned values [Wh]; within word j the
            8 values are periods 8j + (3, 7, 2, 6, 1, 5, 0, 4) in this order, so that splitting the word into its
            high and low 32 bits of each 64-bit lane gives periods 8j..8j+3 and 8j+4..8j+7 in lane order. Periods
            beyond n_periods are 0.
    @dev Packed bytes rather than uint256[]: vyper copies an argument into memory at its full bound and memory
         costs grow quadratically; 4 bytes per value also quarter the calldata.
    """
    return keccak256(abi_encode(first_period, n_periods, keccak256(declared_wh)))


@external
@view
def declarations_root(first_period: uint256, n_periods: uint256, declared_wh: Bytes[MAX_DAY_BYTES]) -> bytes32:
    """
    @notice The commitment `commit_declarations` stores for these declarations (for auditors and wrappers).
    @param first_period First period of the day.
    @param n_periods Number of periods in the day.
    @param declared_wh Declared energy, member-major rows of 96 bytes (see _declarations_root) [Wh].
    """
    return self._declarations_root(first_period, n_periods, declared_wh)


@external
@view
def period_settled(period: uint256) -> bool:
    """
    @notice True once `period` is settled, by `settle` or by `settle_day`.
    @param period Period index.
    """
    return self.settled[period] or (self.day_settled_bits[period // 256] >> (period % 256)) & 1 == 1


@external
def commit_declarations(first_period: uint256, n_periods: uint256, declared_wh: Bytes[MAX_DAY_BYTES]):
    """
    @notice Declare every member's energy for the `n_periods` periods from `first_period`, before the first
            starts, in one commitment: one slot holds the root of the matrix; the values stay in this call's
            calldata (anyone can audit them against the root logged in DeclarationsCommitted). Committed
            periods settle only through `settle_day`, never through `declare`/`settle`.
    @param first_period First period of the day.
    @param n_periods Number of periods (1..24).
    @param declared_wh Declared energy, member-major rows of 96 bytes (see _declarations_root) [Wh].
    """
    self._only_operator()
    assert self.sealed, "vpp: membership not sealed"
    assert n_periods > 0 and n_periods <= MAX_DAY_PERIODS, "vpp: 1 to 24 periods per day"
    assert first_period < self.n_periods and n_periods <= self.n_periods - first_period, "vpp: period out of range"
    assert block.timestamp < self.t0 + first_period * self.period_s, "vpp: late declaration"
    n_members: uint256 = len(self.members)
    assert len(declared_wh) == DAY_ROW_BYTES * n_members, "vpp: one declaration per member and period"
    # a row's bytes beyond the day must be 0 (settle_day runs on every lane); every value within the member's
    # meter range (as settle_day reads it: min(range, 2**32 - 1), the most 4 bytes hold), compared per 64-bit lane
    # as settle_day compares readings: 2**63 + max - d keeps bit 63 iff d <= max
    pad: uint256[PAYOUT_WORDS] = empty(uint256[PAYOUT_WORDS])
    for k: uint256 in range(n_periods, MAX_DAY_PERIODS, bound=MAX_DAY_PERIODS):
        pad[k // 4] |= LANE_MASK << (64 * (k % 4))
    p0: uint256 = pad[0]
    p1: uint256 = pad[1]
    p2: uint256 = pad[2]
    p3: uint256 = pad[3]
    p4: uint256 = pad[4]
    p5: uint256 = pad[5]
    lo32: uint256 = LANES_LO32
    high: uint256 = LANES_HIGH
    beyond: uint256 = 0
    within: uint256 = high
    for i: uint256 in range(n_members, bound=MAX_MEMBERS):
        top: uint256 = unsafe_mul((self.day_terms[i] >> 160) & MAX_DAY_WH, LANES_ONES) | high
        at: uint256 = unsafe_mul(i, DAY_ROW_BYTES)
        x0: uint256 = convert(extract32(declared_wh, at), uint256)
        x1: uint256 = convert(extract32(declared_wh, unsafe_add(at, 32)), uint256)
        x2: uint256 = convert(extract32(declared_wh, unsafe_add(at, 64)), uint256)
        d0: uint256 = (x0 >> 32) & lo32
        d1: uint256 = x0 & lo32
        d2: uint256 = (x1 >> 32) & lo32
        d3: uint256 = x1 & lo32
        d4: uint256 = (x2 >> 32) & lo32
        d5: uint256 = x2 & lo32
        beyond |= (d0 & p0) | (d1 & p1) | (d2 & p2) | (d3 & p3) | (d4 & p4) | (d5 & p5)
        within &= unsafe_sub(top, d0) & unsafe_sub(top, d1) & unsafe_sub(top, d2) & unsafe_sub(top, d3) \
            & unsafe_sub(top, d4) & unsafe_sub(top, d5)
    assert beyond == 0, "vpp: one declaration per member and period"
    assert within & high == high, "vpp: declaration above the meter's range"
    for k: uint256 in range(n_periods, bound=MAX_DAY_PERIODS):
        assert not self.declared[first_period + k], "vpp: period already declared"
    w0: uint256 = first_period // 256
    for w: uint256 in range(w0, w0 + 2, bound=2):
        mask: uint256 = self._range_mask(first_period, n_periods, w)
        if mask != 0:
            assert self.committed_bits[w] & mask == 0, "vpp: period already committed"
            self.committed_bits[w] |= mask
    root: bytes32 = self._declarations_root(first_period, n_periods, declared_wh)
    self.day_root[first_period] = root
    log DeclarationsCommitted(first_period=first_period, n_periods=n_periods, root=root)


@external
def settle_day(first_period: uint256, n: uint256, declared_wh: Bytes[MAX_DAY_BYTES],
               batches: DynArray[signed_reading.DayBatch, MAX_MEMBERS]):
    """
    @notice Settle a committed day at once, with one signed ReadingBatch per member's meter (in registration
            order, each covering exactly the day's periods; a meter whose data is missing signs estimates with
            the quality flag set: a day settles only with every member's batch). Per member and period the
            checks, penalties (from collateral), revenue at the period's price and pool redistribution by share
            (dust to the last member) are those of `settle`, so every per-member total equals the sum of what
            settling each period would pay; the buyer pays the day's revenue in one transfer, each member is
            paid once (all in one EuroToken.transfer_packed; a day's pool must stay below 2**96 ueur), its
            collateral written once. Logs one PeriodSettled per period and one MeterDaySettled per meter.
    @dev The day's arithmetic runs on words of 4 periods in 64-bit lanes (declarations < 2**32 by their packing,
         readings < 2**32 checked: settle_day refuses readings of 2**32 Wh or more even if a meter's registered
         range is larger; sums of 256 members stay < 2**40 per lane); penalties too (the constructor bounds the
         rate). A member whose collateral caps the day's penalties has it drawn in period order, lane by lane, as
         `settle` draws it. Quality flags are read one by one only when some flag is not 0 (known from their hash).
    @param first_period First period of the committed day.
    @param n Number of periods of the day, as committed.
    @param declared_wh The committed declarations, packed as for `commit_declarations` [Wh].
    @param batches Per member, in registration order: (meter, first_period, n_values, energy_wh[24], quality[24],
           v, r, s), the first n_values of each array signed as a ReadingBatch, the rest 0.
    """
    self._only_operator()
    root: bytes32 = self.day_root[first_period]
    assert root != empty(bytes32), "vpp: day not committed"
    n_members: uint256 = len(self.members)
    assert n > 0 and n <= MAX_DAY_PERIODS and len(declared_wh) == DAY_ROW_BYTES * n_members \
        and self._declarations_root(first_period, n, declared_wh) == root, \
        "vpp: declarations do not match the commitment"
    assert block.timestamp >= self.t0 + (first_period + n) * self.period_s, "vpp: period not over"
    w0: uint256 = first_period // 256
    for w: uint256 in range(w0, w0 + 2, bound=2):
        mask: uint256 = self._range_mask(first_period, n, w)
        if mask != 0:
            assert self.day_settled_bits[w] & mask == 0, "vpp: day already settled"
            self.day_settled_bits[w] |= mask
    assert len(batches) == n_members, "vpp: one batch per member"

    tol: uint256 = self.tolerance_bps
    keep: uint256 = unsafe_sub(SHARE_TOTAL_BPS, tol)  # tol <= 10 000 (constructor)
    penalty_rate: uint256 = self.penalty_ueur_per_kwh
    rate_hi: uint256 = penalty_rate // 1000  # < 2**20 (constructor): amounts < 2**53 per lane, 256 members < 2**61
    rate_lo: uint256 = penalty_rate % 1000
    domain: bytes32 = self.DOMAIN_SEPARATOR
    n_bytes: uint256 = unsafe_mul(n, 32)
    full_day: bool = n == MAX_DAY_PERIODS
    zero_quality_hash: bytes32 = keccak256(slice(abi_encode(empty(uint256[MAX_DAY_PERIODS]), ensure_tuple=False),
                                                 0, n_bytes))
    high: uint256 = LANES_HIGH  # lane constants in memory: a PUSH32 per use would not fit EIP-170
    lo32: uint256 = LANES_LO32
    quotient_bits: uint256 = PAYOUT_QUOTIENT_BITS
    m19: uint256 = (2**19 - 1) * LANES_ONES
    m23: uint256 = (2**23 - 1) * LANES_ONES
    m10: uint256 = 1023 * LANES_ONES
    tol_magic: uint256 = unsafe_mul(tol, PAYOUT_MAGIC)
    rate_lo_magic: uint256 = unsafe_mul(rate_lo, DIV1K_SMALL_MAGIC)
    dp0: uint256 = 0
    dp1: uint256 = 0
    dp2: uint256 = 0
    dp3: uint256 = 0
    dp4: uint256 = 0
    dp5: uint256 = 0
    ep0: uint256 = 0
    ep1: uint256 = 0
    ep2: uint256 = 0
    ep3: uint256 = 0
    ep4: uint256 = 0
    ep5: uint256 = 0
    pp0: uint256 = 0
    pp1: uint256 = 0
    pp2: uint256 = 0
    pp3: uint256 = 0
    pp4: uint256 = 0
    pp5: uint256 = 0
    penalties_p: uint256[MAX_DAY_PERIODS] = empty(uint256[MAX_DAY_PERIODS])
    penalty_m: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    delivered_m: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    shortfall_m: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    estimated_m: uint256[MAX_MEMBERS] = empty(uint256[MAX_MEMBERS])
    for i: uint256 in range(n_members, bound=MAX_MEMBERS):
        b: signed_reading.DayBatch = batches[i]
        member: address = self.members[i]
        terms: uint256 = self.day_terms[i]  # (one storage read: the batch of the i-th member when in order)
        if terms & ADDRESS_MASK != b.meter:
            assert b.meter <= ADDRESS_MASK and self.member_of_meter[convert(b.meter, address)] != empty(address), \
                "vpp: unregistered meter"
            raise "vpp: batches not in registration order"
        meter: address = convert(b.meter, address)  # the i-th member's registered meter
        beyond: uint256 = 0  # values beyond the day must be 0 (unsigned)
        if n < MAX_DAY_PERIODS:
            for k: uint256 in range(n, MAX_DAY_PERIODS, bound=MAX_DAY_PERIODS):
                beyond |= b.energy_wh[k]
        assert b.first_period == first_period and b.n_values == n and beyond == 0, "vpp: batch does not cover the day"
        energy_hash: bytes32 = empty(bytes32)
        quality_hash: bytes32 = empty(bytes32)
        if full_day:
            energy_hash = keccak256(abi_encode(b.energy_wh, ensure_tuple=False))
            quality_hash = keccak256(abi_encode(b.quality, ensure_tuple=False))
        else:
            energy_hash = keccak256(slice(abi_encode(b.energy_wh, ensure_tuple=False), 0, n_bytes))
            quality_hash = keccak256(slice(abi_encode(b.quality, ensure_tuple=False), 0, n_bytes))
        # hashStruct(ReadingBatch) as signed_reading.batch_signer hashes it, inline (the 53-word batch is not copied
        # into a call, and a call for the hash alone costs ~20 opcodes per member); recovered by signed_reading
        struct_hash: bytes32 = keccak256(abi_encode(signed_reading.READING_BATCH_TYPEHASH, meter, first_period,
                                                    energy_hash, quality_hash))
        if signed_reading.recover(domain, struct_hash, b.v, b.r, b.s) != meter:
            self._refuse_signature(b.v, b.s)
        if quality_hash != zero_quality_hash:  # else every flag is 0 (MEASURED)
            n_estimated: uint256 = 0
            for k: uint256 in range(n, bound=MAX_DAY_PERIODS):
                q: uint256 = b.quality[k]
                assert q <= convert(signed_reading.QUALITY_ESTIMATED, uint256), "vpp: unknown quality flag"
                n_estimated = unsafe_add(n_estimated, q)
            estimated_m[i] = n_estimated
        # settle_day refuses readings of 2**32 Wh or more (the range is capped so), so that the lanes below stay clean
        max_wh: uint256 = (terms >> 160) & MAX_DAY_WH
        # declarations: 3 words of 8 x 4 bytes, split into 6 words of 4 periods in 64-bit lanes (lane j of word w =
        # period 4w + j; see _declarations_root for the byte order)
        at: uint256 = unsafe_mul(i, DAY_ROW_BYTES)
        x0: uint256 = convert(extract32(declared_wh, unsafe_add(at, 0)), uint256)
        x1: uint256 = convert(extract32(declared_wh, unsafe_add(at, 32)), uint256)
        x2: uint256 = convert(extract32(declared_wh, unsafe_add(at, 64)), uint256)
        d0: uint256 = (x0 >> 32) & lo32
        d1: uint256 = x0 & lo32
        d2: uint256 = (x1 >> 32) & lo32
        d3: uint256 = x1 & lo32
        d4: uint256 = (x2 >> 32) & lo32
        d5: uint256 = x2 & lo32
        # the signed values, 4 periods per word in 64-bit lanes (clean once every value is < 2**32, checked next)
        e0: uint256 = b.energy_wh[0] | (b.energy_wh[1] << 64) | (b.energy_wh[2] << 128) | (b.energy_wh[3] << 192)
        e1: uint256 = b.energy_wh[4] | (b.energy_wh[5] << 64) | (b.energy_wh[6] << 128) | (b.energy_wh[7] << 192)
        e2: uint256 = b.energy_wh[8] | (b.energy_wh[9] << 64) | (b.energy_wh[10] << 128) | (b.energy_wh[11] << 192)
        e3: uint256 = b.energy_wh[12] | (b.energy_wh[13] << 64) | (b.energy_wh[14] << 128) | (b.energy_wh[15] << 192)
        e4: uint256 = b.energy_wh[16] | (b.energy_wh[17] << 64) | (b.energy_wh[18] << 128) | (b.energy_wh[19] << 192)
        e5: uint256 = b.energy_wh[20] | (b.energy_wh[21] << 64) | (b.energy_wh[22] << 128) | (b.energy_wh[23] << 192)
        e_or: uint256 = (b.energy_wh[0] | b.energy_wh[1] | b.energy_wh[2] | b.energy_wh[3]
                         | b.energy_wh[4] | b.energy_wh[5] | b.energy_wh[6] | b.energy_wh[7]
                         | b.energy_wh[8] | b.energy_wh[9] | b.energy_wh[10] | b.energy_wh[11])
        e_or = (e_or | b.energy_wh[12] | b.energy_wh[13] | b.energy_wh[14] | b.energy_wh[15]
                | b.energy_wh[16] | b.energy_wh[17] | b.energy_wh[18] | b.energy_wh[19]
                | b.energy_wh[20] | b.energy_wh[21] | b.energy_wh[22] | b.energy_wh[23])
        if e_or > max_wh:  # some value may exceed max_wh: compare every lane (exact, max_wh < 2**32)
            # per lane 2**63 + max_wh - e keeps bit 63 iff e <= max_wh
            top: uint256 = unsafe_mul(max_wh, LANES_ONES) | high
            assert e_or < 2**32 and (unsafe_sub(top, e0) & unsafe_sub(top, e1) & unsafe_sub(top, e2)
                                     & unsafe_sub(top, e3) & unsafe_sub(top, e4) & unsafe_sub(top, e5)
                                     & high == high), "vpp: reading out of range"
        # per-period sums (lanes < 256 x 2**32) and the member's delivered energy (lanes < 6 x 2**32)
        dp0 = unsafe_add(dp0, d0)
        ep0 = unsafe_add(ep0, e0)
        dp1 = unsafe_add(dp1, d1)
        ep1 = unsafe_add(ep1, e1)
        dp2 = unsafe_add(dp2, d2)
        ep2 = unsafe_add(ep2, e2)
        dp3 = unsafe_add(dp3, d3)
        ep3 = unsafe_add(ep3, e3)
        dp4 = unsafe_add(dp4, d4)
        ep4 = unsafe_add(ep4, e4)
        dp5 = unsafe_add(dp5, d5)
        ep5 = unsafe_add(ep5, e5)
        delivered_wh: uint256 = unsafe_mul(unsafe_add(unsafe_add(unsafe_add(e0, e1), unsafe_add(e2, e3)),
                                unsafe_add(e4, e5)), LANES_ONES) >> 192
        # short beyond tolerance <=> e < d - floor(d x tol / 10 000) <=> e x 10 000 < d x (10 000 - tol) (integers);
        # per lane 2**63 + e x 10 000 - d x keep keeps bit 63 iff not short (both < 2**46)
        g0: uint256 = unsafe_sub(unsafe_mul(e0, SHARE_TOTAL_BPS) | high, unsafe_mul(d0, keep))
        g1: uint256 = unsafe_sub(unsafe_mul(e1, SHARE_TOTAL_BPS) | high, unsafe_mul(d1, keep))
        g2: uint256 = unsafe_sub(unsafe_mul(e2, SHARE_TOTAL_BPS) | high, unsafe_mul(d2, keep))
        g3: uint256 = unsafe_sub(unsafe_mul(e3, SHARE_TOTAL_BPS) | high, unsafe_mul(d3, keep))
        g4: uint256 = unsafe_sub(unsafe_mul(e4, SHARE_TOTAL_BPS) | high, unsafe_mul(d4, keep))
        g5: uint256 = unsafe_sub(unsafe_mul(e5, SHARE_TOTAL_BPS) | high, unsafe_mul(d5, keep))
        if g0 & g1 & g2 & g3 & g4 & g5 & high != high:
            collateral: uint256 = self.collateral_ueur[member]
            # per lane whose bit 63 of g is clear (short): shortfall s = d - floor(d x tol / 10 000) - e and
            # amount a = floor(s x rate / 1000), rate = 1000 x rate_hi + rate_lo; 0 in the other lanes. Each
            # division by a constant runs per lane as a multiplication by a rounded-up reciprocal and a shift,
            # exact for the lane's range (x * err < 2**shift, err = reciprocal x divisor - 2**shift):
            # d // 10 000 (d < 2**32, shift 45), (d % 10 000) x tol // 10 000 (< 10**8, 40), s // 1000 (< 2**32,
            # 41), (s % 1000) x rate_lo // 1000 (< 10**6, 30); every product stays < 2**64 in its lane
            # (rate_hi < 2**20).
            short: uint256 = 0
            q_hi: uint256 = 0
            s0: uint256 = 0
            if g0 & high != high:  # a lane of periods 0..3 is short
                short = (~g0) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d0, DIV10K_MAGIC) >> 45) & m19
                s0 = unsafe_sub(unsafe_sub(d0, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d0, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e0) & short
            s1: uint256 = 0
            if g1 & high != high:  # a lane of periods 4..7 is short
                short = (~g1) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d1, DIV10K_MAGIC) >> 45) & m19
                s1 = unsafe_sub(unsafe_sub(d1, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d1, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e1) & short
            s2: uint256 = 0
            if g2 & high != high:  # a lane of periods 8..11 is short
                short = (~g2) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d2, DIV10K_MAGIC) >> 45) & m19
                s2 = unsafe_sub(unsafe_sub(d2, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d2, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e2) & short
            s3: uint256 = 0
            if g3 & high != high:  # a lane of periods 12..15 is short
                short = (~g3) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d3, DIV10K_MAGIC) >> 45) & m19
                s3 = unsafe_sub(unsafe_sub(d3, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d3, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e3) & short
            s4: uint256 = 0
            if g4 & high != high:  # a lane of periods 16..19 is short
                short = (~g4) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d4, DIV10K_MAGIC) >> 45) & m19
                s4 = unsafe_sub(unsafe_sub(d4, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d4, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e4) & short
            s5: uint256 = 0
            if g5 & high != high:  # a lane of periods 20..23 is short
                short = (~g5) & high
                short = unsafe_sub(short, short >> 63)
                q_hi = (unsafe_mul(d5, DIV10K_MAGIC) >> 45) & m19
                s5 = unsafe_sub(unsafe_sub(d5, unsafe_add(
                    unsafe_mul(q_hi, tol),
                    (unsafe_mul(unsafe_sub(d5, unsafe_mul(q_hi, SHARE_TOTAL_BPS)), tol_magic) & quotient_bits)
                    >> 40)) | high,
                    e5) & short
            shortfall_m[i] = unsafe_mul(unsafe_add(unsafe_add(unsafe_add(s0, s1), unsafe_add(s2, s3)),
                             unsafe_add(s4, s5)), LANES_ONES) >> 192
            if collateral > 0:  # else nothing is drawn (as `settle`: min(amount, 0)), so no amount is computed
                a0: uint256 = 0
                if s0 != 0:
                    q_hi = (unsafe_mul(s0, DIV1K_MAGIC) >> 41) & m23
                    a0 = unsafe_add(unsafe_add(unsafe_mul(s0, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s0, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                a1: uint256 = 0
                if s1 != 0:
                    q_hi = (unsafe_mul(s1, DIV1K_MAGIC) >> 41) & m23
                    a1 = unsafe_add(unsafe_add(unsafe_mul(s1, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s1, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                a2: uint256 = 0
                if s2 != 0:
                    q_hi = (unsafe_mul(s2, DIV1K_MAGIC) >> 41) & m23
                    a2 = unsafe_add(unsafe_add(unsafe_mul(s2, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s2, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                a3: uint256 = 0
                if s3 != 0:
                    q_hi = (unsafe_mul(s3, DIV1K_MAGIC) >> 41) & m23
                    a3 = unsafe_add(unsafe_add(unsafe_mul(s3, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s3, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                a4: uint256 = 0
                if s4 != 0:
                    q_hi = (unsafe_mul(s4, DIV1K_MAGIC) >> 41) & m23
                    a4 = unsafe_add(unsafe_add(unsafe_mul(s4, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s4, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                a5: uint256 = 0
                if s5 != 0:
                    q_hi = (unsafe_mul(s5, DIV1K_MAGIC) >> 41) & m23
                    a5 = unsafe_add(unsafe_add(unsafe_mul(s5, rate_hi), unsafe_mul(q_hi, rate_lo)),
                                    (unsafe_mul(unsafe_sub(s5, unsafe_mul(q_hi, 1000)), rate_lo_magic) >> 30) & m10)
                total: uint256 = unsafe_mul(unsafe_add(unsafe_add(unsafe_add(a0, a1), unsafe_add(a2, a3)),
                                 unsafe_add(a4, a5)), LANES_ONES) >> 192
                if total <= collateral:  # no amount is capped: the lanes are the penalties of `settle`
                    pp0 = unsafe_add(pp0, a0)
                    pp1 = unsafe_add(pp1, a1)
                    pp2 = unsafe_add(pp2, a2)
                    pp3 = unsafe_add(pp3, a3)
                    pp4 = unsafe_add(pp4, a4)
                    pp5 = unsafe_add(pp5, a5)
                    self.collateral_ueur[member] = unsafe_sub(collateral, total)
                    penalty_m[i] = total
                else:
                    # the collateral caps the day's penalties: drawn in period order as `settle` draws it, until used up
                    # (the amounts sum to total > collateral, so the loop ends on a period that empties it)
                    aw: uint256[PAYOUT_WORDS] = [a0, a1, a2, a3, a4, a5]
                    left: uint256 = collateral
                    for k: uint256 in range(n, bound=MAX_DAY_PERIODS):
                        amount: uint256 = min((aw[k // 4] >> (64 * (k % 4))) & LANE_MASK, left)
                        penalties_p[k] = unsafe_add(penalties_p[k], amount)
                        left = unsafe_sub(left, amount)
                        if left == 0:
                            break
                    self.collateral_ueur[member] = 0
                    penalty_m[i] = collateral
        delivered_m[i] = delivered_wh

    dp_w: uint256[PAYOUT_WORDS] = [dp0, dp1, dp2, dp3, dp4, dp5]
    ep_w: uint256[PAYOUT_WORDS] = [ep0, ep1, ep2, ep3, ep4, ep5]
    pp_w: uint256[PAYOUT_WORDS] = [pp0, pp1, pp2, pp3, pp4, pp5]
    # per period: revenue at the period's price, pool = revenue + penalties, paid by share (dust to the last)
    revenue_total: uint256 = 0
    penalties_total: uint256 = 0
    pool_total: uint256 = 0
    pool_p: uint256[MAX_DAY_PERIODS] = empty(uint256[MAX_DAY_PERIODS])
    declared_p: uint256[MAX_DAY_PERIODS] = empty(uint256[MAX_DAY_PERIODS])
    delivered_p: uint256[MAX_DAY_PERIODS] = empty(uint256[MAX_DAY_PERIODS])
    price_p: uint256[MAX_DAY_PERIODS] = empty(uint256[MAX_DAY_PERIODS])
    # pool = 10 000 x pool_hi + pool_lo, so floor(pool x share / 10 000) = pool_hi x share + floor(pool_lo x share /
    # 10 000): the first sums over periods at once; the second is done 4 periods per word (see the payout loop)
    pool_hi_total: uint256 = 0
    pool_lo_w: uint256[PAYOUT_WORDS] = empty(uint256[PAYOUT_WORDS])
    for k: uint256 in range(n, bound=MAX_DAY_PERIODS):
        price: uint256 = self._price_of(first_period + k)
        lane_bits: uint256 = 64 * (k % 4)
        declared_k: uint256 = (dp_w[k // 4] >> lane_bits) & LANE_MASK
        delivered_k: uint256 = (ep_w[k // 4] >> lane_bits) & LANE_MASK
        declared_p[k] = declared_k
        delivered_p[k] = delivered_k
        penalties_p[k] += (pp_w[k // 4] >> lane_bits) & LANE_MASK  # uncapped members' lanes + capped members' draws
        revenue: uint256 = delivered_k * price // 1000
        price_p[k] = price
        pool: uint256 = revenue + penalties_p[k]
        pool_p[k] = pool
        revenue_total += revenue
        penalties_total += penalties_p[k]
        pool_total += pool
        pool_hi_total = unsafe_add(pool_hi_total, pool // SHARE_TOTAL_BPS)  # <= pool_total
        pool_lo_w[k // 4] |= (pool % SHARE_TOTAL_BPS) << (64 * (k % 4))
    if revenue_total > 0:
        assert extcall self.token.transferFrom(self.buyer, self, revenue_total), "vpp: buyer payment failed"

    # every member but the last: the sum over periods of floor(pool x share); the last gets the rest, which is
    # the sum over periods of each period's dust-bearing remainder (as `settle` pays it)
    assert pool_total <= MAX_DAY_POOL_UEUR, "vpp: day pool above 2**96 ueur"
    i: uint256 = 0
    last: uint256 = n_members - 1
    paid_others: uint256 = 0
    payments: DynArray[uint256, MAX_MEMBERS] = []  # amount << 160 | member, for EuroToken.transfer_packed
    lo0: uint256 = pool_lo_w[0]
    lo1: uint256 = pool_lo_w[1]
    lo2: uint256 = pool_lo_w[2]
    lo3: uint256 = pool_lo_w[3]
    lo4: uint256 = pool_lo_w[4]
    lo5: uint256 = pool_lo_w[5]
    for member: address in self.members:
        terms: uint256 = self.day_terms[i]  # warm since the member loop: cheaper than a memory array
        amount: uint256 = 0
        if i == last:
            amount = pool_total - paid_others
        else:
            # floor(pool x share / 10 000) summed over periods = pool_hi_total x share + the sum of
            # floor(pool_lo x share / 10 000), 4 periods per word: per lane floor(x / 10 000) = floor(x x PAYOUT_MAGIC
            # / 2**40) for x = pool_lo x share < 10**8 (exact: PAYOUT_MAGIC x 10 000 - 2**40 = 2 224 and 10**8 x 2 224
            # < 2**40); the product < 2**54 stays in its lane, its bits [40, 64) are the quotient (< 10 000). Six
            # words summed stay < 2**56 per lane, whose sum one multiplication by LANES_ONES gives in the top lane.
            share: uint256 = terms >> 192
            m: uint256 = unsafe_mul(share, PAYOUT_MAGIC)
            acc: uint256 = unsafe_add(unsafe_add(unsafe_add(unsafe_mul(lo0, m) & quotient_bits,
                                                            unsafe_mul(lo1, m) & quotient_bits),
                                                 unsafe_add(unsafe_mul(lo2, m) & quotient_bits,
                                                            unsafe_mul(lo3, m) & quotient_bits)),
                                      unsafe_add(unsafe_mul(lo4, m) & quotient_bits, unsafe_mul(lo5, m) & quotient_bits))
            amount = unsafe_add(unsafe_mul(pool_hi_total, share), unsafe_mul(acc >> 40, LANES_ONES) >> 192)  # <= pool
            paid_others = unsafe_add(paid_others, amount)  # <= pool_total (the shares sum to 10 000)
        if amount > 0:
            payments.append((amount << PAYMENT_AMOUNT_SHIFT) | convert(member, uint256))
        log MeterDaySettled(first_period=first_period, meter=convert(terms & ADDRESS_MASK, address),
                            member=member, delivered_wh=delivered_m[i], shortfall_wh=shortfall_m[i], penalty_ueur=penalty_m[i],
                            payout_ueur=amount, n_estimated=estimated_m[i])
        i += 1
    # one call pays every member (one Transfer each) instead of 100 child calls (~0.05-0.1 s/day on py-evm)
    if len(payments) > 0:
        extcall EuroTokenBatch(self.token.address).transfer_packed(payments)

    for k: uint256 in range(n, bound=MAX_DAY_PERIODS):
        log PeriodSettled(
            period=first_period + k,
            price_ueur_per_kwh=price_p[k],
            declared_wh=declared_p[k],
            delivered_wh=delivered_p[k],
            revenue_ueur=pool_p[k] - penalties_p[k],
            penalties_ueur=penalties_p[k],
            paid_ueur=pool_p[k],
        )
    self.total_revenue_ueur += revenue_total
    self.total_penalties_ueur += penalties_total
    self.total_paid_ueur += pool_total
    self.readings_accepted += n * n_members
