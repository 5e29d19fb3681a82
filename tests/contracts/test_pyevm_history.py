"""Pruning py-evm's history (``contracts.pyevm_history``, ``Chain.prune``): a pruned chain has the same state,
receipts and events as an unpruned one at every step, keeps a bounded number of headers and
entries, drops old blocks, and a snapshot taken after pruning still reverts."""

from __future__ import annotations

import pytest
from eth.exceptions import HeaderNotFound

from contracts.chain import Call
from contracts.eip712 import key_for
from contracts.pyevm_chain import Chain
from contracts.pyevm_history import KEEP_HEADERS, database_entries, prune_history, state_keys, trie_nodes
from contracts.token import EuroToken

GENESIS_S = 1_700_000_000
N_MEMBERS = 3


def community(prune_every_blocks, prune_growth=0.0):
    chain = Chain(GENESIS_S, seed=3, prune_every_blocks=prune_every_blocks, prune_growth=prune_growth)
    bank, *members = chain.new_accounts([key_for(3, "bank")] + [key_for(3, f"m-{i}") for i in range(N_MEMBERS)])
    token = EuroToken.deploy(chain, minter=bank)
    token.mint_many(members, [1_000_000] * N_MEMBERS, sender=bank)
    return chain, token, bank, members


def step(chain, token, bank, members, i):
    """Block ``i`` of the workload: transfers in one block, a mint in its own, now and then a new contract."""
    chain.set_time(GENESIS_S + 100 * (i + 1))
    chain.transact_many([Call(token.contract, "transfer", (members[(j + i) % N_MEMBERS], 10 + i), m)
                         for j, m in enumerate(members)])
    token.mint(members[i % N_MEMBERS], i, sender=bank)
    if i % 7 == 0:
        EuroToken.deploy(chain, minter=bank)


def head(chain):
    return chain._backend.chain.get_canonical_head()


def roots(chain) -> tuple:
    """What a block's execution decided: state, transactions and receipts roots, gas used, number and time (the
    block hash also covers eth-tester's random mix hash of a deployment's block)."""
    h = head(chain)
    return h.state_root, h.transaction_root, h.receipt_root, h.gas_used, h.block_number, h.timestamp


def test_a_pruned_chain_goes_on_exactly_as_an_unpruned_one():
    pruned, full = community(prune_every_blocks=2), community(prune_every_blocks=None)
    for i in range(30):
        for c in (pruned, full):
            step(*c, i)
        assert roots(pruned[0]) == roots(full[0])
    assert len(pruned[0].prunes) > 10 and not full[0].prunes
    assert pruned[0].events == full[0].events
    for m in pruned[3]:
        assert pruned[1].balance_of(m) == full[1].balance_of(m)
    assert pruned[1].total_supply() == full[1].total_supply()


def test_pruning_keeps_the_state_and_a_bounded_number_of_headers():
    chain, token, bank, members = community(prune_every_blocks=None)
    for i in range(12):
        step(chain, token, bank, members, i)
    chaindb = chain._backend.chain.chaindb
    before = dict(chaindb.db.wrapped_db.kv_store)
    stats = prune_history(chaindb, keep_headers=4)
    kv = chaindb.db.wrapped_db.kv_store
    assert stats.headers_kept == 5 and stats.entries_after == len(kv) < stats.entries_before == len(before)
    assert stats.bytes_after < stats.bytes_before
    assert state_keys(kv, head(chain).state_root) <= set(kv)  # the whole head state is still there
    assert all(kv[k] == before[k] for k in kv)  # nothing rewritten, only dropped
    headers = [k for k in kv if k.startswith(b"block-number-to-hash:")]
    assert len(headers) == 5
    with pytest.raises(HeaderNotFound):
        chain._backend.chain.get_canonical_block_header_by_number(1)
    step(chain, token, bank, members, 12)  # and the chain goes on
    assert token.balance_of(members[0]) > 0


def test_the_chain_keeps_at_most_the_last_headers_between_prunes():
    chain, token, bank, members = community(prune_every_blocks=8)
    for i in range(KEEP_HEADERS // 2 + 10):
        chain.set_time(GENESIS_S + 100 * (i + 1))
        token.mint(members[0], 1, sender=bank)
    kv = chain._backend.chain.chaindb.db.wrapped_db.kv_store
    lookups = sum(k.startswith(b"block-number-to-hash:") for k in kv)
    assert chain.block_number > KEEP_HEADERS // 2
    assert lookups == chain.block_number + 1  # fewer blocks than the window: every header kept so far
    for i in range(KEEP_HEADERS):
        chain.set_time(GENESIS_S + 100_000 + 100 * (i + 1))
        token.mint(members[0], 1, sender=bank)
    kv = chain._backend.chain.chaindb.db.wrapped_db.kv_store  # a new store at every pruning
    lookups = sum(k.startswith(b"block-number-to-hash:") for k in kv)
    assert chain.block_number > KEEP_HEADERS + 8
    assert lookups <= KEEP_HEADERS + 1 + chain.prune_every_blocks


@pytest.mark.parametrize("blocks_after_prune", [0, 3])
def test_a_snapshot_taken_after_pruning_reverts(blocks_after_prune):
    pruned, full = community(prune_every_blocks=2), community(prune_every_blocks=None)
    for c in (pruned, full):
        for i in range(6):
            step(*c, i)
    pruned[0].prune()
    for c in (pruned, full):
        for i in range(blocks_after_prune):
            step(*c, 6 + i)
    snaps = [c[0].snapshot() for c in (pruned, full)]
    balances = [c[1].balance_of(c[3][0]) for c in (pruned, full)]
    n_prunes = len(pruned[0].prunes)
    for c in (pruned, full):
        for i in range(5):
            step(*c, 20 + i)
    assert len(pruned[0].prunes) == n_prunes  # a chain with a snapshot keeps its history from then on
    with pytest.raises(RuntimeError, match="took a snapshot keeps its history"):
        pruned[0].prune()  # nor can it be pruned by hand
    for c, snap, balance in zip((pruned, full), snaps, balances):
        c[0].revert(snap)
        assert c[1].balance_of(c[3][0]) == balance
    for c in (pruned, full):
        step(*c, 40)
    assert roots(pruned[0]) == roots(full[0])
    assert pruned[0].events == full[0].events


def test_pruning_after_growth_keeps_the_state_and_bounds_the_database():
    """The default rule: a pruning once the database holds ``1 + prune_growth`` times the entries the last one kept
    (and ``prune_every_blocks`` blocks went by). Same roots, events and balances as an unpruned chain; fewer
    prunings than every 2 blocks; between prunings the database never exceeds that bound by more than a block's
    entries."""
    grown, every, full = community(2, prune_growth=1.0), community(2), community(None)
    peak_ratio = 0.0
    for i in range(40):
        for c in (grown, every, full):
            step(*c, i)
        assert roots(grown[0]) == roots(full[0]) == roots(every[0])
        if grown[0].prunes:
            kept = grown[0].prunes[-1].entries_after
            peak_ratio = max(peak_ratio, database_entries(grown[0]._backend.chain.chaindb) / kept)
    assert 2 <= len(grown[0].prunes) < len(every[0].prunes) / 2
    for a, b in zip(grown[0].prunes, grown[0].prunes[1:]):
        assert b.entries_before >= 2 * a.entries_after  # pruned only after doubling
    assert peak_ratio < 2.5  # 2x, plus at most one block's entries (a step: two blocks, maybe a deployment)
    assert grown[0].events == full[0].events
    for m in grown[3]:
        assert grown[1].balance_of(m) == full[1].balance_of(m)
    with pytest.raises(ValueError, match="prune_growth must be >= 0"):
        Chain(GENESIS_S, prune_growth=-0.5)


def test_state_keys_with_known_keys_walks_only_the_new_nodes():
    """The head's and its parent's states collected together (shared subtrees walked once) are exactly the union
    of each collected alone (the reference: ``trie_nodes`` with nothing known, as before)."""
    chain, token, bank, members = community(prune_every_blocks=None)
    for i in range(9):
        step(chain, token, bank, members, i)
    db = chain._backend.chain.chaindb
    kv = db.db.wrapped_db.kv_store
    parent = db.get_block_header_by_hash(head(chain).parent_hash)
    alone = state_keys(kv, head(chain).state_root) | state_keys(kv, parent.state_root)
    together: set[bytes] = set()
    state_keys(kv, head(chain).state_root, together)
    n_head = len(together)
    walked: list[bytes] = list(trie_nodes(kv, parent.state_root, known=together))
    state_keys(kv, parent.state_root, together)
    assert together == alone and len(together) > n_head  # the parent's state differs: some nodes are its own
    assert len(walked) < len(state_keys(kv, parent.state_root)) / 2  # and the walk skipped what the head had
