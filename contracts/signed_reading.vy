# pragma version 0.4.3
# pragma evm-version prague
"""
@title signed_reading
@notice The one EIP-712 module of gridledger: every contract that takes a meter's or a device's signed record
        checks its signature here. Domain (name "gridledger", version "1", chainId, verifyingContract); the
        records, with their type strings (the same as contracts/eip712.py signs):
        Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality) (VppSettlement, Certificates,
        MutualInsurance);
        ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality), a meter's run of
        consecutive readings under one signature (EIP-712 arrays: keccak256 of the elements' 32-byte words;
        VppSettlement, also as DayBatch for settle_day);
        HeatReading(address meter,address consumer,uint256 period,uint256 heat_wh,uint256 volume_ml,uint256
        vt_supply_mlmc,uint256 vt_return_mlmc,uint8 quality) (HeatEfficiency);
        Delay(address outlet,uint256 event_id,uint256 start_min,uint256 delay_min,uint256 shifted_wh,uint8
        appliance), a smart outlet's delay report (FlexDelays).
@dev A library module: constants, structs and pure or view functions, no state. Shared: the domain separator,
     `recover` (digest keccak256(0x1901 || domain || structHash), ecrecover, and the refusals: a signature not of
     canonical form, i.e. high s (the malleable twin of a valid signature) or v neither 27 nor 28, recovers the
     zero address, as an invalid one does) and `signature_flaw` (which refusal applies). Only the struct hash
     differs per record: each `*_signer` hashes its record and returns `recover`'s result. A contract compares
     that with the registered signer, a non-zero address, and only when they differ asks `signature_flaw` which
     of its own reasons to revert with ("high-s signature", "bad signature v", else "bad signature"); where the
     claimed signer may still be the zero address, it asks `signature_flaw` for that case too. Vyper calls a
     module's internal function, it does not inline it: per record one call to the record's signer, one from
     there to `recover`.
"""

struct Reading:
    meter: address
    period: uint256
    energy_wh: uint256
    quality: uint8
    v: uint8
    r: bytes32
    s: bytes32

MAX_VALUES: constant(uint256) = 168  # a week of hourly values per signature

struct ReadingBatch:
    meter: address
    first_period: uint256
    energy_wh: DynArray[uint256, MAX_VALUES]
    quality: DynArray[uint8, MAX_VALUES]
    v: uint8
    r: bytes32
    s: bytes32

MAX_DAY_VALUES: constant(uint256) = 24  # a day of hourly values

# The same EIP-712 ReadingBatch (same type hash, same digest: bounds are not part of the type) for a day: the
# first n_values of fixed arrays of a day's values, the rest 0. Every field is a plain word (the meter's address
# and v too; the contract converts them with range checks), so that vyper copies a calldata array of these in one
# CALLDATACOPY instead of element by element with clamps, and each array hashes without a copy loop. quality
# travels as words: EIP-712 encodes a uint8 as its 32-byte word, so the digest is the same (the contract checks
# each flag's range).
struct DayBatch:
    meter: uint256
    first_period: uint256
    n_values: uint256
    energy_wh: uint256[MAX_DAY_VALUES]
    quality: uint256[MAX_DAY_VALUES]
    v: uint256
    r: bytes32
    s: bytes32

struct HeatReading:
    meter: address
    consumer: address
    period: uint256
    heat_wh: uint256
    volume_ml: uint256
    vt_supply_mlmc: uint256
    vt_return_mlmc: uint256
    quality: uint8
    v: uint8
    r: bytes32
    s: bytes32

struct Delay:
    outlet: address
    event_id: uint256
    start_min: uint256
    delay_min: uint256
    shifted_wh: uint256
    appliance: uint8
    v: uint8
    r: bytes32
    s: bytes32

QUALITY_MEASURED: constant(uint8) = 0
QUALITY_ESTIMATED: constant(uint8) = 1
# what signature_flaw finds in a signature's form, in the order it looks
NO_FLAW: constant(uint256) = 0
HIGH_S: constant(uint256) = 1  # s in the upper half of the curve order: the malleable twin of a valid signature
BAD_V: constant(uint256) = 2  # v neither 27 nor 28
SECP256K1_HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
EIP712_PREFIX: constant(uint256) = 6401  # 0x1901 as a word: its last two bytes are EIP-712's "\x19\x01"
DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
READING_TYPEHASH: constant(bytes32) = keccak256(
    "Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)"
)
READING_BATCH_TYPEHASH: constant(bytes32) = keccak256(
    "ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality)"
)
HEAT_READING_TYPEHASH: constant(bytes32) = keccak256(
    "HeatReading(address meter,address consumer,uint256 period,uint256 heat_wh,uint256 volume_ml,uint256 vt_supply_mlmc,uint256 vt_return_mlmc,uint8 quality)"
)
DELAY_TYPEHASH: constant(bytes32) = keccak256(
    "Delay(address outlet,uint256 event_id,uint256 start_min,uint256 delay_min,uint256 shifted_wh,uint8 appliance)"
)


# --- shared machinery ---------------------------------------------------------------------------------------------
@internal
@view
def domain_separator(verifying_contract: address) -> bytes32:
    """
    @notice The EIP-712 domain separator of `verifying_contract` on this chain.
    @param verifying_contract The contract that verifies the records.
    """
    return keccak256(abi_encode(DOMAIN_TYPEHASH, keccak256("gridledger"), keccak256("1"), chain.id,
                                verifying_contract))


@internal
@pure
def signature_flaw(v: uint256, s: bytes32) -> uint256:
    """
    @notice Why `recover` refuses a signature's form: HIGH_S if s is in the upper half of the curve order (the
            malleable twin of a valid signature), else BAD_V if v is neither 27 nor 28, else NO_FLAW.
    @param v Recovery id (a uint8 converted, or a DayBatch's word).
    @param s The signature's s.
    """
    if convert(s, uint256) > SECP256K1_HALF_N:
        return HIGH_S
    if v != 27 and v != 28:
        return BAD_V
    return NO_FLAW


@internal
@pure
def recover(domain: bytes32, struct_hash: bytes32, v: uint256, r: bytes32, s: bytes32) -> address:
    """
    @notice The address whose key signed the record of `struct_hash` in `domain`; the zero address if the
            signature is invalid or not of canonical form (see signature_flaw).
    @dev The digest keccak256(0x1901 || domain || struct_hash) hashes the last 66 bytes of three words (cheaper
         than concat).
    @param domain EIP-712 domain separator.
    @param struct_hash EIP-712 hashStruct of the record.
    @param v Recovery id (a uint8 converted, or a DayBatch's word); r, s: the signature.
    """
    if convert(s, uint256) > SECP256K1_HALF_N or (v != 27 and v != 28):
        return empty(address)
    return ecrecover(keccak256(slice(abi_encode(EIP712_PREFIX, domain, struct_hash), 30, 66)), v, r, s)


# --- struct hashes and signers, per record --------------------------------------------------------------------------
@internal
@pure
def reading_signer(domain: bytes32, r: Reading) -> address:
    """
    @notice The address whose key signed the Reading `r` in `domain` (recover's result).
    @param domain EIP-712 domain separator.
    @param r The signed reading.
    """
    return self.recover(domain, keccak256(abi_encode(READING_TYPEHASH, r.meter, r.period, r.energy_wh, r.quality)),
                        convert(r.v, uint256), r.r, r.s)


@internal
@pure
def batch_signer(domain: bytes32, b: ReadingBatch) -> address:
    """
    @notice The address whose key signed the batch `b` in `domain` (recover's result).
    @dev An array's EIP-712 encoding is keccak256 of its elements' words: the ABI encoding of the array without
         its 32-byte length prefix.
    @param domain EIP-712 domain separator.
    @param b The signed batch.
    """
    n: uint256 = len(b.energy_wh)
    energy_hash: bytes32 = keccak256(slice(abi_encode(b.energy_wh, ensure_tuple=False), 32, 32 * n))
    quality_hash: bytes32 = keccak256(slice(abi_encode(b.quality, ensure_tuple=False), 32, 32 * len(b.quality)))
    # hashStruct(ReadingBatch); VppSettlement.settle_day hashes a DayBatch the same way, inline
    struct_hash: bytes32 = keccak256(abi_encode(READING_BATCH_TYPEHASH, b.meter, b.first_period, energy_hash,
                                                quality_hash))
    return self.recover(domain, struct_hash, convert(b.v, uint256), b.r, b.s)


@internal
@pure
def heat_reading_signer(domain: bytes32, r: HeatReading) -> address:
    """
    @notice The address whose key signed the HeatReading `r` in `domain` (recover's result).
    @param domain EIP-712 domain separator.
    @param r The signed heat reading.
    """
    struct_hash: bytes32 = keccak256(
        abi_encode(
            HEAT_READING_TYPEHASH, r.meter, r.consumer, r.period, r.heat_wh, r.volume_ml, r.vt_supply_mlmc,
            r.vt_return_mlmc, r.quality
        )
    )
    return self.recover(domain, struct_hash, convert(r.v, uint256), r.r, r.s)


@internal
@pure
def delay_signer(domain: bytes32, d: Delay) -> address:
    """
    @notice The address whose key signed the Delay report `d` in `domain` (recover's result).
    @param domain EIP-712 domain separator.
    @param d The signed delay report.
    """
    struct_hash: bytes32 = keccak256(
        abi_encode(DELAY_TYPEHASH, d.outlet, d.event_id, d.start_min, d.delay_min, d.shifted_wh, d.appliance)
    )
    return self.recover(domain, struct_hash, convert(d.v, uint256), d.r, d.s)
