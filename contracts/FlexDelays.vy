# pragma version 0.4.3
# pragma evm-version prague
"""
@title FlexDelays
@notice Micro demand-side management: the grid operator opens demand-response (DR) events; smart outlets
        report the delays they applied during an event, each report signed (EIP-712) by the outlet's
        registered key; a delay is logged only within the customer's registered limits (per event, per day,
        hours with no delay); each delay mints flex tokens (an ERC-20 in this contract) to the customer in
        proportion to the energy shifted; per-customer counters of delay minutes, events and shifted energy
        are public, and every logged delay extends a hash chain so that an edited event log can be detected.
        DR events never overlap (each starts at or after the end of the one before), and an outlet reports
        once per event, so no minute of an outlet is paid twice.
@dev Time in minutes from `t0` (block seconds of minute 0); local day and hour from `day_offset_min` (the
     local minute of the day at t0). Energy in Wh, power in W. Tokens have 3 decimals: a delay shifting
     `shifted_wh` Wh mints `shifted_wh * tokens_per_kwh` base units, i.e. exactly `tokens_per_kwh` tokens per
     kWh, so totalSupply == tokens_per_kwh * total_shifted_wh always. Bounds: power (an outlet's rating, an
     event's request) at most 10**9 W, an event's start before minute 2**32, tokens_per_kwh at most 10**6. The Delay type and its signature check
     are in the signed_reading module.
"""
import signed_reading

struct OutletSpec:
    outlet: address
    customer: address
    appliance: uint8
    max_w: uint256
    max_delay_per_event_min: uint256
    max_delay_per_day_min: uint256
    no_delay_hours: uint256

struct DrEvent:
    start_min: uint256
    duration_min: uint256
    requested_w: uint256

event Configured:
    operator: indexed(address)
    t0: uint256
    day_offset_min: uint256
    tokens_per_kwh: uint256

event OutletRegistered:
    outlet: indexed(address)
    customer: indexed(address)
    appliance: uint8
    max_w: uint256
    max_delay_per_event_min: uint256
    max_delay_per_day_min: uint256
    no_delay_hours: uint256

event DrEventCreated:
    event_id: indexed(uint256)
    start_min: uint256
    duration_min: uint256
    requested_w: uint256

event DelayLogged:
    outlet: indexed(address)
    customer: indexed(address)
    event_id: indexed(uint256)
    appliance: uint8
    start_min: uint256
    delay_min: uint256
    shifted_wh: uint256
    tokens: uint256
    head: bytes32

event Transfer:
    sender: indexed(address)
    receiver: indexed(address)
    value: uint256

event Approval:
    owner: indexed(address)
    spender: indexed(address)
    value: uint256

MAX_BATCH: constant(uint256) = 256
MINUTES_PER_DAY: constant(uint256) = 1440
MAX_DELAY_MIN: constant(uint256) = 1440
HOURS_SPANNED: constant(uint256) = 26
MAX_W: constant(uint256) = 10**9  # 1 GW: an outlet's rating and an event's request
MAX_START_MIN: constant(uint256) = 2**32  # ~8 000 years of minutes
MAX_TOKENS_PER_KWH: constant(uint256) = 10**6
MAX_T0: constant(uint256) = 2**34  # block time of period 0 at most 2**34 s (the year 2514): no time sum overflows

name: public(constant(String[16])) = "gridledger flex"
symbol: public(constant(String[8])) = "FLEX"
decimals: public(constant(uint8)) = 3
totalSupply: public(uint256)
balanceOf: public(HashMap[address, uint256])
allowance: public(HashMap[address, HashMap[address, uint256]])

operator: public(address)
t0: public(uint256)
day_offset_min: public(uint256)
tokens_per_kwh: public(uint256)
DOMAIN_SEPARATOR: public(bytes32)

outlets: public(HashMap[address, OutletSpec])
n_outlets: public(uint256)
outlets_of: public(HashMap[address, uint256])
events: public(HashMap[uint256, DrEvent])
n_events: public(uint256)
events_end_min: public(uint256)  # the first minute after the latest DR event: the next starts there or later
reported: public(HashMap[uint256, HashMap[address, bool]])
day_delay_min: public(HashMap[address, HashMap[uint256, uint256]])
customer_in_event: public(HashMap[uint256, HashMap[address, bool]])

delay_min_of: public(HashMap[address, uint256])
events_of: public(HashMap[address, uint256])
delays_of: public(HashMap[address, uint256])
shifted_wh_of: public(HashMap[address, uint256])
total_delay_min: public(uint256)
total_shifted_wh: public(uint256)
n_delays: public(uint256)
log_head: public(bytes32)


@deploy
def __init__(t0: uint256, day_offset_min: uint256, tokens_per_kwh: uint256):
    """
    @param t0 Block time of minute 0 [s], at most MAX_T0.
    @param day_offset_min Local minute of the day at t0 (0 when t0 is local midnight) [min].
    @param tokens_per_kwh Flex tokens minted per kWh shifted (whole tokens), 1 to 10**6.
    """
    assert t0 <= MAX_T0, "flex: t0 out of range"
    assert day_offset_min < MINUTES_PER_DAY, "flex: day offset out of range"
    assert tokens_per_kwh > 0 and tokens_per_kwh <= MAX_TOKENS_PER_KWH, "flex: tokens per kWh out of range"
    self.operator = msg.sender
    self.t0 = t0
    self.day_offset_min = day_offset_min
    self.tokens_per_kwh = tokens_per_kwh
    self.DOMAIN_SEPARATOR = signed_reading.domain_separator(self)
    log Configured(operator=msg.sender, t0=t0, day_offset_min=day_offset_min, tokens_per_kwh=tokens_per_kwh)


# ERC-20 ------------------------------------------------------------------------------------------------------

@external
def transfer(receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` token base units from the caller to `receiver`.
    @param receiver Recipient.
    @param amount Amount [base units, 3 decimals].
    """
    assert receiver != empty(address), "flex: transfer to the zero address"
    assert self.balanceOf[msg.sender] >= amount, "flex: insufficient balance"
    self.balanceOf[msg.sender] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=msg.sender, receiver=receiver, value=amount)
    return True


@external
def approve(spender: address, amount: uint256) -> bool:
    """
    @notice Allow `spender` to move up to `amount` of the caller's tokens.
    @param spender Spender.
    @param amount Allowance [base units].
    """
    assert spender != empty(address), "flex: approve to the zero address"
    self.allowance[msg.sender][spender] = amount
    log Approval(owner=msg.sender, spender=spender, value=amount)
    return True


@external
def transferFrom(owner: address, receiver: address, amount: uint256) -> bool:
    """
    @notice Move `amount` from `owner` to `receiver` within the caller's allowance.
    @param owner Holder of the tokens.
    @param receiver Recipient.
    @param amount Amount [base units].
    """
    assert receiver != empty(address), "flex: transfer to the zero address"
    assert self.allowance[owner][msg.sender] >= amount, "flex: allowance exceeded"
    assert self.balanceOf[owner] >= amount, "flex: insufficient balance"
    self.allowance[owner][msg.sender] -= amount
    self.balanceOf[owner] -= amount
    self.balanceOf[receiver] += amount
    log Transfer(sender=owner, receiver=receiver, value=amount)
    return True


# outlets and DR events ---------------------------------------------------------------------------------------

@internal
@view
def _only_operator():
    assert msg.sender == self.operator, "flex: caller is not the operator"


@external
def register_outlets(specs: DynArray[OutletSpec, MAX_BATCH]):
    """
    @notice Register outlets: their signing address, customer, appliance code, rated power (1 W to 10**9 W)
            and the customer's limits (`no_delay_hours`: bit h set = no delay may touch local hour h).
    @param specs One entry per outlet.
    """
    self._only_operator()
    for spec: OutletSpec in specs:
        assert spec.outlet != empty(address) and spec.customer != empty(address), "flex: zero address"
        assert self.outlets[spec.outlet].customer == empty(address), "flex: outlet already registered"
        assert spec.max_w > 0 and spec.max_w <= MAX_W, "flex: rated power out of range"
        assert spec.max_delay_per_event_min <= spec.max_delay_per_day_min, "flex: event limit above daily limit"
        assert spec.max_delay_per_day_min <= MAX_DELAY_MIN, "flex: daily limit above a day"
        assert spec.no_delay_hours < 2**24, "flex: no-delay mask beyond 24 hours"
        self.outlets[spec.outlet] = spec
        self.n_outlets += 1
        self.outlets_of[spec.customer] += 1
        log OutletRegistered(outlet=spec.outlet, customer=spec.customer, appliance=spec.appliance, max_w=spec.max_w,
                             max_delay_per_event_min=spec.max_delay_per_event_min,
                             max_delay_per_day_min=spec.max_delay_per_day_min, no_delay_hours=spec.no_delay_hours)


@external
def create_event(start_min: uint256, duration_min: uint256, requested_w: uint256) -> uint256:
    """
    @notice Open DR event number `n_events`: a reduction of `requested_w` asked for `duration_min` minutes
            from minute `start_min`, which must not lie before the current minute nor before the end of the
            previous event (events never overlap, so no minute is paid twice).
    @param start_min First minute of the event [min from t0], below 2**32.
    @param duration_min Length [min], 1 to 1440.
    @param requested_w Reduction asked for [W], 1 to 10**9.
    @return The event's id.
    """
    self._only_operator()
    assert start_min < MAX_START_MIN, "flex: start beyond 2**32 minutes"
    assert duration_min > 0 and duration_min <= MAX_DELAY_MIN, "flex: duration out of range"
    assert requested_w > 0, "flex: nothing requested"
    assert requested_w <= MAX_W, "flex: request above 10**9 W"
    assert self.t0 + (start_min + 1) * 60 > block.timestamp, "flex: DR event starts in the past"
    assert start_min >= self.events_end_min, "flex: DR event starts before the previous one ends"
    event_id: uint256 = self.n_events
    self.events[event_id] = DrEvent(start_min=start_min, duration_min=duration_min, requested_w=requested_w)
    self.n_events = event_id + 1
    self.events_end_min = start_min + duration_min
    log DrEventCreated(event_id=event_id, start_min=start_min, duration_min=duration_min, requested_w=requested_w)
    return event_id


# delays ------------------------------------------------------------------------------------------------------

@internal
@view
def _check(d: signed_reading.Delay, spec: OutletSpec):
    assert spec.customer != empty(address), "flex: unregistered outlet"
    assert d.event_id < self.n_events, "flex: no such DR event"
    assert not self.reported[d.event_id][d.outlet], "flex: delay already reported"
    assert d.appliance == spec.appliance, "flex: wrong appliance"
    assert d.delay_min > 0, "flex: delay must be positive"
    ev: DrEvent = self.events[d.event_id]
    # start and delay within the event, written so that no signed value can overflow the sum
    assert d.start_min >= ev.start_min and d.delay_min <= ev.duration_min \
        and d.start_min - ev.start_min <= ev.duration_min - d.delay_min, "flex: delay outside the DR event"
    assert block.timestamp >= self.t0 + (d.start_min + d.delay_min) * 60, "flex: delay not over"
    assert d.delay_min <= spec.max_delay_per_event_min, "flex: delay exceeds the per-event limit"
    local_min: uint256 = self.day_offset_min + d.start_min
    day: uint256 = local_min // MINUTES_PER_DAY
    assert self.day_delay_min[d.outlet][day] + d.delay_min <= spec.max_delay_per_day_min, \
        "flex: delay exceeds the daily limit"
    first_hour: uint256 = local_min // 60
    for h: uint256 in range(first_hour, first_hour + HOURS_SPANNED, bound=HOURS_SPANNED):
        if h * 60 >= local_min + d.delay_min:
            break
        assert (spec.no_delay_hours >> (h % 24)) & 1 == 0, "flex: delay in a no-delay hour"
    assert d.shifted_wh <= spec.max_w * d.delay_min // 60, "flex: shifted energy above rated power"
    if signed_reading.delay_signer(self.DOMAIN_SEPARATOR, d) != d.outlet:
        flaw: uint256 = signed_reading.signature_flaw(convert(d.v, uint256), d.s)
        assert flaw != signed_reading.HIGH_S, "flex: high-s signature"
        assert flaw != signed_reading.BAD_V, "flex: bad signature v"
        raise "flex: bad signature"


@external
def report_delays(delays: DynArray[signed_reading.Delay, MAX_BATCH]):
    """
    @notice Log outlets' signed delay reports (anyone may post them; the outlet's signature is what counts),
            update the counters and mint tokens to each customer. Any bad report reverts the batch.
    @param delays EIP-712 signed (outlet, event_id, start_min, delay_min, shifted_wh, appliance) with v, r, s.
    """
    for d: signed_reading.Delay in delays:
        spec: OutletSpec = self.outlets[d.outlet]
        self._check(d, spec)
        # effects
        customer: address = spec.customer
        self.reported[d.event_id][d.outlet] = True
        self.day_delay_min[d.outlet][(self.day_offset_min + d.start_min) // MINUTES_PER_DAY] += d.delay_min
        if not self.customer_in_event[d.event_id][customer]:
            self.customer_in_event[d.event_id][customer] = True
            self.events_of[customer] += 1
        self.delay_min_of[customer] += d.delay_min
        self.delays_of[customer] += 1
        self.shifted_wh_of[customer] += d.shifted_wh
        self.total_delay_min += d.delay_min
        self.total_shifted_wh += d.shifted_wh
        self.n_delays += 1
        tokens: uint256 = d.shifted_wh * self.tokens_per_kwh
        self.totalSupply += tokens
        self.balanceOf[customer] += tokens
        head: bytes32 = keccak256(abi_encode(self.log_head, d.outlet, customer, d.event_id, d.appliance, d.start_min,
                                             d.delay_min, d.shifted_wh))
        self.log_head = head
        log DelayLogged(outlet=d.outlet, customer=customer, event_id=d.event_id, appliance=d.appliance,
                        start_min=d.start_min, delay_min=d.delay_min, shifted_wh=d.shifted_wh, tokens=tokens,
                        head=head)
        log Transfer(sender=empty(address), receiver=customer, value=tokens)
