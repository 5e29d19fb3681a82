"""The fast backend: the same vyper bytecode on revm (Rust, through pyrevm), in process.

No signatures or mined blocks: each transaction runs in a block of its own, or with the others of a
``transact_many`` in one (number and timestamp set as the py-evm backend would), its hash is a deterministic
keccak of (chain id, sender, nonce, calldata), and gas is free (price 0). Contract addresses follow the
senders' nonces exactly as on py-evm, so both backends give the same addresses, the same EIP-712 domains and the
same events.

pyrevm never finalises a transaction: its journal keeps every log and every call's entries. Before every
``finalise_every_tx``-th transaction the journal is finalised into the EVM's database (``contracts.revm_state``):
memory stays flat, and the next transaction loads accounts and slots cold (docs/memory.md).
"""

from __future__ import annotations

import re

from eth_keys import keys
from eth_utils import keccak, to_checksum_address
from pyrevm import EVM, AccountInfo, BlockEnv, CfgEnv, Env

from contracts.chain import BaseChain, _error_string, _Reverted
from contracts.revm_state import Finalised, finalise

_REVERT_OUTPUT = re.compile(r"output: 0x([0-9a-fA-F]*)")
_CALLER = "0x" + "00" * 19 + "01"


def tx_hash_preimage(chain_id: int, sender: str, nonce: int, data: bytes) -> bytes:
    """``eth_abi.encode(["uint256", "address", "uint256", "bytes"], [chain_id, sender, nonce, data])``, written
    directly (the same bytes; ~40 us less a transaction)."""
    return (chain_id.to_bytes(32, "big") + bytes(12) + bytes.fromhex(sender[2:]) + nonce.to_bytes(32, "big")
            + (128).to_bytes(32, "big") + len(data).to_bytes(32, "big") + data + bytes(-len(data) % 32))


class RevmChain(BaseChain):
    """The revm backend. Once ``finalise_every_tx`` transactions ran since the last finalisation (read-only calls
    are not counted, so reading a view never moves one), the EVM's journal is finalised into its database
    (``finalise``) before the next. None never finalises (pyrevm's own behaviour); 1 finalises before each
    transaction, which then pays gas as on py-evm."""

    backend_name = "revm"
    finalise_every_tx: int | None = 1000  # docs/memory.md: measured on the year rows (memory, time)

    def __init__(self, genesis_timestamp: int, seed: int = 0):
        super().__init__(genesis_timestamp, seed)
        self._block = 0
        self._time = int(genesis_timestamp)
        self._nonces: dict[str, int] = {}
        self.evm = EVM(env=Env(cfg=CfgEnv(chain_id=self.chain_id), block=self._block_env()), spec_id="PRAGUE")
        self.n_finalised = 0
        self.last_finalised: Finalised | None = None
        self._since_finalised = 0  # transactions run since the checkpoint
        self._checkpoint: tuple = (self.evm, self.evm.snapshot())  # (the EVM, its checkpoint, taken journal empty)
        self._code_cache: dict[bytes, bytes] = {}  # code hash -> deployed code

    def _block_env(self) -> BlockEnv:
        return BlockEnv(number=self._block, timestamp=self._time, basefee=0, gas_limit=30_000_000)

    @property
    def timestamp(self) -> int:
        return self._time

    @property
    def block_number(self) -> int:
        return self._block

    def snapshot(self) -> tuple:
        """Not available: pyrevm commits its journal at every transaction. Build a fresh chain instead (cheap)."""
        raise NotImplementedError("the revm backend has no snapshots; deploy on a fresh RevmChain instead")

    def revert(self, snap: tuple) -> None:
        raise NotImplementedError("the revm backend has no snapshots; deploy on a fresh RevmChain instead")

    def _register_many(self, keys_: list[keys.PrivateKey]) -> list[str]:
        """Nothing to fund (gas is free); one block, as py-evm funds these accounts in one, keeps blocks in step."""
        addresses = [key.public_key.to_checksum_address() for key in keys_]
        for address in addresses:
            self._nonces.setdefault(address.lower(), 0)
        self._new_block()
        return addresses

    def finalise(self) -> None:
        """Write what the journal changed into the EVM's database, and drop the journal, its logs and its warm
        accounts and slots (``contracts.revm_state.finalise``). Nothing to do before the first transaction."""
        if self._checkpoint[0] is not self.evm:  # an EVM set from outside that has run no transaction yet
            return
        checkpoint, self.last_finalised = finalise(self.evm, self._checkpoint[1], self._code_cache)
        self._checkpoint = (self.evm, checkpoint)
        self._since_finalised = 0
        self.n_finalised += 1

    def _new_block(self) -> None:
        """Open the next block: number + 1, stamped with the next block time."""
        self._time, self._block = self._next_block_time(), self._block + 1
        self.evm.set_block_env(self._block_env())
        if self.archive is not None:
            self.archive.block(self._block, self._time, 0, None, None)

    def _execute(self, sender: str, to: str | None, data: bytes, gas: int) -> dict:
        self._new_block()
        return self._run_in_block(sender, to, data, gas)

    def _execute_many(self, txs: list[tuple[str, str, bytes, int]]) -> list[dict]:
        self._new_block()
        return [self._run_in_block(sender, to, data, gas) for sender, to, data, gas in txs]

    def _run_in_block(self, sender: str, to: str | None, data: bytes, gas: int, value: int = 0) -> dict:
        """Run one transaction in the current block; the ``_execute`` result."""
        nonce = self._nonces.get(sender.lower(), 0)
        tx_hash = "0x" + keccak(tx_hash_preimage(self.chain_id, sender, nonce, data)).hex()
        self._nonces[sender.lower()] = nonce + 1
        if self._checkpoint[0] is not self.evm:  # an EVM set from outside (a replay's): its first transaction
            self._checkpoint = (self.evm, self.evm.snapshot())
        elif self.finalise_every_tx is not None and self._since_finalised >= self.finalise_every_tx:
            self.finalise()
        self._since_finalised += 1
        address, reason, ok = None, "", True
        try:
            if to is None:
                self.evm.insert_account_info(sender, AccountInfo(nonce=nonce))
                address = to_checksum_address(self.evm.deploy(sender, data, value=value, gas=gas))
            else:
                self.evm.message_call(sender, to, data, value=value, gas=gas, gas_price=0)
        except RuntimeError as exc:
            ok = False
            m = _REVERT_OUTPUT.search(str(exc))
            reason = _error_string(bytes.fromhex(m.group(1))) if m else str(exc)
        result = self.evm.result
        logs = []
        if ok and result is not None:
            for i, log in enumerate(result.logs):
                topics, body = log.data
                logs.append((log.address, [bytes(t) for t in topics], bytes(body), i))
        out = {"ok": ok, "tx_hash": tx_hash, "block": self._block,
               "gas_used": result.gas_used if result is not None else 0, "logs": logs, "address": address,
               "reason": reason}
        if self.archive is not None:
            self.archive.tx(self._block, sender, to, nonce, value, gas, data, None, out)
        return out

    def _static_call(self, to: str, data: bytes) -> bytes:
        try:
            return bytes(self.evm.message_call(_CALLER, to, data, is_static=True))
        except RuntimeError as exc:
            m = _REVERT_OUTPUT.search(str(exc))
            raise _Reverted(_error_string(bytes.fromhex(m.group(1))) if m else str(exc)) from None
