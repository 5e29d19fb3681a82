# pragma version 0.4.3
# pragma evm-version prague
"""
@title signed_reading
@notice EIP-712 typed data of a meter reading, shared by the settlement contracts:
        Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality) in the domain
        (name "gridledger", version "1", chainId, verifyingContract), and of a meter's run of consecutive
        readings under one signature:
        ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality)
        (EIP-712 arrays: keccak256 of the elements' 32-byte words, concatenated).
@dev A library module: pure functions only; each contract asserts with its own reason strings.
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

QUALITY_ESTIMATED: constant(uint8) = 1
SECP256K1_HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168
DOMAIN_TYPEHASH: constant(bytes32) = keccak256(
    "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
READING_TYPEHASH: constant(bytes32) = keccak256(
    "Reading(address meter,uint256 period,uint256 energy_wh,uint8 quality)"
)
READING_BATCH_TYPEHASH: constant(bytes32) = keccak256(
    "ReadingBatch(address meter,uint256 first_period,uint256[] energy_wh,uint8[] quality)"
)


@internal
@view
def domain_separator(verifying_contract: address) -> bytes32:
    """
    @notice The EIP-712 domain separator of `verifying_contract` on this chain.
    @param verifying_contract The contract that verifies the readings.
    """
    return keccak256(abi_encode(DOMAIN_TYPEHASH, keccak256("gridledger"), keccak256("1"), chain.id,
                                verifying_contract))


@internal
@pure
def is_high_s(r: Reading) -> bool:
    """
    @notice True for a malleable signature (s in the upper half of the curve order) or a bad v.
    @param r The signed reading.
    """
    return convert(r.s, uint256) > SECP256K1_HALF_N or (r.v != 27 and r.v != 28)


@internal
@pure
def signer(domain: bytes32, r: Reading) -> address:
    """
    @notice The address whose key signed `r` in `domain` (empty if the signature is invalid).
    @param domain EIP-712 domain separator.
    @param r The signed reading.
    """
    struct_hash: bytes32 = keccak256(abi_encode(READING_TYPEHASH, r.meter, r.period, r.energy_wh, r.quality))
    return ecrecover(keccak256(concat(x"1901", domain, struct_hash)), r.v, r.r, r.s)


@internal
@pure
def batch_is_high_s(b: ReadingBatch) -> bool:
    """
    @notice True for a malleable signature (s in the upper half of the curve order) or a bad v.
    @param b The signed batch.
    """
    return convert(b.s, uint256) > SECP256K1_HALF_N or (b.v != 27 and b.v != 28)


@internal
@pure
def batch_signer(domain: bytes32, b: ReadingBatch) -> address:
    """
    @notice The address whose key signed the batch `b` in `domain` (empty if the signature is invalid).
    @dev An array's EIP-712 encoding is keccak256 of its elements' words: the ABI encoding of the array without
         its 32-byte length prefix.
    @param domain EIP-712 domain separator.
    @param b The signed batch.
    """
    n: uint256 = len(b.energy_wh)
    energy_hash: bytes32 = keccak256(slice(abi_encode(b.energy_wh, ensure_tuple=False), 32, 32 * n))
    quality_hash: bytes32 = keccak256(slice(abi_encode(b.quality, ensure_tuple=False), 32, 32 * len(b.quality)))
    struct_hash: bytes32 = keccak256(abi_encode(READING_BATCH_TYPEHASH, b.meter, b.first_period, energy_hash,
                                                quality_hash))
    return ecrecover(keccak256(concat(x"1901", domain, struct_hash)), b.v, b.r, b.s)
