"""The reference backend: eth-tester on py-evm, in process, with real signed transactions and mined blocks.

Single transactions and ``transact_many`` are signed as eth-tester would sign them and mined through py-evm's
``MiningChain.mine_all``; deployments go through eth-tester (its receipt carries the address). The history is
pruned as the chain goes (``contracts.pyevm_history``).
"""

from __future__ import annotations

from eth_keys import keys
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak, to_checksum_address

from contracts.chain import FUNDING_WEI, TRANSFER_GAS, BaseChain, _bytes, _error_string, _plain, _Reverted
from contracts.pyevm_history import KEEP_HEADERS, PruneStats, database_entries, prune_history


class EthTesterHead:
    """The head block's time [s] and number of a chain held by eth-tester's ``PyEVMBackend`` (``self._backend``):
    the twin's chain and the archive's replay on py-evm."""

    @property
    def timestamp(self) -> int:
        return int(self._backend.chain.get_canonical_head().timestamp)

    @property
    def block_number(self) -> int:
        return int(self._backend.chain.get_canonical_head().block_number)


class Chain(EthTesterHead, BaseChain):
    """The reference chain: eth-tester on py-evm, real blocks and signed transactions.

    Its history is pruned (``contracts.pyevm_history``) once at least ``prune_every_blocks`` blocks were mined
    since the last pruning and its database has grown by ``prune_growth`` times what that pruning kept (entries):
    only the head's state and block and the last ``KEEP_HEADERS`` headers stay, so memory follows the contracts'
    state (at most ``1 + prune_growth`` times it, with the headers of the blocks since), not the number of
    blocks. A pruning walks the whole state, so pruning at a fixed number of blocks would cost the square of a
    run's length (a year of certificates: ~230 prunings of up to ~650 k entries); after growth, its cost per
    entry written is bounded. ``prune_growth=0`` prunes every ``prune_every_blocks`` blocks. A chain that has
    taken a snapshot keeps its whole history from then on (``revert`` re-imports the snapshot's block on its
    parent's state); so does one built with ``prune_every_blocks=None``.
    """

    backend_name = "py-evm"
    PRUNE_EVERY_BLOCKS = 16
    PRUNE_GROWTH = 1.0  # prune when the database holds twice the entries the last pruning kept

    def __init__(self, genesis_timestamp: int, seed: int = 0, *, prune_every_blocks: int | None = PRUNE_EVERY_BLOCKS,
                 prune_growth: float = PRUNE_GROWTH):
        super().__init__(genesis_timestamp, seed)
        if prune_growth < 0:
            raise ValueError(f"prune_growth must be >= 0 (a fraction of the entries kept), got {prune_growth}")
        self.prune_every_blocks, self.prune_growth = prune_every_blocks, prune_growth
        self._entries_kept = 0  # database entries after the last pruning
        self.prunes: list[PruneStats] = []  # one per pruning, in order
        self._pruned_at_block = 0
        self._snapshot_taken = False
        params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": int(genesis_timestamp)})
        self._backend = PyEVMBackend(genesis_parameters=params)
        self._backend.mine_blocks = self._mine_blocks  # eth-tester's, with a reproducible PREVRANDAO
        self.tester = EthereumTester(self._backend)
        self._faucet = self.tester.get_accounts()[0]
        assert self._backend.chain.chain_id == self.chain_id, "eth-tester's chain id changed"

    def _mine_blocks(self, num_blocks: int = 1, coinbase: bytes = bytes(20)) -> tuple:
        """eth-tester's ``PyEVMBackend.mine_blocks`` (its auto-mining after a sent transaction), except that the
        post-merge ``mix_hash`` (PREVRANDAO; no contract of ours reads it) is keccak(seed, block number) instead
        of ``os.urandom(32)``: two runs of one scenario and seed make byte-identical block hashes and so chain
        archives. No blob transactions are sent, so ``blob_gas_used`` is 0."""
        chain, hashes = self._backend.chain, []
        for _ in range(num_blocks):
            mix = keccak(b"gridledger-prevrandao" + self.seed.to_bytes(32, "big", signed=True)
                         + chain.header.block_number.to_bytes(8, "big"))
            hashes.append(chain.mine_block(coinbase=coinbase, mix_hash=mix, blob_gas_used=0).hash)
        return tuple(hashes)

    def _genesis_alloc(self) -> list[tuple[str, int, int]]:
        state = self._backend.chain.get_vm().state
        return [(a, state.get_balance(_canonical(a)), state.get_nonce(_canonical(a)))
                for a in self.tester.get_accounts()]

    def _archive_block(self, block, signed: list, out: list[dict]) -> None:
        """Hand a mined block, its signed transactions and their results to the archive."""
        h, archive = block.header, self.archive
        archive.block(h.block_number, h.timestamp, h.base_fee_per_gas, h.hash, h.state_root)
        for tx, res in zip(signed, out):
            archive.tx(h.block_number, to_checksum_address(tx.sender), to_checksum_address(tx.to) if tx.to else None,
                       tx.nonce, tx.value, tx.gas, tx.data, tx.encode(), res)

    def snapshot(self) -> tuple:
        """A point to return to with ``revert`` (chain state, clock and event log). Pruning stops for good."""
        self.prune_every_blocks, self._snapshot_taken = None, True
        return (self.tester.take_snapshot(), self._now_s, len(self.events), self.n_transactions, self.gas_used)

    def revert(self, snap: tuple) -> None:
        snapshot_id, self._now_s, n_events, self.n_transactions, self.gas_used = snap
        self.tester.revert_to_snapshot(snapshot_id)
        del self.events[n_events:]
        self.n_reverts += 1

    def _register_many(self, keys_: list[keys.PrivateKey]) -> list[str]:
        """eth-tester's backend signs for the new accounts (each key once: ``EthereumTester.add_account`` would
        check every key against all others); the faucet funds each with ``FUNDING_WEI`` [wei] (one ether
        transfer each), all in one block."""
        addresses = [key.public_key.to_checksum_address() for key in keys_]
        known = set(self._backend.get_accounts())
        for key in keys_:
            if key.public_key.to_canonical_address() in known:
                raise ValueError(f"account {key.public_key.to_checksum_address()} already open")
            known.add(key.public_key.to_canonical_address())
            self._backend.add_account(key.to_bytes())
        funding = [{"from": self._faucet, "to": a, "value": FUNDING_WEI, "gas": TRANSFER_GAS} for a in addresses]
        if not all(raw["ok"] for raw in self._mine(funding)):
            raise RuntimeError("funding a new account failed")
        return addresses

    def _stamp(self) -> None:
        """Stamp the pending block with the next block time."""
        chain = self._backend.chain
        chain.header = chain.header.copy(timestamp=self._next_block_time())

    def _send(self, tx: dict) -> dict:
        self._stamp()
        receipt = self.tester.get_transaction_receipt(self.tester.send_transaction(tx))
        self._prune_if_due()
        return receipt

    def prune(self) -> PruneStats:
        """Drop the history the head does not need (``contracts.pyevm_history.prune_history``) now; refused once
        a snapshot was taken (its revert needs that history)."""
        if self._snapshot_taken:
            raise RuntimeError("a chain that took a snapshot keeps its history: revert needs it")
        stats = prune_history(self._backend.chain.chaindb, KEEP_HEADERS)
        self.prunes.append(stats)
        self._pruned_at_block, self._entries_kept = self.block_number, stats.entries_after
        return stats

    def _prune_if_due(self) -> None:
        if (self.prune_every_blocks and self.block_number - self._pruned_at_block >= self.prune_every_blocks
                and database_entries(self._backend.chain.chaindb) >= (1 + self.prune_growth) * self._entries_kept):
            self.prune()

    def _mine(self, txs: list[dict]) -> list[dict]:
        """Sign eth-tester transaction dicts (hex strings, no nonce) as eth-tester would and mine them, in
        order, in one block through py-evm's ``MiningChain.mine_all``; one ``_execute`` result each (a revert's
        reason decoded from its return data)."""
        self._stamp()
        chain, backend = self._backend.chain, self._backend
        signing_keys, state, nonces = backend._key_lookup, chain.get_vm().state, {}
        signed = []
        for tx in txs:
            raw_tx = self.tester.normalizer.normalize_inbound_transaction(tx)
            sender = raw_tx["from"]
            if sender not in nonces:
                nonces[sender] = state.get_nonce(sender)
            raw_tx["nonce"], nonces[sender] = nonces[sender], nonces[sender] + 1
            unsigned = backend._get_normalized_and_unsigned_evm_transaction(raw_tx)
            signed.append(unsigned.as_signed_transaction(signing_keys[sender]))
        result, receipts, computations = chain.mine_all(signed)
        block, cumulative, out = result.imported_block.number, 0, []
        for tx, receipt, computation in zip(signed, receipts, computations):
            logs = [("0x" + log.address.hex(), [t.to_bytes(32, "big") for t in log.topics], log.data, i)
                    for i, log in enumerate(receipt.logs)]
            out.append({"ok": not computation.is_error, "tx_hash": "0x" + tx.hash.hex(), "block": block,
                        "gas_used": receipt.gas_used - cumulative, "logs": logs, "address": None,
                        "reason": _error_string(computation.output) if computation.is_error else ""})
            cumulative = receipt.gas_used
        if self.archive is not None:
            self._archive_block(result.imported_block, signed, out)
        self._prune_if_due()
        return out

    def _execute_many(self, txs: list[tuple[str, str, bytes, int]]) -> list[dict]:
        return self._mine([_tx_dict(sender, to, data, gas) for sender, to, data, gas in txs])

    def _execute(self, sender: str, to: str | None, data: bytes, gas: int) -> dict:
        """A call in a block of its own through py-evm directly (as ``transact_many`` mines them: no eth-tester
        receipt formatting, ~40 ms for a settle_day's 225 logs); a deployment through eth-tester (its receipt
        has the contract address)."""
        tx = _tx_dict(sender, to, data, gas)
        if to is not None:
            return self._mine([tx])[0]
        raw = self._send(tx)
        reason = ""
        if raw["status"] != 1:
            # a transaction with explicit gas does not raise on revert: replay it as a call for the reason
            try:
                self.tester.call({k: v for k, v in tx.items() if k != "gas"}, "latest")
                reason = "reverted"
            except TransactionFailed as exc:
                reason = _reason(exc)
        logs = [(log["address"], [_bytes(t) for t in log["topics"]], _bytes(log["data"]), log["log_index"])
                for log in raw["logs"]]
        out = {"ok": raw["status"] == 1, "tx_hash": _plain(raw["transaction_hash"]), "block": raw["block_number"],
               "gas_used": raw["gas_used"], "logs": logs, "address": raw["contract_address"], "reason": reason}
        if self.archive is not None:  # the head block (kept by pruning) holds this one transaction
            block = self._backend.chain.get_canonical_block_by_number(raw["block_number"])
            self._archive_block(block, list(block.transactions), [out])
        return out

    def _static_call(self, to: str, data: bytes) -> bytes:
        try:
            return _bytes(self.tester.call({"from": self._faucet, "to": to, "data": "0x" + data.hex()}, "latest"))
        except TransactionFailed as exc:
            raise _Reverted(_reason(exc)) from None


def _tx_dict(sender: str, to: str | None, data: bytes, gas: int) -> dict:
    """An eth-tester transaction dict for a call (or a deployment, ``to`` None) of ``data`` with ``gas``."""
    tx = {"from": sender, "data": "0x" + data.hex(), "gas": gas, "value": 0}
    if to is not None:
        tx["to"] = to
    return tx


def _canonical(address: str) -> bytes:
    return bytes.fromhex(address[2:])


def _reason(exc: TransactionFailed) -> str:
    msg = str(exc.args[0]) if exc.args else str(exc)
    return msg.removeprefix("execution reverted: ")
