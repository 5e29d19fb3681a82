"""Many transactions in one block (``BaseChain.transact_many``, ``BaseChain.new_accounts``) on py-evm and revm: one
block for all that fit its gas (the next block for the rest), and the same receipts, events and state, in the same
order, as one call at a time (block numbers aside); a revert inside raises with the contract's reason. web3 (the
reference path) keeps a block per call."""

from __future__ import annotations

import pytest

import contracts.chain
from contracts.backends import make_chain
from contracts.chain import (
    BLOCK_GAS_TARGET,
    FUNDING_WEI,
    SETUP_GAS,
    Call,
    ChainRevert,
    gas_blocks,
)
from contracts.eip712 import key_for
from contracts.token import EuroToken

GENESIS_S = 1_700_000_000
N_MEMBERS = 4


def community(backend: str, *, accounts_in_one_block: bool):
    """A chain with a bank, ``N_MEMBERS`` members holding 1 000 ueur each and a EuroToken."""
    chain = make_chain(backend, GENESIS_S, seed=7)
    keys = [key_for(7, "bank")] + [key_for(7, f"member-{i}") for i in range(N_MEMBERS)]
    if accounts_in_one_block:
        bank, *members = chain.new_accounts(keys)
    else:
        bank, *members = (chain.new_account(k) for k in keys)
    token = EuroToken.deploy(chain, minter=bank)
    token.mint_many(members, [1_000] * N_MEMBERS, sender=bank)
    return chain, token, bank, members


def calls_of(token, bank, members) -> list[Call]:
    """Approvals and transfers, two per member (one sender twice in a row), and a mint by the bank."""
    out = []
    for i, m in enumerate(members):
        out.append(Call(token.contract, "approve", (bank, 10 + i), m, SETUP_GAS))
        out.append(Call(token.contract, "transfer", (members[(i + 1) % len(members)], 100 + i), m, SETUP_GAS))
    out.append(Call(token.contract, "mint", (members[0], 5), bank, SETUP_GAS))
    return out


def without_block(receipt):
    return receipt.tx_hash, receipt.gas_used, [(e.log_index, e.tx_hash, e.contract, e.event, e.args, e.address)
                                               for e in receipt.events]


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_new_accounts_opens_all_in_one_block_as_new_account_would(backend):
    one, _, _, members_one = community(backend, accounts_in_one_block=False)
    many, _, _, members_many = community(backend, accounts_in_one_block=True)
    assert members_many == members_one
    # the accounts took one block instead of one each; everything after is the same
    assert many.block_number == one.block_number - N_MEMBERS
    if backend == "py-evm":
        assert [many.tester.get_balance(m) for m in members_many] == [FUNDING_WEI] * N_MEMBERS
    assert many.new_accounts([]) == [] and many.block_number == one.block_number - N_MEMBERS


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_transact_many_is_one_block_with_the_receipts_and_events_of_one_call_at_a_time(backend):
    one, token_one, bank, members = community(backend, accounts_in_one_block=True)
    many, token_many, _, _ = community(backend, accounts_in_one_block=True)
    n_events, block = len(one.events), one.block_number

    singles = [one.transact(c.contract, c.fn, *c.args, sender=c.sender, gas=c.gas)
               for c in calls_of(token_one, bank, members)]
    batch = many.transact_many(calls_of(token_many, bank, members))

    assert [r.block for r in singles] == list(range(block + 1, block + 1 + len(singles)))
    assert {r.block for r in batch} == {block + 1} and many.block_number == block + 1
    assert [without_block(r) for r in batch] == [without_block(r) for r in singles]
    assert [e.block for e in many.events[n_events:]] == [block + 1] * (len(many.events) - n_events)
    decoded = [(e.tx_hash, e.event, e.args) for e in many.events[n_events:]]
    assert decoded == [(e.tx_hash, e.event, e.args) for e in one.events[n_events:]]
    assert decoded == [(e.tx_hash, e.event, e.args) for r in batch for e in r.events]
    assert (many.n_transactions, many.gas_used) == (one.n_transactions, one.gas_used)
    holders = [bank, *members]
    assert [token_many.balance_of(h) for h in holders] == [token_one.balance_of(h) for h in holders]
    assert [many.call(token_many.contract, "allowance", m, bank) for m in members] == [10, 11, 12, 13]
    assert many.transact_many([]) == [] and many.block_number == block + 1


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_a_revert_inside_transact_many_raises_with_the_reason_after_the_block_is_mined(backend):
    chain, token, bank, members = community(backend, accounts_in_one_block=True)
    block, n_tx, n_events = chain.block_number, chain.n_transactions, len(chain.events)
    calls = [Call(token.contract, "transfer", (members[1], 1), members[0], SETUP_GAS),
             Call(token.contract, "transfer", (members[1], 10**9), members[2], SETUP_GAS),  # more than it holds
             Call(token.contract, "mint", (members[3], 1), members[0], SETUP_GAS),  # not the minter: only the first
             Call(token.contract, "transfer", (members[1], 2), members[3], SETUP_GAS)]
    with pytest.raises(ChainRevert) as exc:
        chain.transact_many(calls)
    assert (exc.value.contract, exc.value.fn, exc.value.reason) == ("EuroToken", "transfer", "token: balance too low")
    # every call was mined in the one block; those that did not revert took effect and logged their events
    assert chain.block_number == block + 1 and chain.n_transactions == n_tx + len(calls)
    assert [(e.block, e.args["sender"], e.args["value"]) for e in chain.events[n_events:]] == [
        (block + 1, members[0], 1), (block + 1, members[3], 2)]
    assert [token.balance_of(m) for m in members] == [999, 1_003, 1_000, 998]


def test_gas_blocks_fill_each_block_up_to_its_gas():
    assert gas_blocks([]) == []
    assert gas_blocks([5_000_000] * 7) == [slice(0, 3), slice(3, 6), slice(6, 7)]
    assert gas_blocks([BLOCK_GAS_TARGET + 1, 1, 1]) == [slice(0, 1), slice(1, 3)]  # alone it may take a block
    runs = gas_blocks([SETUP_GAS] * 250)
    assert [r.stop - r.start for r in runs] == [50] * 5


@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_calls_beyond_a_blocks_gas_go_on_in_the_next_block(backend, monkeypatch):
    one, token_one, bank, members = community(backend, accounts_in_one_block=True)
    many, token_many, _, _ = community(backend, accounts_in_one_block=True)
    block = one.block_number
    big = [Call(c.contract, c.fn, c.args, c.sender, 5_000_000) for c in calls_of(token_many, bank, members)]
    singles = [one.transact(c.contract, c.fn, *c.args, sender=c.sender, gas=5_000_000)
               for c in calls_of(token_one, bank, members)]
    batch = many.transact_many(big)  # 9 calls of 5 Mgas: 3 to a block
    assert [r.block - block for r in batch] == [1, 1, 1, 2, 2, 2, 3, 3, 3] and many.block_number == block + 3
    assert [without_block(r) for r in batch] == [without_block(r) for r in singles]
    assert [(e.event, e.args) for e in many.events] == [(e.event, e.args) for e in one.events]
    holders = [bank, *members]
    assert [token_many.balance_of(h) for h in holders] == [token_one.balance_of(h) for h in holders]
    # accounts too: with room for two funding transfers a block, five accounts take three blocks
    monkeypatch.setattr(contracts.chain, "BLOCK_GAS_TARGET", 2 * 21_000)
    keys = [key_for(7, f"late-{i}") for i in range(5)]
    accounts = many.new_accounts(keys)
    assert many.block_number == block + 6 and len(set(accounts)) == 5
    if backend == "py-evm":
        assert [many.tester.get_balance(a) for a in accounts] == [FUNDING_WEI] * 5


def test_web3_keeps_a_block_per_call():
    chain, token, bank, members = community("web3", accounts_in_one_block=True)
    block = chain.block_number
    assert block == 1 + N_MEMBERS + 2  # the accounts one block each, the deployment, the mint
    receipts = chain.transact_many(calls_of(token, bank, members))
    assert [r.block for r in receipts] == list(range(block + 1, block + 1 + len(receipts)))


def test_blocks_filled_by_gas_keep_the_base_fee_from_rising():
    """Blocks filled to the gas target, many in a row (1500 accounts' funding: 31.5 Mgas of transfers), leave
    py-evm's base fee where it was: eth-tester's default max fee (1 gwei) still pays for the next transaction."""
    chain, token, bank, members = community("py-evm", accounts_in_one_block=True)
    head = chain._backend.chain.get_canonical_head
    base_fee, block = head().base_fee_per_gas, chain.block_number
    accounts = chain.new_accounts([key_for(7, f"crowd-{i}") for i in range(1500)])
    assert chain.block_number == block + 3 and len(set(accounts)) == 1500
    assert head().base_fee_per_gas <= base_fee
    token.mint_many(accounts[:3], [1, 2, 3], sender=bank)
    assert [token.balance_of(a) for a in accounts[:3]] == [1, 2, 3]
