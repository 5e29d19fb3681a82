# pragma version 0.4.3
# pragma evm-version prague
"""
@title Certificates
@notice Hourly granular energy certificates in the manner of EnergyTag: ERC-1155-style balances in Wh, one
        id per production device and interval (at most 1 h). A weather oracle posts, per device and interval,
        the weather-limited maximum energy (cap) and a hash of the weather record it used. The issuer mints
        floor(min(metered, cap)) Wh once per device and interval, from a reading signed by the device's meter
        (EIP-712, measured intervals only). Holders transfer any part. Retiring burns and records the claim
        (beneficiary, consumption interval) once; a beneficiary's claims for an interval never exceed its
        consumption there, as signed by its own meter. Retired Wh cannot move or be retired again.
        Hourly matching: a certificate is retired against consumption in its own interval only, and only by
        its beneficiary or by a retirer the beneficiary approved (so nobody fills another's claim room).
        Signed values are bounded: a device's reading by its nameplate (nameplate x interval x 1.1 + 2 Wh, as its
        meter is rated), a consumer's by the range registered with its meter.
@dev Energy in Wh, time in block seconds. Interval p covers [t0 + p * period_s, t0 + (p + 1) * period_s).
     id = device_id << 128 | p. Balances follow ERC-1155 (balanceOf(owner, id), TransferSingle events from
     the zero address on mint and to it on retirement, ApprovalForAll), but no receiver hook is called:
     certificates go to accounts, not to contracts. Invariant per id: sum of balances + retired = minted.
     Readings are EIP-712 Readings, their signatures checked through the signed_reading module.
     Over 400 lines: one contract's whole certificate life cycle (register, cap, mint, consume, transfer, retire).
"""
import signed_reading

struct Cap:
    device_id: uint256
    period: uint256
    cap_wh: uint256
    weather_hash: bytes32

struct Mint:
    device_id: uint256
    amount_wh: uint256
    reading: signed_reading.Reading

struct Transfer:
    owner: address
    receiver: address
    id: uint256
    amount_wh: uint256

struct Retirement:
    id: uint256
    amount_wh: uint256
    beneficiary: address
    consumption_interval: uint256

event DeviceRegistered:
    device_id: indexed(uint256)
    owner: indexed(address)
    meter: indexed(address)
    name: String[32]
    technology: String[16]
    latitude_e6: int256
    longitude_e6: int256
    nameplate_w: uint256

event ConsumerRegistered:
    consumer: indexed(address)
    meter: indexed(address)
    name: String[32]
    max_wh_per_period: uint256

event CapPosted:
    id: indexed(uint256)
    device_id: indexed(uint256)
    period: uint256
    cap_wh: uint256
    weather_hash: bytes32

event Issued:
    id: indexed(uint256)
    device_id: indexed(uint256)
    owner: indexed(address)
    period: uint256
    amount_wh: uint256
    metered_wh: uint256
    cap_wh: uint256
    issued_at: uint256
    meter: address
    v: uint8
    r: bytes32
    s: bytes32

event ConsumptionRecorded:
    consumer: indexed(address)
    meter: indexed(address)
    period: indexed(uint256)
    energy_wh: uint256
    quality: uint8

event TransferSingle:
    operator: indexed(address)
    sender: indexed(address)
    receiver: indexed(address)
    id: uint256
    amount_wh: uint256

event ApprovalForAll:
    owner: indexed(address)
    operator: indexed(address)
    approved: bool

event RetirerApproved:
    beneficiary: indexed(address)
    retirer: indexed(address)
    approved: bool

event Retired:
    id: indexed(uint256)
    holder: indexed(address)
    beneficiary: indexed(address)
    amount_wh: uint256
    consumption_interval: uint256

MAX_BATCH: constant(uint256) = 256
MAX_DAY_BATCHES: constant(uint256) = 32  # consumers' day batches per call
MAX_DAY_VALUES: constant(uint256) = signed_reading.MAX_DAY_VALUES  # values under one day batch's signature
ADDRESS_MASK: constant(uint256) = (1 << 160) - 1
MAX_INTERVAL_S: constant(uint256) = 3600
MAX_T0: constant(uint256) = 2**34  # block time of period 0 at most 2**34 s (the year 2514): no time sum overflows
MAX_N_PERIODS: constant(uint256) = 2**32  # the twin's longest run (ten years) at 1 s periods is 3.2 * 10**8
ID_SHIFT: constant(uint256) = 128
QUALITY_MEASURED: constant(uint8) = signed_reading.QUALITY_MEASURED
QUALITY_ESTIMATED: constant(uint8) = signed_reading.QUALITY_ESTIMATED
PERIOD_MASK: constant(uint256) = (1 << ID_SHIFT) - 1  # an id's interval
CLAIMED_SHIFT: constant(uint256) = 128  # usage: claimed_wh above this bit, consumed_wh << 1 | 1 below
CONSUMED_MASK: constant(uint256) = (1 << 127) - 1
RECORD_MASK: constant(uint256) = (1 << CLAIMED_SHIFT) - 1  # usage: consumed_wh << 1 | 1
MAX_NAMEPLATE_W: constant(uint256) = 10**12  # 1 TW
MAX_WH_PER_PERIOD: constant(uint256) = 10**12  # a consumer meter's registered range, at most 1 TWh per interval
MAX_LATITUDE_E6: constant(int256) = 90000000
MAX_LONGITUDE_E6: constant(int256) = 180000000
# a device meter reads at most nameplate x interval x 1.1 (its rating, sim/measurement/meters.py), + 2 Wh for the
# nameplate's rounding to whole W and the meter's rounding up:
# reading <= (nameplate_w x period_s x 11 + 72 000) // 36 000
RATING_TENTHS: constant(uint256) = 11
RATING_SLACK: constant(uint256) = 72000

issuer: public(address)
oracle: public(address)
t0: public(uint256)
period_s: public(uint256)
n_periods: public(uint256)
DOMAIN_SEPARATOR: public(bytes32)

n_devices: public(uint256)
device_owner: public(HashMap[uint256, address])
device_meter: public(HashMap[uint256, address])
device_of_meter: public(HashMap[address, uint256])
consumer_meter: public(HashMap[address, address])
consumer_of_meter: public(HashMap[address, address])
device_nameplate_w: public(HashMap[uint256, uint256])
consumer_max_wh: public(HashMap[address, uint256])

cap_wh: public(HashMap[uint256, uint256])
weather_hash: public(HashMap[uint256, bytes32])  # set <=> the cap is posted (a record's sha256 is never zero)
minted_wh: public(HashMap[uint256, uint256])
retired_wh: public(HashMap[uint256, uint256])
balanceOf: public(HashMap[address, HashMap[uint256, uint256]])
retired_by: public(HashMap[address, HashMap[uint256, uint256]])
isApprovedForAll: public(HashMap[address, HashMap[address, bool]])
retirer_approved: public(HashMap[address, HashMap[address, bool]])  # beneficiary -> retirer -> approved

# a consumer's interval in one slot: claimed_wh << 128 | consumed_wh << 1 | 1 once its consumption is recorded (0
# before); consumed_wh <= MAX_WH_PER_PERIOD < 2**40 and claimed_wh <= consumed_wh. Read through consumption_recorded,
# consumed_wh and claimed_wh. One slot instead of three: a recorded reading and each claim on it write one slot.
usage: HashMap[address, HashMap[uint256, uint256]]

total_minted_wh: public(uint256)
total_retired_wh: public(uint256)


@deploy
def __init__(oracle: address, t0: uint256, period_s: uint256, n_periods: uint256):
    """
    @param oracle Account that posts the weather caps.
    @param t0 Block time at which interval 0 starts [s], at most MAX_T0.
    @param period_s Interval length [s]; at most 3600 (EnergyTag: interval <= 1 h).
    @param n_periods Number of intervals in the horizon, at most MAX_N_PERIODS.
    """
    assert period_s > 0 and period_s <= MAX_INTERVAL_S, "certs: interval must be 1 s to 1 h"
    assert oracle != empty(address), "certs: zero address"
    assert n_periods <= MAX_N_PERIODS, "certs: too many intervals"
    assert t0 <= MAX_T0, "certs: t0 out of range"
    self.issuer = msg.sender
    self.oracle = oracle
    self.t0 = t0
    self.period_s = period_s
    self.n_periods = n_periods
    self.DOMAIN_SEPARATOR = signed_reading.domain_separator(self)


@external
@pure
def cert_id(device_id: uint256, period: uint256) -> uint256:
    """
    @notice The certificate id of a device's interval: device_id << 128 | period.
    @param device_id Device number (from 1).
    @param period Interval index.
    """
    return self._id(device_id, period)


@external
@view
def balanceOfBatch(owners: DynArray[address, MAX_BATCH], ids: DynArray[uint256, MAX_BATCH]) -> DynArray[uint256, MAX_BATCH]:
    """
    @notice Balances of several (owner, id) pairs in one call (ERC-1155).
    @param owners Holders.
    @param ids Certificate ids, one per holder.
    @return Balances [Wh].
    """
    assert len(owners) == len(ids), "certs: owners and ids differ in length"
    out: DynArray[uint256, MAX_BATCH] = []
    for i: uint256 in range(len(owners), bound=MAX_BATCH):
        out.append(self.balanceOf[owners[i]][ids[i]])
    return out


@external
@view
def cap_posted(id: uint256) -> bool:
    """
    @notice Whether the oracle has posted the weather cap of certificate `id`.
    @param id Certificate id.
    """
    return self.weather_hash[id] != empty(bytes32)


@external
@view
def caps_of(ids: DynArray[uint256, MAX_BATCH]) -> DynArray[uint256, MAX_BATCH]:
    """
    @notice Weather caps of several certificate ids in one call (0 where none is posted).
    @param ids Certificate ids.
    @return Caps [Wh].
    """
    out: DynArray[uint256, MAX_BATCH] = []
    for id: uint256 in ids:
        out.append(self.cap_wh[id])
    return out


@external
@view
def consumption_recorded(consumer: address, period: uint256) -> bool:
    """
    @notice Whether the consumer's consumption in `period` is recorded.
    @param consumer Registered consumer.
    @param period Interval index.
    """
    return self.usage[consumer][period] & 1 == 1


@external
@view
def consumed_wh(consumer: address, period: uint256) -> uint256:
    """
    @notice The consumer's recorded consumption in `period` [Wh] (0 if none is recorded).
    @param consumer Registered consumer.
    @param period Interval index.
    """
    return (self.usage[consumer][period] >> 1) & CONSUMED_MASK


@external
@view
def claimed_wh(consumer: address, period: uint256) -> uint256:
    """
    @notice What has been retired for the consumer against its consumption in `period` [Wh].
    @param consumer Registered consumer.
    @param period Interval index.
    """
    return self.usage[consumer][period] >> CLAIMED_SHIFT


@internal
@pure
def _id(device_id: uint256, period: uint256) -> uint256:
    return (device_id << ID_SHIFT) | period


@internal
@view
def _only_issuer():
    assert msg.sender == self.issuer, "certs: caller is not the issuer"


@internal
@view
def _over(period: uint256) -> bool:
    return block.timestamp >= self.t0 + (period + 1) * self.period_s


@internal
@view
def _check_signature(r: signed_reading.Reading):
    """Reverts unless the reading is signed by its meter (EIP-712), with the reason why not."""
    if signed_reading.reading_signer(self.DOMAIN_SEPARATOR, r) != r.meter:
        flaw: uint256 = signed_reading.signature_flaw(convert(r.v, uint256), r.s)
        assert flaw != signed_reading.HIGH_S, "certs: high-s signature"
        assert flaw != signed_reading.BAD_V, "certs: bad signature v"
        raise "certs: bad signature"


@external
def register_device(
    owner: address,
    meter: address,
    name: String[32],
    technology: String[16],
    latitude_e6: int256,
    longitude_e6: int256,
    nameplate_w: uint256,
) -> uint256:
    """
    @notice Register a production device; its certificates are issued to `owner`.
    @param owner Account that receives the device's certificates.
    @param meter Address of the device meter's signing key.
    @param name Device name.
    @param technology Energy source ("pv", "wind", ...).
    @param latitude_e6 Latitude [micro-degrees], -90e6 to 90e6.
    @param longitude_e6 Longitude [micro-degrees], -180e6 to 180e6.
    @param nameplate_w Nameplate capacity [W], 1 to 10**12; bounds its meter's readings.
    @return The device id (from 1).
    """
    self._only_issuer()
    assert owner != empty(address) and meter != empty(address), "certs: zero address"
    assert latitude_e6 >= -MAX_LATITUDE_E6 and latitude_e6 <= MAX_LATITUDE_E6 and longitude_e6 >= -MAX_LONGITUDE_E6 \
        and longitude_e6 <= MAX_LONGITUDE_E6, "certs: location out of range"
    assert nameplate_w > 0 and nameplate_w <= MAX_NAMEPLATE_W, "certs: nameplate out of range"
    assert self.device_of_meter[meter] == 0 and self.consumer_of_meter[meter] == empty(address), \
        "certs: meter already registered"
    device_id: uint256 = self.n_devices + 1
    self.n_devices = device_id
    self.device_owner[device_id] = owner
    self.device_meter[device_id] = meter
    self.device_of_meter[meter] = device_id
    self.device_nameplate_w[device_id] = nameplate_w
    log DeviceRegistered(
        device_id=device_id, owner=owner, meter=meter, name=name, technology=technology,
        latitude_e6=latitude_e6, longitude_e6=longitude_e6, nameplate_w=nameplate_w,
    )
    return device_id


@external
def register_consumer(consumer: address, meter: address, name: String[32], max_wh_per_period: uint256):
    """
    @notice Register a consumer and its meter; claims for it are bounded by that meter's readings.
    @param consumer Consumer's account (the beneficiary of retirements).
    @param meter Address of the consumption meter's signing key.
    @param name Consumer name.
    @param max_wh_per_period Largest consumption the meter can read in an interval [Wh], 1 to 10**12.
    """
    self._only_issuer()
    assert consumer != empty(address) and meter != empty(address), "certs: zero address"
    assert max_wh_per_period > 0 and max_wh_per_period <= MAX_WH_PER_PERIOD, "certs: meter range out of bounds"
    assert self.consumer_meter[consumer] == empty(address), "certs: consumer already registered"
    assert self.device_of_meter[meter] == 0 and self.consumer_of_meter[meter] == empty(address), \
        "certs: meter already registered"
    self.consumer_meter[consumer] = meter
    self.consumer_of_meter[meter] = consumer
    self.consumer_max_wh[consumer] = max_wh_per_period
    log ConsumerRegistered(consumer=consumer, meter=meter, name=name, max_wh_per_period=max_wh_per_period)


@external
def post_caps(caps: DynArray[Cap, MAX_BATCH]):
    """
    @notice The oracle posts, per device and interval, the weather-limited maximum energy and the hash of
            the weather record it was computed from, once, after the interval is over.
    @param caps (device_id, period, cap_wh, weather_hash) per device and interval.
    """
    assert msg.sender == self.oracle, "certs: caller is not the oracle"
    for c: Cap in caps:
        assert c.device_id >= 1 and c.device_id <= self.n_devices, "certs: unknown device"
        assert c.period < self.n_periods, "certs: interval out of range"
        assert self._over(c.period), "certs: interval not over"
        assert c.weather_hash != empty(bytes32), "certs: empty weather hash"
        id: uint256 = self._id(c.device_id, c.period)
        assert self.weather_hash[id] == empty(bytes32), "certs: cap already posted"
        self.cap_wh[id] = c.cap_wh
        self.weather_hash[id] = c.weather_hash
        log CapPosted(id=id, device_id=c.device_id, period=c.period, cap_wh=c.cap_wh, weather_hash=c.weather_hash)


@external
def mint(requests: DynArray[Mint, MAX_BATCH]):
    """
    @notice Issue certificates: for each device and interval, exactly floor(min(metered, cap)) Wh to the
            device's owner, once, from a measured reading signed by the device's meter.
    @param requests (device_id, amount_wh, signed reading) per device and interval.
    """
    self._only_issuer()
    for m: Mint in requests:
        r: signed_reading.Reading = m.reading
        assert m.device_id >= 1 and m.device_id <= self.n_devices, "certs: unknown device"
        assert r.meter == self.device_meter[m.device_id], "certs: reading is not from the device's meter"
        # a period of 2**128 or more would reach into the device bits of the id (another device's certificate)
        assert r.period < self.n_periods, "certs: interval out of range"
        id: uint256 = self._id(m.device_id, r.period)
        assert self.minted_wh[id] == 0, "certs: already minted for this device and interval"
        assert self.weather_hash[id] != empty(bytes32), "certs: no weather cap for this interval"
        assert r.quality <= QUALITY_ESTIMATED, "certs: unknown quality flag"
        assert r.quality == QUALITY_MEASURED, "certs: estimated interval cannot be minted"
        assert r.energy_wh <= (self.device_nameplate_w[m.device_id] * self.period_s * RATING_TENTHS + RATING_SLACK) \
            // 36000, "certs: reading above the device's range"
        self._check_signature(r)
        cap: uint256 = self.cap_wh[id]
        assert m.amount_wh > 0, "certs: nothing to mint"
        assert m.amount_wh <= cap, "certs: mint above weather cap"
        assert m.amount_wh <= r.energy_wh, "certs: mint above metered energy"
        assert m.amount_wh == min(r.energy_wh, cap), "certs: amount must be min(metered, cap)"
        owner: address = self.device_owner[m.device_id]
        self.minted_wh[id] = m.amount_wh
        self.balanceOf[owner][id] += m.amount_wh
        self.total_minted_wh += m.amount_wh
        log Issued(
            id=id, device_id=m.device_id, owner=owner, period=r.period, amount_wh=m.amount_wh,
            metered_wh=r.energy_wh, cap_wh=cap, issued_at=block.timestamp, meter=r.meter, v=r.v, r=r.r, s=r.s,
        )
        log TransferSingle(operator=msg.sender, sender=empty(address), receiver=owner, id=id, amount_wh=m.amount_wh)


@external
def record_consumption(readings: DynArray[signed_reading.Reading, MAX_BATCH]):
    """
    @notice Record consumers' metered consumption per interval, once, from readings signed by their meters
            (estimated intervals are recorded with their quality flag).
    @param readings EIP-712 signed (meter, period, energy_wh, quality) with v, r, s.
    """
    for r: signed_reading.Reading in readings:
        consumer: address = self.consumer_of_meter[r.meter]
        assert consumer != empty(address), "certs: unregistered consumption meter"
        assert r.period < self.n_periods, "certs: interval out of range"
        assert self._over(r.period), "certs: interval not over"
        assert self.usage[consumer][r.period] == 0, "certs: consumption already recorded"
        assert r.quality <= QUALITY_ESTIMATED, "certs: unknown quality flag"
        assert r.energy_wh <= self.consumer_max_wh[consumer], "certs: reading out of range"
        self._check_signature(r)
        self.usage[consumer][r.period] = (r.energy_wh << 1) | 1
        log ConsumptionRecorded(consumer=consumer, meter=r.meter, period=r.period, energy_wh=r.energy_wh,
                                quality=r.quality)


@external
def record_consumption_days(batches: DynArray[signed_reading.DayBatch, MAX_DAY_BATCHES]):
    """
    @notice Record consumers' metered consumption from day batches: each an EIP-712 ReadingBatch, a consumer
            meter's run of 1 to 24 consecutive intervals (first_period, first_period + 1, ...) under one signature.
            Every value is checked as `record_consumption` checks a reading (registered meter, interval in the
            horizon and over, once per consumer and interval, quality flag, the meter's range) and recorded with
            the same ConsumptionRecorded event; any bad value or signature reverts the call.
    @dev A DayBatch carries n_values values in fixed arrays of 24 words, the rest 0 (refused otherwise: unsigned);
         the signature covers the first n_values of each array (the ReadingBatch digest that
         signed_reading.batch_signer computes, hashed inline as VppSettlement.settle_day does).
    @param batches (meter, first_period, n_values, energy_wh[24], quality[24], v, r, s) each, as words.
    """
    domain: bytes32 = self.DOMAIN_SEPARATOR
    n_periods: uint256 = self.n_periods
    for b: signed_reading.DayBatch in batches:
        assert b.meter <= ADDRESS_MASK, "certs: meter is not an address"
        meter: address = convert(b.meter, address)
        consumer: address = self.consumer_of_meter[meter]
        assert consumer != empty(address), "certs: unregistered consumption meter"
        n: uint256 = b.n_values
        assert n >= 1 and n <= MAX_DAY_VALUES, "certs: a day batch holds 1 to 24 values"
        first: uint256 = b.first_period
        assert first < n_periods and n <= n_periods - first, "certs: interval out of range"
        assert self._over(first + n - 1), "certs: interval not over"
        beyond: uint256 = 0  # values beyond n_values must be 0 (unsigned)
        if n < MAX_DAY_VALUES:
            for k: uint256 in range(n, MAX_DAY_VALUES, bound=MAX_DAY_VALUES):
                beyond |= b.energy_wh[k] | b.quality[k]
        assert beyond == 0, "certs: values beyond the batch's n_values"
        n_bytes: uint256 = n * 32
        energy_hash: bytes32 = keccak256(slice(abi_encode(b.energy_wh, ensure_tuple=False), 0, n_bytes))
        quality_hash: bytes32 = keccak256(slice(abi_encode(b.quality, ensure_tuple=False), 0, n_bytes))
        struct_hash: bytes32 = keccak256(abi_encode(signed_reading.READING_BATCH_TYPEHASH, meter, first, energy_hash,
                                                    quality_hash))
        if signed_reading.recover(domain, struct_hash, b.v, b.r, b.s) != meter:
            flaw: uint256 = signed_reading.signature_flaw(b.v, b.s)
            assert flaw != signed_reading.HIGH_S, "certs: high-s signature"
            assert flaw != signed_reading.BAD_V, "certs: bad signature v"
            raise "certs: bad signature"
        max_wh: uint256 = self.consumer_max_wh[consumer]
        for k: uint256 in range(n, bound=MAX_DAY_VALUES):
            period: uint256 = first + k
            energy_wh: uint256 = b.energy_wh[k]
            quality: uint256 = b.quality[k]
            assert self.usage[consumer][period] == 0, "certs: consumption already recorded"
            assert quality <= convert(QUALITY_ESTIMATED, uint256), "certs: unknown quality flag"
            assert energy_wh <= max_wh, "certs: reading out of range"
            self.usage[consumer][period] = (energy_wh << 1) | 1
            log ConsumptionRecorded(consumer=consumer, meter=meter, period=period, energy_wh=energy_wh,
                                    quality=convert(quality, uint8))


@external
def setApprovalForAll(operator: address, approved: bool):
    """
    @notice Allow or forbid `operator` to transfer all of the caller's certificates.
    @param operator Account acting for the caller.
    @param approved True to allow, False to revoke.
    """
    assert operator != msg.sender, "certs: approval to caller"
    assert operator != empty(address), "certs: zero address"
    self.isApprovedForAll[msg.sender][operator] = approved
    log ApprovalForAll(owner=msg.sender, operator=operator, approved=approved)


@external
def set_retirer(retirer: address, approved: bool):
    """
    @notice A registered consumer allows (or forbids) `retirer` to retire certificates on its behalf, i.e. to
            claim against its metered consumption. Without it only the consumer itself retires for itself.
    @param retirer Account retiring for the caller (e.g. its supplier).
    @param approved True to allow, False to revoke.
    """
    assert self.consumer_meter[msg.sender] != empty(address), "certs: caller is not a registered consumer"
    assert retirer != msg.sender, "certs: approval to caller"
    assert retirer != empty(address), "certs: zero address"
    self.retirer_approved[msg.sender][retirer] = approved
    log RetirerApproved(beneficiary=msg.sender, retirer=retirer, approved=approved)


@internal
def _debit(owner: address, id: uint256, amount_wh: uint256):
    assert amount_wh > 0, "certs: zero amount"
    live: uint256 = self.balanceOf[owner][id]
    if amount_wh > live:
        assert self.retired_by[owner][id] == 0, "certs: retired Wh cannot move or be retired again"
        raise "certs: insufficient balance"
    self.balanceOf[owner][id] = live - amount_wh


@internal
def _transfer(owner: address, receiver: address, id: uint256, amount_wh: uint256):
    assert msg.sender == owner or self.isApprovedForAll[owner][msg.sender], "certs: caller is not owner nor approved"
    assert receiver != empty(address), "certs: transfer to the zero address"
    self._debit(owner, id, amount_wh)
    self.balanceOf[receiver][id] += amount_wh
    log TransferSingle(operator=msg.sender, sender=owner, receiver=receiver, id=id, amount_wh=amount_wh)


@external
def safeTransferFrom(owner: address, receiver: address, id: uint256, amount_wh: uint256, data: Bytes[1024]):
    """
    @notice Move `amount_wh` of certificate `id` from `owner` to `receiver` (ERC-1155 signature; `data` is
            ignored and no receiver hook is called).
    @param owner Current holder.
    @param receiver New holder.
    @param id Certificate id.
    @param amount_wh Energy moved [Wh]; any part of the holding.
    @param data Unused.
    """
    self._transfer(owner, receiver, id, amount_wh)


@external
def transfer_many(transfers: DynArray[Transfer, MAX_BATCH]):
    """
    @notice Several transfers in one transaction; any bad one reverts them all.
    @param transfers (owner, receiver, id, amount_wh) each.
    """
    for t: Transfer in transfers:
        self._transfer(t.owner, t.receiver, t.id, t.amount_wh)


@internal
def _claim(beneficiary: address, period: uint256, amount_wh: uint256):
    """Add `amount_wh` to the beneficiary's claims in `period`, within its recorded consumption there."""
    used: uint256 = self.usage[beneficiary][period]
    assert used & 1 == 1, "certs: no metered consumption for that interval"
    claimed: uint256 = (used >> CLAIMED_SHIFT) + amount_wh
    assert claimed <= (used >> 1) & CONSUMED_MASK, "certs: claim exceeds metered consumption"
    self.usage[beneficiary][period] = (claimed << CLAIMED_SHIFT) | (used & RECORD_MASK)


@internal
def _retire(id: uint256, amount_wh: uint256, beneficiary: address, consumption_interval: uint256):
    assert consumption_interval == id & PERIOD_MASK, "certs: consumption interval is not the certificate's interval"
    assert msg.sender == beneficiary or self.retirer_approved[beneficiary][msg.sender], \
        "certs: caller is neither the beneficiary nor approved by it"
    self._debit(msg.sender, id, amount_wh)
    assert self.consumer_meter[beneficiary] != empty(address), "certs: beneficiary is not a registered consumer"
    self._claim(beneficiary, consumption_interval, amount_wh)
    self.retired_by[msg.sender][id] += amount_wh
    self.retired_wh[id] += amount_wh
    self.total_retired_wh += amount_wh
    log TransferSingle(operator=msg.sender, sender=msg.sender, receiver=empty(address), id=id, amount_wh=amount_wh)
    log Retired(id=id, holder=msg.sender, beneficiary=beneficiary, amount_wh=amount_wh,
                consumption_interval=consumption_interval)


@external
def retire(id: uint256, amount_wh: uint256, beneficiary: address, consumption_interval: uint256):
    """
    @notice Burn `amount_wh` of the caller's certificate `id` and record the claim: `beneficiary` used that
            energy in `consumption_interval`. Bounded by the beneficiary's metered consumption there. The caller
            is the beneficiary or a retirer it approved (set_retirer).
    @param id Certificate id.
    @param amount_wh Energy claimed [Wh].
    @param beneficiary Registered consumer on whose behalf the claim is made.
    @param consumption_interval Interval index of the consumption claimed against: the certificate's own
           interval (hourly matching).
    """
    self._retire(id, amount_wh, beneficiary, consumption_interval)


@external
def retire_many(retirements: DynArray[Retirement, MAX_BATCH]):
    """
    @notice Several retirements by the caller in one transaction; any bad one reverts them all.
    @param retirements (id, amount_wh, beneficiary, consumption_interval) each.
    """
    for x: Retirement in retirements:
        self._retire(x.id, x.amount_wh, x.beneficiary, x.consumption_interval)


@external
def sell_and_retire(sales: DynArray[Transfer, MAX_BATCH]):
    """
    @notice Bulk settlement of an interval's sales and claims: for each sale, move `amount_wh` of certificate `id`
            from its holder `owner` to the consumer `receiver` and retire it at once for that consumer against its
            metered consumption in the certificate's own interval. The caller must be allowed both moves, as
            `transfer_many` and `retire_many` require them: the holder's approved operator (or the holder) and the
            consumer's approved retirer (or the consumer). Every rule of a transfer followed by the consumer's own
            retirement is checked; any bad sale reverts them all.
    @dev Same events as a transfer then a retirement by the consumer (TransferSingle owner -> receiver,
         TransferSingle receiver -> 0, Retired with holder = beneficiary = receiver), except that the burn's
         operator is the caller. The consumer's balance of `id` is never written: it would be credited and debited
         by the same amount in the same call.
    @param sales (owner, receiver, id, amount_wh) each: producer, consumer, certificate, energy [Wh].
    """
    retired_total: uint256 = 0
    for t: Transfer in sales:
        # the checks of _transfer, _debit, _retire and _claim in their order (so the same reasons), inline: an
        # internal call costs ~40 opcodes; sums unsafe where the bounds hold (every amount <= a signed reading)
        owner: address = t.owner
        receiver: address = t.receiver
        id: uint256 = t.id
        amount_wh: uint256 = t.amount_wh
        assert msg.sender == owner or self.isApprovedForAll[owner][msg.sender], \
            "certs: caller is not owner nor approved"
        assert msg.sender == receiver or self.retirer_approved[receiver][msg.sender], \
            "certs: caller is neither the beneficiary nor approved by it"
        assert amount_wh > 0, "certs: zero amount"
        live: uint256 = self.balanceOf[owner][id]
        if amount_wh > live:
            assert self.retired_by[owner][id] == 0, "certs: retired Wh cannot move or be retired again"
            raise "certs: insufficient balance"
        self.balanceOf[owner][id] = unsafe_sub(live, amount_wh)
        assert self.consumer_meter[receiver] != empty(address), "certs: beneficiary is not a registered consumer"
        period: uint256 = id & PERIOD_MASK
        used: uint256 = self.usage[receiver][period]
        assert used & 1 == 1, "certs: no metered consumption for that interval"
        claimed: uint256 = unsafe_add(used >> CLAIMED_SHIFT, amount_wh)
        assert claimed <= (used >> 1) & CONSUMED_MASK, "certs: claim exceeds metered consumption"
        self.usage[receiver][period] = (claimed << CLAIMED_SHIFT) | (used & RECORD_MASK)
        self.retired_by[receiver][id] = unsafe_add(self.retired_by[receiver][id], amount_wh)
        self.retired_wh[id] = unsafe_add(self.retired_wh[id], amount_wh)
        retired_total = unsafe_add(retired_total, amount_wh)
        log TransferSingle(operator=msg.sender, sender=owner, receiver=receiver, id=id, amount_wh=amount_wh)
        log TransferSingle(operator=msg.sender, sender=receiver, receiver=empty(address), id=id, amount_wh=amount_wh)
        log Retired(id=id, holder=receiver, beneficiary=receiver, amount_wh=amount_wh, consumption_interval=period)
    self.total_retired_wh += retired_total
