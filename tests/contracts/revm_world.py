"""Three contracts (EuroToken, MutualInsurance, Certificates) on one chain of either backend, driven by a
seeded sequence of operations, with every view of every contract read at every argument of its domain and the
storage compared slot for slot (py-evm's from its state trie): what ``test_revm_rebuild.py`` compares between a
revm chain that finalises its journal, one that never does, and py-evm."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import rlp
from eth_utils import keccak, to_canonical_address
from pyrevm import AccountInfo
from trie import HexaryTrie
from trie.iter import NodeIterator

import contracts.revm_state as revm_state
from contracts.backends import make_chain
from contracts.certificates import CapPost, Certificates, MintRequest, cert_id
from contracts.chain import BaseChain, ChainRevert
from contracts.eip712 import key_for, sign_reading
from contracts.insurance import MutualInsurance
from contracts.token import EuroToken

GENESIS_S = 1_700_000_000
T0_S = GENESIS_S + 7200
PERIOD_S = 3600
N_PERIODS = 6
FINALISE_EVERY_TX = 3
CHECK_EVERY_OPS = 60  # views of the two revm chains compared every so many operations (py-evm's at the end)
IDLE = "0x" + "5a" * 20  # an account written into the database and never used by a transaction
ZERO = "0x" + "00" * 20
WEATHER = b"\x02" * 32
BARE_REVERT = ("b''", "reverted")  # a view's revert without reason (an index out of range): py-evm's, revm's words


@dataclass
class World:
    """The three contracts on one chain, their actors and keys."""

    chain: BaseChain
    token: EuroToken
    ins: MutualInsurance
    certs: Certificates
    bank: str
    insurer: str
    oracle: str
    issuer: str
    members: list[str]
    consumers: list[str]
    member_keys: list
    device_keys: list
    consumer_keys: list
    txs: list[tuple[bytes, int]]  # every transaction's calldata and gas used [gas units]
    now: int = -1

    @property
    def eoas(self) -> list[str]:
        return [self.bank, self.insurer, self.oracle, self.issuer, *self.members, *self.consumers]

    @property
    def contracts(self) -> dict[str, object]:
        return {"EuroToken": self.token, "MutualInsurance": self.ins, "Certificates": self.certs}


def record_txs(chain: BaseChain) -> list[tuple[bytes, int]]:
    """Every transaction ``chain`` runs from now on: (calldata, gas used [gas units])."""
    seen: list[tuple[bytes, int]] = []
    one, many = chain._execute, chain._execute_many

    def execute(sender, to, data, gas):
        raw = one(sender, to, data, gas)
        seen.append((data, raw["gas_used"]))
        return raw

    def execute_many(txs):
        raws = many(txs)
        seen.extend((tx[2], raw["gas_used"]) for tx, raw in zip(txs, raws))
        return raws

    chain._execute, chain._execute_many = execute, execute_many
    return seen


def build(backend: str, finalise_every_tx: int | None = None) -> World:
    chain = make_chain(backend, GENESIS_S)
    txs = record_txs(chain)
    if backend == "revm":
        chain.finalise_every_tx = finalise_every_tx
        chain.evm.insert_account_info(IDLE, AccountInfo(balance=5, nonce=3))
    bank, insurer, oracle, issuer = chain.new_accounts([key_for(0, x) for x in ("bank", "insurer", "oracle", "issuer")])
    members = chain.new_accounts([key_for(0, f"member-{i}") for i in range(3)])
    consumers = chain.new_accounts([key_for(0, f"consumer-{i}") for i in range(2)])
    member_keys = [key_for(0, f"member-meter-{i}") for i in range(3)]
    device_keys = [key_for(0, f"device-meter-{i}") for i in range(2)]
    consumer_keys = [key_for(0, f"consumer-meter-{i}") for i in range(2)]
    token = EuroToken.deploy(chain, minter=bank)
    ins = MutualInsurance.deploy(chain, insurer=insurer, token=token.address, oracle=oracle, t0_s=T0_S,
                                 period_s=PERIOD_S, price_ueur_per_kwh=100_000, threshold_bps=2000)
    certs = Certificates.deploy(chain, issuer=issuer, oracle=oracle, t0_s=T0_S, period_s=PERIOD_S,
                                n_periods=N_PERIODS)
    for m, k in zip(members, member_keys):
        ins.join(m, k.public_key.to_checksum_address(), 2_000_000, 400_000, 500_000, 50_000, sender=insurer)
        token.mint(m, 10**8, sender=bank)
        token.approve(ins.address, 10**18, sender=m)
    certs.register_devices([(members[i], device_keys[i].public_key.to_checksum_address(), f"dev-{i}", tech, 53.5,
                             9.5, 500_000) for i, tech in enumerate(("pv", "wind"))], sender=issuer)
    certs.register_consumers([(c, k.public_key.to_checksum_address(), f"consumer-{i}", 50_000)
                              for i, (c, k) in enumerate(zip(consumers, consumer_keys))], sender=issuer)
    return World(chain, token, ins, certs, bank, insurer, oracle, issuer, members, consumers, member_keys,
                 device_keys, consumer_keys, txs)


# operations: drawn once from a seeded stream, then applied to each chain --------------------------------------
def draw_ops(seed: int, n_periods: int = N_PERIODS) -> list[tuple]:
    """Period by period: premiums, payments, then once the period is over the oracle's expected production,
    signed measurements, outages, claims (some above the loss), a solvency record, weather caps, certificate
    mints (some not min(metered, cap)), consumption, transfers and retirements (some beyond the balance);
    with faults sprinkled in (wrong senders, duplicates, readings out of range)."""
    rng = random.Random(seed)
    ops: list[tuple] = []
    for p in range(n_periods):
        ops.append(("advance",))  # in period p
        ops += [("premiums", p), ("premiums", p + rng.choice([1, 2]))]
        for _ in range(3):
            ops.append(rng.choice([
                ("transfer", rng.randrange(3), rng.randrange(4), rng.choice([1, 10_000, 10**9])),
                ("mint", rng.randrange(3), rng.randrange(1, 10**6), rng.random() < 0.8),
                ("approve", rng.randrange(3), rng.randrange(3), rng.choice([0, 5, 10**18]))]))
        ops.append(("advance",))  # period p is over
        expected = [rng.randrange(10_000, 30_000) for _ in range(3)]
        ops.append(("expected", p, expected))
        if rng.random() < 0.3:
            ops.append(("expected", p, expected))  # a second time
        measured = [rng.choice([rng.randrange(0, e), e, 60_000]) for e in expected]  # 60 kWh: beyond the range
        for i in range(3):
            ops.append(("measure", i, p, measured[i]))
            if rng.random() < 0.6:
                ops.append(("outage", i, p, rng.random() < 0.2))
            ops.append(("claim", i, p, int(max(0, expected[i] - measured[i]) * rng.uniform(0.2, 1.1))))
        ops.append(("solvency", p))
        for device in (1, 2):
            cap, metered = rng.randrange(1000, 6000), rng.randrange(0, 6000)
            ops.append(("cap", device, p, cap))
            amount = min(cap, metered) if rng.random() < 0.85 else rng.randrange(1, 6000)
            ops.append(("cert_mint", device, p, amount, metered))
            for j in range(2):
                ops.append(("consume", j, p, rng.randrange(0, 3000)))
                ops.append(("cert_transfer", device, p, j, rng.randrange(0, 1500)))
                ops.append(("retire", j, device, p, rng.randrange(0, 1000), rng.choice([p, p, p, p - 1])))
    return ops


def apply(w: World, op: tuple) -> str:
    """Run one operation; its outcome: "ok", the revert reason, or the refused readings' reasons."""
    kind, *a = op
    try:
        if kind == "advance":
            w.now += 1
            w.chain.set_time(T0_S + w.now * PERIOD_S + 10)
        elif kind == "transfer":
            i, j, amount = a
            receiver = (w.members + [w.ins.address])[j]
            w.token.transfer(receiver, amount, sender=w.members[i])
        elif kind == "mint":
            i, amount, by_minter = a
            w.token.mint(w.members[i], amount, sender=w.bank if by_minter else w.members[i])
        elif kind == "approve":
            i, j, amount = a
            w.token.approve(w.members[j], amount, sender=w.members[i])
        elif kind == "premiums":
            w.ins.collect_premiums(a[0], sender=w.insurer)
        elif kind == "expected":
            w.ins.post_expected(a[0], w.members, a[1], b"\x01" * 32, sender=w.oracle)
        elif kind == "measure":
            i, period, wh = a
            r = sign_reading(w.member_keys[i], w.ins.domain_separator, period, wh, 0)
            return f"refused {w.ins.submit_readings([r], sender=w.insurer)}"
        elif kind == "outage":
            i, period, by_member = a
            w.ins.report_outage(period, w.members[i], 0, sender=w.members[i] if by_member else w.oracle)
        elif kind == "claim":
            i, period, loss = a
            w.ins.claim(period, loss, sender=w.members[i])
        elif kind == "solvency":
            w.ins.record_solvency(a[0], sender=w.insurer)
        elif kind == "cap":
            device, period, cap = a
            return f"refused {w.certs.post_caps([CapPost(device, period, cap, WEATHER)], sender=w.oracle)}"
        elif kind == "cert_mint":
            device, period, amount, metered = a
            r = sign_reading(w.device_keys[device - 1], w.certs.domain_separator, period, metered, 0)
            return f"refused {w.certs.mint([MintRequest(device, amount, r)], sender=w.issuer)}"
        elif kind == "consume":
            i, period, wh = a
            r = sign_reading(w.consumer_keys[i], w.certs.domain_separator, period, wh, 0)
            return f"refused {w.certs.record_consumption([r], sender=w.issuer)}"
        elif kind == "cert_transfer":
            device, period, j, amount = a
            owner = w.members[device - 1]
            w.certs.transfer(owner, w.consumers[j], cert_id(device, period), amount, sender=owner)
        elif kind == "retire":
            i, device, period, amount, interval = a
            w.certs.retire(cert_id(device, period), amount, w.consumers[i], max(interval, 0), sender=w.consumers[i])
        else:
            raise AssertionError(kind)
    except ChainRevert as exc:
        return f"revert {exc.reason}"
    return "ok"


# every view of every contract -------------------------------------------------------------------------------
def _domains(w: World, short: bool) -> dict[str, list]:
    ids = [cert_id(d, p) for d in (1, 2) for p in range(N_PERIODS)]
    people = [*w.members, *w.consumers]
    return {
        "address": (people + [w.ins.address, ZERO]) if short else (w.eoas + list(w.chain.deployed().values())
                                                                   + [ZERO, IDLE]),
        "period": list(range(N_PERIODS + 1)),
        "index": list(range(5)),  # members(i): 3 members, then out of range
        "device": list(range(4)),  # devices 1, 2; 0 and 3 unregistered
        "id": ids + [cert_id(3, 0), 0],
    }


# the uint arguments of each view that has any, by domain; address arguments take the addresses
UINT_ARGS = {
    ("MutualInsurance", "members"): ["index"],
    **{("MutualInsurance", fn): ["period"] for fn in ("expected_wh", "expected_posted", "measured_wh",
                                                      "measured_posted", "outage", "claimed", "premium_paid")},
    **{("Certificates", fn): ["period"] for fn in ("consumption_recorded", "consumed_wh", "claimed_wh")},
    ("Certificates", "cert_id"): ["device", "period"],
    ("Certificates", "cap_posted"): ["id"],
    ("Certificates", "device_owner"): ["device"],
    ("Certificates", "device_meter"): ["device"],
    ("Certificates", "device_nameplate_w"): ["device"],
    ("Certificates", "cap_wh"): ["id"],
    ("Certificates", "weather_hash"): ["id"],
    ("Certificates", "minted_wh"): ["id"],
    ("Certificates", "retired_wh"): ["id"],
    ("Certificates", "balanceOf"): ["id"],
    ("Certificates", "retired_by"): ["id"],
}
ARRAY_VIEWS = {("Certificates", "balanceOfBatch"), ("Certificates", "caps_of")}


def views(w: World, short: bool = False) -> dict[tuple, object]:
    """Every view of every contract at every argument of its domains (``short``: fewer addresses, for py-evm,
    whose calls take ~10 ms): (contract, function, args) -> its answer, or its revert reason."""
    d = _domains(w, short)
    out: dict[tuple, object] = {}
    for name, wrapper in w.contracts.items():
        for fn, item in wrapper.contract.functions.items():
            if item["stateMutability"] not in ("view", "pure"):
                continue
            if (name, fn) in ARRAY_VIEWS:
                pairs = list(itertools.product(d["address"], d["id"]))
                args_list = [([o for o, _ in pairs], [i for _, i in pairs])] if fn == "balanceOfBatch" else [(d["id"],)]
            else:
                uints = iter(UINT_ARGS.get((name, fn), []))
                domains = [d["address"] if i["type"] == "address" else d[next(uints)] for i in item["inputs"]]
                assert all(i["type"] in ("address", "uint256") for i in item["inputs"]), (name, fn)
                args_list = list(itertools.product(*domains))
            for args in args_list:
                try:
                    value = w.chain.call(wrapper.contract, fn, *args)
                except ChainRevert as exc:  # a revert without data: py-evm says "b''", revm "reverted"
                    value = f"revert {'' if exc.reason in BARE_REVERT else exc.reason}"
                out[(name, fn, tuple(str(x) for x in args))] = value
    return out


# storage, slot for slot ---------------------------------------------------------------------------------------
def pyevm_storage(chain: BaseChain, address: str) -> dict[bytes, int]:
    """py-evm's storage of ``address`` from its state trie: keccak(slot) -> value (non-zero ones only)."""
    head = chain._backend.chain
    account = head.get_vm().state._account_db._get_account(to_canonical_address(address))
    trie = HexaryTrie(head.chaindb.db, account.storage_root)
    return {k: rlp.decode(trie[k], sedes=rlp.sedes.big_endian_int) for k in NodeIterator(trie).keys()}


def storage_differences(never: World, finalising: World, ref: World | None) -> list[str]:
    """Where the storage or an account of the finalising revm chain differs: every contract's slots are taken from
    the never-finalising chain's journal (which holds them all), checked complete against py-evm's trie (``ref``,
    unless None), and read on the finalising chain; contract code hashes and nonces, and the idle account,
    compared too."""
    out = []
    held = revm_state.journal_storage(never.chain.evm.journal_str)
    for name, address in never.chain.deployed().items():
        slots = {k: s.present for k, s in held[address.lower()].items() if s.present}
        hashed = {keccak(k.to_bytes(32, "big")): v for k, v in slots.items()}
        if ref is not None and hashed != pyevm_storage(ref.chain, address):
            out.append(f"{name}: the never-finalising revm chain's storage is not py-evm's")
        evm = finalising.chain.evm
        lost = [k for k, v in slots.items() if evm.storage(address, k) != v]
        if lost:
            out.append(f"{name}: {len(lost)} of {len(slots)} slots differ on the finalising chain")
        mine = evm.basic(address)
        if ref is not None:
            theirs = ref.chain._backend.chain.get_vm().state._account_db._get_account(to_canonical_address(address))
            if (bytes(mine.code_hash), mine.nonce) != (theirs.code_hash, theirs.nonce):
                out.append(f"{name}: code hash or nonce differs from py-evm's")
        if (mine.balance, mine.nonce) != (never.chain.evm.basic(address).balance, never.chain.evm.basic(address).nonce):
            out.append(f"{name}: balance or nonce differs from the never-finalising chain's")
    for w in (never, finalising):
        info = w.chain.evm.basic(IDLE)
        if (info.balance, info.nonce) != (5, 3):
            out.append(f"the idle account is {info.balance} wei, nonce {info.nonce} on a revm chain")
    for eoa in never.eoas:
        a, b = never.chain.evm.basic(eoa), finalising.chain.evm.basic(eoa)
        if (a.balance, a.nonce) != (b.balance, b.nonce):
            out.append(f"account {eoa}: balance or nonce differs")
    return out


@dataclass
class Ran:
    ref: World  # py-evm
    never: World  # revm, never finalising
    fin: World  # revm, finalising every few transactions
    outcomes: list[str]  # py-evm's, per operation
    diffs: list[str]


def run_all(ops: list[tuple], finalise_every_tx: int = FINALISE_EVERY_TX, reference: bool = True) -> Ran:
    """The operations on py-evm (unless not ``reference``), on revm never finalising and on revm finalising every
    ``finalise_every_tx`` transactions; the differences found (outcomes, events, views, storage)."""
    never, fin = build("revm", None), build("revm", finalise_every_tx)
    ref = build("py-evm") if reference else never
    worlds = [ref, never, fin] if reference else [never, fin]
    diffs, ref_outcomes = [], []
    for k, op in enumerate(ops):
        outcomes = [apply(w, op) for w in worlds]
        ref_outcomes.append(outcomes[0])
        if len(set(outcomes)) != 1:
            diffs.append(f"op {k} {op}: outcomes {outcomes}")
        if (k + 1) % CHECK_EVERY_OPS == 0 and views(never) != views(fin):
            diffs.append(f"after op {k}: views differ between the revm chains")
    if list(never.chain.events) != list(fin.chain.events):
        diffs.append("events differ between the revm chains")
    plain = [[(e.block, e.log_index, e.contract, e.event, e.args, e.address) for e in w.chain.events]
             for w in (ref, fin)]
    if plain[0] != plain[1]:
        diffs.append("events differ from py-evm's")
    if views(never) != views(fin):
        diffs.append("views differ between the revm chains at the end")
    if reference and views(ref, short=True) != views(fin, short=True):
        diffs.append("views differ from py-evm's at the end")
    diffs += storage_differences(never, fin, ref if reference else None)
    return Ran(ref, never, fin, ref_outcomes, diffs)


def calldata_floor(data: bytes) -> int:
    """EIP-7623's least gas of a transaction with calldata ``data`` (Prague): 21 000 + 10 per token, a zero byte
    one token, any other four [gas units]."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


