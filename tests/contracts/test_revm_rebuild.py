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

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from pyrevm import AccountInfo

import contracts.revm_state as revm_state
from contracts.eip712 import key_for
from contracts.revm_chain import RevmChain
from contracts.token import EuroToken
from tests.contracts.revm_world import (
    ARRAY_VIEWS,
    GENESIS_S,
    UINT_ARGS,
    apply,
    build,
    calldata_floor,
    draw_ops,
    run_all,
)


def test_every_view_with_an_argument_has_its_domain():
    w = build("revm")
    for name, wrapper in w.contracts.items():
        for fn, item in wrapper.contract.functions.items():
            if item["stateMutability"] in ("view", "pure") and (name, fn) not in ARRAY_VIEWS:
                uints = [i for i in item["inputs"] if i["type"] != "address"]
                assert all(i["type"] == "uint256" for i in uints), (name, fn)
                assert len(uints) == len(UINT_ARGS.get((name, fn), [])), (name, fn)


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



@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**64), st.binary(min_size=20, max_size=20), st.integers(0, 2**64), st.binary(max_size=200))
def test_the_transaction_hash_preimage_is_eth_abis_encoding(chain_id, sender, nonce, data):
    import eth_abi
    from eth_utils import to_checksum_address

    from contracts.revm_chain import tx_hash_preimage

    address = to_checksum_address(sender)
    assert tx_hash_preimage(chain_id, address, nonce, data) == eth_abi.encode(
        ["uint256", "address", "uint256", "bytes"], [chain_id, address, nonce, data])
