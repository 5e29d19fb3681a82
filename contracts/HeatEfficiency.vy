# pragma version 0.4.3
# pragma evm-version prague
"""
@title HeatEfficiency
@notice District-heating efficiency tokens. The operator registers each consumer's heat meter and publishes,
        before each settlement period starts, a reference cooling dT_ref for every consumer (what a
        well-working substation achieves at the supply temperature expected to reach it, so that a consumer
        at the end of a long branch is not judged by the plant's temperature). Heat meters sign one reading per
        period (EIP-712 HeatReading: heat, volume and the flow-weighted temperature registers sum(V*T_supply),
        sum(V*T_return)); the contract derives the period's flow-weighted cooling
        dT = (sum(V*Ts) - sum(V*Tr)) / sum(V) and the degree-hours against the reference,
        sum(V*(dT - dT_ref)) = sum(V*Ts) - sum(V*Tr) - V*dT_ref, and mints tokens for degree-hours above
        reference (measured readings only). The operator then deposits the period's bonus pool (EuroToken),
        which is paid out at once, pro rata to that period's tokens.
        Every signed field is bounded: heat and volume by the meter's registered range; the registers by the
        volume and a physical temperature range, 0 <= T_return <= T_supply <= 130 degC (flow-weighted, within the
        volume register's 1 ml resolution) and by the heat read (the cooling they record cannot carry more
        heat than the heat register, within 10 % + 25 Wh); references and pools by documented maxima. So a
        meter's tokens in a period are bounded by its registered heat range.
@dev Units: heat in Wh, volume in ml, temperatures in milli-degC, registers in ml*milli-degC, degree-hours
     in ml*mK (signed), tokens in l*K (1 token = 1 m3*K with 3 decimals), money in ueur. Tokens are a record of
     impact and cannot be transferred. Period p covers [t0 + p*period_s, t0 + (p+1)*period_s). Integer
     rounding dust of a pool goes to the last token holder of the period, so each period pays out exactly
     the pool deposited. The HeatReading type and its signature check are in the signed_reading module.
"""
from ethereum.ercs import IERC20
import signed_reading

event ConsumerRegistered:
    consumer: indexed(address)
    meter: indexed(address)
    max_heat_wh_per_period: uint256
    max_volume_ml_per_period: uint256

event RegistrationSealed:
    n_consumers: uint256

event ReferencesPublished:
    period: indexed(uint256)
    delta_t_ref_mk: DynArray[uint256, MAX_CONSUMERS]

event ReadingAccepted:
    period: indexed(uint256)
    consumer: indexed(address)
    meter: indexed(address)
    heat_wh: uint256
    volume_ml: uint256
    vt_supply_mlmc: uint256
    vt_return_mlmc: uint256
    quality: uint8
    delta_t_mk: int256
    degree_hours_mlmk: int256
    tokens: uint256

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event PoolDeposited:
    period: indexed(uint256)
    amount_ueur: uint256

event BonusPaid:
    period: indexed(uint256)
    consumer: indexed(address)
    tokens: uint256
    amount_ueur: uint256

event PeriodSettled:
    period: indexed(uint256)
    tokens: uint256
    pool_ueur: uint256
    paid_ueur: uint256

MAX_CONSUMERS: constant(uint256) = 256
MAX_BATCH: constant(uint256) = 128
MAX_T0: constant(uint256) = 2**34  # block time of period 0 at most 2**34 s (the year 2514): no time sum overflows
MAX_N_PERIODS: constant(uint256) = 2**32  # the twin's longest run (ten years) at 1 s periods is 3.2 * 10**8
MAX_PERIOD_S: constant(uint256) = 86400  # a settlement period of at most a day (the twin's run.settlement_s)
QUALITY_ESTIMATED: constant(uint8) = signed_reading.QUALITY_ESTIMATED
MLMK_PER_LK: constant(uint256) = 1000000
MAX_TEMPERATURE_MK: constant(uint256) = 130000  # 130 degC: hotter water is not district heating (EN 1434)
MAX_HEAT_WH_PER_PERIOD: constant(uint256) = 10**12  # 1 TWh: a registered range above is refused
MAX_VOLUME_ML_PER_PERIOD: constant(uint256) = 10**15  # 10**6 m3
MAX_POOL_UEUR: constant(uint256) = 2**128 - 1  # so that pool x tokens never overflows
WH_PER_KLK_X_90: constant(uint256) = 1136 * 90  # rho*c_p of water [Wh per 1000 l K] x 90 %
CONSISTENCY_FLOOR_WH: constant(uint256) = 25
CONSISTENCY_SCALE: constant(uint256) = 10**11  # ml mK per 1000 l K (10**9) x 100 %

name: public(constant(String[32])) = "gridledger dT degree-hours"
symbol: public(constant(String[8])) = "gDTH"
decimals: public(constant(uint8)) = 3

operator: public(address)
token: public(IERC20)
t0: public(uint256)
period_s: public(uint256)
n_periods: public(uint256)
DOMAIN_SEPARATOR: public(bytes32)

consumers: public(DynArray[address, MAX_CONSUMERS])
meter_of: public(HashMap[address, address])
consumer_of_meter: public(HashMap[address, address])
max_heat_wh_per_period: public(HashMap[address, uint256])
max_volume_ml_per_period: public(HashMap[address, uint256])
sealed: public(bool)

reference_published: public(HashMap[uint256, bool])
delta_t_ref_mk: public(HashMap[uint256, HashMap[address, uint256]])
reported: public(HashMap[uint256, HashMap[address, bool]])
n_reported: public(HashMap[uint256, uint256])
tokens_of: public(HashMap[uint256, HashMap[address, uint256]])
tokens_in_period: public(HashMap[uint256, uint256])
settled: public(HashMap[uint256, bool])
pool_ueur: public(HashMap[uint256, uint256])

# running totals per consumer, the inputs of a billing-period tariff (e.g. the motivation tariff)
total_heat_wh: public(HashMap[address, uint256])
total_volume_ml: public(HashMap[address, uint256])
total_vt_supply_mlmc: public(HashMap[address, uint256])
total_vt_return_mlmc: public(HashMap[address, uint256])

balanceOf: public(HashMap[address, uint256])
totalSupply: public(uint256)
total_pool_ueur: public(uint256)
total_paid_ueur: public(uint256)
readings_accepted: public(uint256)


@deploy
def __init__(token: IERC20, t0: uint256, period_s: uint256, n_periods: uint256):
    """
    @param token EuroToken in which bonuses are paid.
    @param t0 Block time at which period 0 starts [s], at most MAX_T0.
    @param period_s Settlement period length [s], 1 to MAX_PERIOD_S.
    @param n_periods Number of periods in the horizon, at most MAX_N_PERIODS.
    """
    assert t0 <= MAX_T0, "heat: t0 out of range"
    assert period_s > 0 and period_s <= MAX_PERIOD_S, "heat: period_s out of range"
    assert n_periods <= MAX_N_PERIODS, "heat: too many periods"
    self.operator = msg.sender
    self.token = token
    self.t0 = t0
    self.period_s = period_s
    self.n_periods = n_periods
    self.DOMAIN_SEPARATOR = signed_reading.domain_separator(self)


@internal
@view
def _only_operator():
    assert msg.sender == self.operator, "heat: caller is not the operator"


@internal
@view
def _period_start(period: uint256) -> uint256:
    return self.t0 + period * self.period_s


@external
def register_consumer(consumer: address, meter: address, max_heat_wh_per_period: uint256,
                      max_volume_ml_per_period: uint256):
    """
    @notice Register a consumer (its account) with its heat meter's signing address and range limits.
    @param consumer Account credited with tokens and bonuses.
    @param meter Address of the heat meter's signing key.
    @param max_heat_wh_per_period Largest heat the meter can read in a period [Wh], 1 to 10**12.
    @param max_volume_ml_per_period Largest volume the meter can pass in a period [ml] (its maximum flow rate
           times the period), 1 to 10**15.
    """
    self._only_operator()
    assert not self.sealed, "heat: registration is sealed"
    assert consumer != empty(address) and meter != empty(address), "heat: zero address"
    assert max_heat_wh_per_period > 0 and max_heat_wh_per_period <= MAX_HEAT_WH_PER_PERIOD, \
        "heat: heat range out of bounds"
    assert max_volume_ml_per_period > 0 and max_volume_ml_per_period <= MAX_VOLUME_ML_PER_PERIOD, \
        "heat: volume range out of bounds"
    assert self.meter_of[consumer] == empty(address), "heat: consumer already registered"
    assert self.consumer_of_meter[meter] == empty(address), "heat: meter already registered"
    self.consumers.append(consumer)
    self.meter_of[consumer] = meter
    self.consumer_of_meter[meter] = consumer
    self.max_heat_wh_per_period[meter] = max_heat_wh_per_period
    self.max_volume_ml_per_period[meter] = max_volume_ml_per_period
    log ConsumerRegistered(consumer=consumer, meter=meter, max_heat_wh_per_period=max_heat_wh_per_period,
                           max_volume_ml_per_period=max_volume_ml_per_period)


@external
def seal():
    """
    @notice Close registration; readings and settlement need a sealed consumer list.
    """
    self._only_operator()
    assert not self.sealed, "heat: registration is sealed"
    assert len(self.consumers) > 0, "heat: no consumers"
    self.sealed = True
    log RegistrationSealed(n_consumers=len(self.consumers))


@external
def publish_references(period: uint256, delta_t_ref_mk: DynArray[uint256, MAX_CONSUMERS]):
    """
    @notice Publish the reference cooling of every consumer for `period`, before the period starts, once.
    @param period Period index.
    @param delta_t_ref_mk Reference supply-return temperature difference per consumer, in registration
           order [milli-K], at most 130 000.
    """
    self._only_operator()
    assert self.sealed, "heat: registration not sealed"
    assert period < self.n_periods, "heat: period out of range"
    assert block.timestamp < self._period_start(period), "heat: reference published after the period started"
    assert not self.reference_published[period], "heat: reference already published"
    assert len(delta_t_ref_mk) == len(self.consumers), "heat: one reference per consumer"
    self.reference_published[period] = True
    i: uint256 = 0
    for c: address in self.consumers:
        assert delta_t_ref_mk[i] <= MAX_TEMPERATURE_MK, "heat: reference cooling out of range"
        self.delta_t_ref_mk[period][c] = delta_t_ref_mk[i]
        i += 1
    log ReferencesPublished(period=period, delta_t_ref_mk=delta_t_ref_mk)


@internal
def _accept(r: signed_reading.HeatReading):
    # checks
    consumer: address = self.consumer_of_meter[r.meter]
    assert consumer != empty(address), "heat: unregistered meter"
    assert consumer == r.consumer, "heat: meter belongs to another consumer"
    assert r.period < self.n_periods, "heat: period out of range"
    assert block.timestamp >= self._period_start(r.period + 1), "heat: period not over"
    assert self.reference_published[r.period], "heat: no reference for period"
    assert not self.settled[r.period], "heat: period already settled"
    assert not self.reported[r.period][consumer], "heat: reading already recorded"
    assert r.quality <= QUALITY_ESTIMATED, "heat: unknown quality flag"
    assert r.heat_wh <= self.max_heat_wh_per_period[r.meter], "heat: reading out of range"
    assert r.volume_ml <= self.max_volume_ml_per_period[r.meter], "heat: volume out of range"
    # flow-weighted temperatures sum(V*T) / V in [0, 130] degC, return <= supply; the volume register (floored
    # to whole ml at both ends of the period) may read up to 1 ml less than the flow behind the temperature
    # registers, hence volume + 1 (< 10**15 x 130 000: no overflow)
    assert r.vt_supply_mlmc <= (r.volume_ml + 1) * MAX_TEMPERATURE_MK, "heat: supply temperature out of range"
    assert r.vt_return_mlmc <= r.vt_supply_mlmc, "heat: return above supply"
    # the cooling the registers record carries heat rho*c_p x sum(V*(Ts - Tr)) (rho*c_p = 1.136 Wh/(l K)): at most
    # the heat register's (heat_wh + 25 Wh) / 0.9, a looser bound than the meter's own energy calculator check
    # (5 % + 20 Wh, sim/capabilities/heat/vee.py); so tokens never exceed what the heat read can carry
    assert (r.vt_supply_mlmc - r.vt_return_mlmc) * WH_PER_KLK_X_90 <= (r.heat_wh + CONSISTENCY_FLOOR_WH) \
        * CONSISTENCY_SCALE, "heat: cooling above the heat reading"
    if signed_reading.heat_reading_signer(self.DOMAIN_SEPARATOR, r) != r.meter:
        flaw: uint256 = signed_reading.signature_flaw(convert(r.v, uint256), r.s)
        assert flaw != signed_reading.HIGH_S, "heat: high-s signature"
        assert flaw != signed_reading.BAD_V, "heat: bad signature v"
        raise "heat: bad signature"

    # effects
    cooling: int256 = convert(r.vt_supply_mlmc, int256) - convert(r.vt_return_mlmc, int256)
    degree_hours: int256 = cooling - convert(r.volume_ml * self.delta_t_ref_mk[r.period][consumer], int256)
    delta_t: int256 = 0
    if r.volume_ml > 0:
        delta_t = cooling // convert(r.volume_ml, int256)
    minted: uint256 = 0
    if degree_hours > 0 and r.quality != QUALITY_ESTIMATED:
        minted = convert(degree_hours, uint256) // MLMK_PER_LK
    self.reported[r.period][consumer] = True
    self.n_reported[r.period] += 1
    self.total_heat_wh[consumer] += r.heat_wh
    self.total_volume_ml[consumer] += r.volume_ml
    self.total_vt_supply_mlmc[consumer] += r.vt_supply_mlmc
    self.total_vt_return_mlmc[consumer] += r.vt_return_mlmc
    self.readings_accepted += 1
    log ReadingAccepted(
        period=r.period, consumer=consumer, meter=r.meter, heat_wh=r.heat_wh, volume_ml=r.volume_ml,
        vt_supply_mlmc=r.vt_supply_mlmc, vt_return_mlmc=r.vt_return_mlmc, quality=r.quality, delta_t_mk=delta_t,
        degree_hours_mlmk=degree_hours, tokens=minted,
    )
    if minted > 0:
        self.tokens_of[r.period][consumer] = minted
        self.tokens_in_period[r.period] += minted
        self.balanceOf[consumer] += minted
        self.totalSupply += minted
        log Transfer(sender=empty(address), receiver=consumer, value=minted)


@external
def submit_readings(readings: DynArray[signed_reading.HeatReading, MAX_BATCH]):
    """
    @notice Record signed heat readings, many per transaction; any bad reading reverts the batch.
    @dev Anyone may submit: the meter's signature is the authority, not the sender.
    @param readings EIP-712 signed HeatReading structs with v, r, s.
    """
    assert self.sealed, "heat: registration not sealed"
    for r: signed_reading.HeatReading in readings:
        self._accept(r)


@external
def settle(period: uint256, pool_ueur: uint256):
    """
    @notice Deposit the bonus pool of `period` (from the operator, approve first) and pay it out at once to
            the period's token holders, pro rata to their tokens. A period without tokens takes no pool.
    @param period Period index; every consumer's reading for it must be recorded.
    @param pool_ueur Bonus pool [ueur], the operator's share of the benefit it measured; below 2**128.
    """
    self._only_operator()
    assert period < self.n_periods, "heat: period out of range"
    assert pool_ueur <= MAX_POOL_UEUR, "heat: pool above 2**128 ueur"
    assert not self.settled[period], "heat: period already settled"
    assert self.n_reported[period] == len(self.consumers), "heat: readings missing"
    tokens: uint256 = self.tokens_in_period[period]
    assert tokens > 0 or pool_ueur == 0, "heat: no tokens to pay a pool to"

    # effects
    self.settled[period] = True
    self.pool_ueur[period] = pool_ueur
    self.total_pool_ueur += pool_ueur
    last: address = empty(address)
    for c: address in self.consumers:
        if self.tokens_of[period][c] > 0:
            last = c
    paid: uint256 = 0
    amounts: DynArray[uint256, MAX_CONSUMERS] = []
    for c: address in self.consumers:
        amount: uint256 = 0
        held: uint256 = self.tokens_of[period][c]
        if held > 0:
            amount = pool_ueur * held // tokens
            if c == last:
                amount = pool_ueur - paid
        paid += amount
        amounts.append(amount)
    self.total_paid_ueur += paid

    # interactions
    if pool_ueur > 0:
        assert extcall self.token.transferFrom(msg.sender, self, pool_ueur), "heat: pool deposit failed"
    log PoolDeposited(period=period, amount_ueur=pool_ueur)
    i: uint256 = 0
    for c: address in self.consumers:
        if amounts[i] > 0:
            assert extcall self.token.transfer(c, amounts[i]), "heat: bonus payment failed"
            log BonusPaid(period=period, consumer=c, tokens=self.tokens_of[period][c], amount_ueur=amounts[i])
        i += 1
    log PeriodSettled(period=period, tokens=tokens, pool_ueur=pool_ueur, paid_ueur=paid)
