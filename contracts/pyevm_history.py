"""Pruning py-evm's history: keep what the chain needs to go on, drop the rest.

py-evm (through eth-tester) keeps everything it ever wrote in its in-memory database: every block's header,
transactions and receipts, and every state-trie node that any block ever had, including the nodes a later
write made unreachable. A long run therefore grows with blocks even where the contracts' own storage does not.

``prune_history`` rebuilds the database from what the head still needs: the state reachable from the head's
state root and from its parent's (account trie, each account's storage trie and code; eth-tester reverts to a
snapshot of the head by re-importing the head's block on its parent's state), the head block's transactions,
receipts and withdrawals, the headers, scores and canonical number -> hash lookups of the last
``keep_headers`` + 1 blocks (``BLOCKHASH`` looks 256 blocks back from the head, or from its parent when the
head is re-imported), and every chain-wide record (canonical head, chain gaps). Everything older goes: old
blocks can no longer be read, and no state but those two exists.

The state, and so every later transaction, balance and event, is the same as on an unpruned chain: only data
unreachable from the head is dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import rlp
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3, EMPTY_UNCLE_HASH, GENESIS_PARENT_HASH
from eth.db.schema import SchemaV1
from eth_utils import keccak

KEEP_HEADERS = 256  # BLOCKHASH reaches 256 blocks back; py-evm's prev_hashes walk as far

_HASH_BYTES = 32
_ALWAYS_KEPT = (BLANK_ROOT_HASH, EMPTY_SHA3, EMPTY_UNCLE_HASH)
_PER_BLOCK_PREFIXES = (b"block-number-to-hash:", b"block-hash-to-score:", b"transaction-hash-to-block:",
                       b"withdrawal-hash-to-block:")


@dataclass(frozen=True, slots=True)
class PruneStats:
    """What one pruning kept and dropped: database entries (count) and their keys' and values' bytes [bytes];
    ``headers_kept`` is how many block headers remain (count)."""

    entries_before: int
    entries_after: int
    bytes_before: int
    bytes_after: int
    headers_kept: int


def trie_nodes(db, root: bytes, on_leaf=None, known: frozenset[bytes] | set[bytes] = frozenset()
               ) -> Iterable[bytes]:
    """Keys (node hashes) of the stored nodes of the Merkle-Patricia trie at ``root`` in ``db`` (a mapping);
    ``on_leaf(value)`` is called with every leaf's value. Nodes shorter than 32 bytes are inlined in their
    parent and have no key of their own. A node whose key is in ``known`` is neither yielded nor entered: a
    node's key is the hash of its content, so its whole subtree is the one already collected under that key."""
    if root == BLANK_ROOT_HASH or root in known:
        return
    stack: list = [root]
    while stack:
        ref = stack.pop()
        if isinstance(ref, bytes):
            if len(ref) == 0 or ref in known:
                continue
            yield ref
            node = rlp.decode(db[ref])
        else:
            node = ref  # an inline node, already decoded
        if len(node) == 17:  # branch: 16 children and a value
            stack.extend(child for child in node[:16] if child)
            if node[16] and on_leaf is not None:
                on_leaf(node[16])
        elif len(node) == 2:  # leaf or extension, by the flag nibble of its compact path
            if node[0][0] >> 4 >= 2:
                if on_leaf is not None:
                    on_leaf(node[1])
            else:
                stack.append(node[1])


def state_keys(db, state_root: bytes, known: set[bytes] | None = None) -> set[bytes]:
    """Keys of everything the state at ``state_root`` reads: account-trie nodes, each account's storage-trie
    nodes and its code. With ``known`` (the keys of states already collected), the keys are added to it and the
    subtrees it holds are not walked again (the head's and its parent's states share all but what the head's
    block wrote)."""
    keep: set[bytes] = set() if known is None else known
    accounts: list[bytes] = []
    for key in trie_nodes(db, state_root, accounts.append, keep):
        keep.add(key)  # as it goes: a subtree met twice is walked once
    for encoded in accounts:
        _nonce, _balance, storage_root, code_hash = rlp.decode(encoded)
        for key in trie_nodes(db, storage_root, known=keep):
            keep.add(key)
        if code_hash != EMPTY_SHA3:
            keep.add(code_hash)
    return keep


def prune_history(chaindb, keep_headers: int = KEEP_HEADERS) -> PruneStats:
    """Rebuild ``chaindb``'s in-memory database (py-evm's ChainDB over an AtomicDB of a MemoryDB) keeping only
    what the canonical head needs (see the module's docstring): the head's and its parent's state, the head's
    block body, and the headers of the last ``keep_headers`` + 1 blocks."""
    kv = _memory_store(chaindb)
    head = chaindb.get_canonical_head()
    headers = [head]
    while len(headers) < keep_headers + 1 and headers[-1].parent_hash != GENESIS_PARENT_HASH:
        headers.append(chaindb.get_block_header_by_hash(headers[-1].parent_hash))

    keep: set[bytes] = set()
    for header in headers[:2]:  # the head's state, and its parent's: a snapshot of the head re-imports it there
        state_keys(kv, header.state_root, keep)
    keep.update(_ALWAYS_KEPT)
    tx_hashes: list[bytes] = []
    keep.update(trie_nodes(kv, head.transaction_root, lambda tx: tx_hashes.append(_tx_hash(tx))))
    keep.update(trie_nodes(kv, head.receipt_root))
    withdrawals_root = getattr(head, "withdrawals_root", None)
    if withdrawals_root is not None:
        keep.update(trie_nodes(kv, withdrawals_root))
    if head.uncles_hash != EMPTY_UNCLE_HASH:
        keep.add(head.uncles_hash)
    lookups = set()
    for header in headers:
        keep.add(header.hash)
        lookups.add(SchemaV1.make_block_number_to_hash_lookup_key(header.block_number))
        lookups.add(SchemaV1.make_block_hash_to_score_lookup_key(header.hash))
    lookups.update(SchemaV1.make_transaction_hash_to_block_lookup_key(h) for h in tx_hashes)

    kept = {}
    for key, value in kv.items():
        if len(key) == _HASH_BYTES:
            if key in keep:
                kept[key] = value
        elif key in lookups or not key.startswith(_PER_BLOCK_PREFIXES):
            kept[key] = value
    stats = PruneStats(len(kv), len(kept), _size(kv), _size(kept), len(headers))
    _memory_db(chaindb).kv_store = kept
    return stats


def database_entries(chaindb) -> int:
    """Entries (count) in ``chaindb``'s in-memory database, as ``PruneStats`` counts them."""
    return len(_memory_store(chaindb))


def _tx_hash(encoded: bytes) -> bytes:
    """A transaction's hash from its encoding in the transaction trie (legacy: the RLP list; typed: the type
    byte and payload)."""
    return keccak(encoded)


def _memory_db(chaindb):
    db = chaindb.db
    while hasattr(db, "wrapped_db"):
        db = db.wrapped_db
    if not hasattr(db, "kv_store"):
        raise TypeError(f"cannot prune {type(db).__name__}: only py-evm's in-memory MemoryDB")
    return db


def _memory_store(chaindb) -> dict[bytes, bytes]:
    return _memory_db(chaindb).kv_store


def _size(kv: dict[bytes, bytes]) -> int:
    return sum(len(k) + len(v) for k, v in kv.items())
