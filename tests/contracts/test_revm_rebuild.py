"""The revm backend finalising its journal into its database every few transactions (``RevmChain.finalise``,
``contracts.revm_state``) changes no state: EuroToken, MutualInsurance and Certificates driven through their
wrappers by one seeded sequence of transactions (a third of them reverting) give the same outcome per
transaction, the same events, the same answer from every view of every contract, and the same storage, when the
journal is finalised every 3 transactions as when it never is, and as on py-evm: the reference, whose storage we
read from its own state trie, slot for slot. The check's power is tested too: a finalisation that loses a slot,
or an account's nonce, is caught. A whole run of scenarios/insurance.toml (3 days) finalising every 7
transactions gives the ledger, readings, timeseries and summary (all but gas) of one that never does.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

import pytest
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
from contracts.revm_chain import RevmChain
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


def test_every_view_with_an_argument_has_its_domain():
    w = build("revm")
    for name, wrapper in w.contracts.items():
        for fn, item in wrapper.contract.functions.items():
            if item["stateMutability"] in ("view", "pure") and (name, fn) not in ARRAY_VIEWS:
                uints = [i for i in item["inputs"] if i["type"] != "address"]
                assert all(i["type"] == "uint256" for i in uints), (name, fn)
                assert len(uints) == len(UINT_ARGS.get((name, fn), [])), (name, fn)


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


@pytest.fixture(scope="module")
def ran():
    return run_all(draw_ops(11))


def test_finalising_changes_no_outcome_event_view_or_slot(ran):
    assert ran.diffs == []
    assert ran.fin.chain.n_finalised > len(ran.outcomes) // 6 and ran.never.chain.n_finalised == 0
    logs = [w.chain.evm.journal_str.count("Log { address: ") for w in (ran.never, ran.fin)]
    assert logs[0] == len(list(ran.never.chain.events)) and logs[1] < logs[0] / 20  # the journal's logs are gone


def test_the_sequence_is_not_trivial(ran):
    """Every kind of change happens (checked on py-evm), and many transactions revert or are refused."""
    kinds = {e.event for e in ran.ref.chain.events}
    assert {"Transfer", "Approval", "PremiumPaid", "ExpectedPosted", "MeasuredAccepted", "OutageReported",
            "ClaimPaid", "Solvency", "CapPosted", "Issued", "ConsumptionRecorded", "TransferSingle",
            "Retired"} <= kinds, kinds
    assert len(list(ran.ref.chain.events)) > 150
    refused = sum(o.startswith("revert") or (o.startswith("refused") and o != "refused []") for o in ran.outcomes)
    assert len(ran.outcomes) / 5 < refused < len(ran.outcomes) * 2 / 3, refused


def calldata_floor(data: bytes) -> int:
    """EIP-7623's least gas of a transaction with calldata ``data`` (Prague): 21 000 + 10 per token, a zero byte
    one token, any other four [gas units]."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))


def test_gas_equals_py_evm_when_finalising_every_transaction():
    """Finalised before each transaction, revm loads every account and slot cold, with the original value of
    the slot from the database: EIP-2929 / EIP-2200 as py-evm charges them, transaction by transaction. One
    difference stays: py-evm applies Prague's calldata floor (EIP-7623), which pyrevm 0.3.7's revm 8 predates, so
    a transaction that does less work than its calldata's floor (a revert early in ``retire``) pays the floor on
    py-evm."""
    ops = draw_ops(5, 2)
    ref, fin = build("py-evm"), build("revm", 1)
    assert [apply(ref, op) for op in ops] == [apply(fin, op) for op in ops]
    assert [d for d, _ in ref.txs] == [d for d, _ in fin.txs] and len(ref.txs) > 60
    assert [gas for _, gas in ref.txs] == [max(gas, calldata_floor(d)) for d, gas in fin.txs]
    floored = sum(gas < calldata_floor(d) for d, gas in fin.txs)
    assert 0 < floored < len(fin.txs) / 10
    never = build("revm", None)  # without finalising, many transactions pay less (warm slots)
    [apply(never, op) for op in ops]
    assert sum(a != b for (_, a), (_, b) in zip(never.txs, fin.txs)) > len(fin.txs) / 3


@pytest.mark.parametrize("fault", ["a slot", "an account's nonce"])
def test_a_lost_slot_or_account_is_caught(monkeypatch, fault):
    """The comparisons above find a finalisation that drops a slot (the parser's last one of each account) or
    writes an account without its nonce, from the 10th finalisation on (once the set-up is done: a set-up
    transaction that reverts raises)."""
    parse, info, finalised = revm_state.journal_slots, revm_state._account_info, [0]

    def journal_slots(text):  # called once per finalisation
        finalised[0] += 1
        slots = parse(text)
        return {a: s[:-1] for a, s in slots.items()} if fault == "a slot" and finalised[0] > 10 else slots

    def account_info(i, cache):
        if fault == "a slot" or finalised[0] <= 10:
            return info(i, cache)
        return AccountInfo(balance=int(i.balance), code=info(i, cache).code)

    monkeypatch.setattr(revm_state, "journal_slots", journal_slots)
    monkeypatch.setattr(revm_state, "_account_info", account_info)
    diffs = run_all(draw_ops(11, 2), reference=False).diffs
    assert diffs, "a faulty finalisation went unnoticed"


def test_the_parser_reads_later_revm_s_slots_and_refuses_what_it_cannot_read():
    """revm >= 9 prints ``EvmStorageSlot { original_value, present_value, is_cold }``; a slot in a form this
    parser does not know raises instead of being skipped."""
    head = "JournaledState { state: {0x" + "ab" * 20 + ": Account { info: AccountInfo { balance: 0, nonce: 1, " \
        "code_hash: 0x" + "00" * 32 + ", code: None }, storage: {"
    tail = "}, status: AccountStatus(Touched) }}, transient_storage: {}, logs: [], depth: 0, journal: [] }"
    later = head + "0x1f: EvmStorageSlot { original_value: 0x0, present_value: 0x2a, is_cold: false }, " \
        "7: EvmStorageSlot { original_value: 3, present_value: 3, is_cold: true }" + tail
    slots = revm_state.journal_storage(later)["0x" + "ab" * 20]
    assert slots == {31: revm_state.Slot(0, 42), 7: revm_state.Slot(3, 3)}
    odd = head + "5: StorageSlot { present_value: 9 }" + tail
    with pytest.raises(revm_state.RevmStateError, match="read 0 of 1 storage slots"):
        revm_state.journal_slots(odd)
    with pytest.raises(revm_state.RevmStateError, match="does not start as expected"):
        revm_state.journal_slots("State { }")


def test_deployed_code_is_cut_back_from_revm_s_analysed_bytecode():
    chain = RevmChain(GENESIS_S)
    bank = chain.new_account(key_for(0, "bank"))
    token = EuroToken.deploy(chain, minter=bank)
    analysed = chain.evm.get_code(token.address)
    info = chain.evm.basic(token.address)
    code = revm_state.original_code(analysed, bytes(info.code_hash), {})
    assert keccak(code) == bytes(info.code_hash) and len(code) < len(analysed)
    assert set(analysed[len(code):]) == {0}
    with pytest.raises(revm_state.RevmStateError, match="no prefix"):
        revm_state.original_code(b"\x60\x01" + bytes(40), keccak(b"other"), {})


# a whole run ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_insurance_three_days_same_results_finalising_every_7_transactions(monkeypatch):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario
    from tests.conftest import ROOT

    scenario = load_scenario(ROOT / "scenarios" / "insurance.toml").with_overrides({"run.duration_s": 3 * 86_400})
    monkeypatch.setattr(RevmChain, "finalise_every_tx", None)
    never = run_scenario(scenario)
    monkeypatch.setattr(RevmChain, "finalise_every_tx", 7)
    fin = run_scenario(scenario)
    assert never.twin.chain.n_finalised == 0 and fin.twin.chain.n_finalised > 40
    assert len(fin.ledger) > 3000
    assert fin.ledger.equals(never.ledger)
    assert fin.readings.equals(never.readings)
    assert fin.timeseries.equals(never.timeseries)
    gas = {k: v for k, v in fin.summary["chain"].items() if "gas" in k}
    assert gas and fin.summary["chain"]["gas_used"] != never.summary["chain"]["gas_used"]
    same = lambda s: {**s, "chain": {k: v for k, v in s["chain"].items() if "gas" not in k}}  # noqa: E731
    assert same(fin.summary) == same(never.summary)
