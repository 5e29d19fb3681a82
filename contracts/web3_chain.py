"""The straightforward reference path, for benchmarks only: web3 contract calls over eth-tester (py-evm), one
transaction per call, one block per transaction, web3 encoding and decoding on every call.

Same vyper bytecode, same wrappers and the same events (decoded from each receipt's logs) as the other
backends; what it measures is what the fast paths save. web3 with explicit gas does not raise on revert: the
receipt's status is checked and the call replayed for the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_keys import keys
from eth_tester.exceptions import TransactionFailed

from contracts.chain import DEFAULT_GAS, FUNDING_WEI, TRANSFER_GAS, Call, ChainRevert, Contract, Receipt
from contracts.pyevm_chain import Chain, _reason


class Web3Chain(Chain):
    """eth-tester on py-evm as ``Chain`` sets it up; every transaction and call through web3 instead."""

    backend_name = "web3"
    reads_by_call = True

    def __init__(self, genesis_timestamp: int, seed: int = 0):
        from web3 import EthereumTesterProvider, Web3  # only this benchmark path needs web3

        super().__init__(genesis_timestamp, seed, prune_every_blocks=None)  # eth-tester mines; nothing pruned
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        self._faucet = self.w3.eth.accounts[0]
        self._contracts: dict[str, Any] = {}

    @property
    def block_number(self) -> int:
        return int(self.w3.eth.block_number)

    def _register_many(self, keys_: list[keys.PrivateKey]) -> list[str]:
        """Each account funded by a web3 ether transfer in a block of its own."""
        addresses = [key.public_key.to_checksum_address() for key in keys_]
        for key, address in zip(keys_, addresses):
            self.tester.add_account("0x" + key.to_bytes().hex())
            self._stamp()
            self.w3.eth.send_transaction({"from": self._faucet, "to": address, "value": FUNDING_WEI,
                                          "gas": TRANSFER_GAS})
        return addresses

    def _w3contract(self, contract: Contract):
        c = self._contracts.get(contract.address)
        if c is None:
            c = self._contracts[contract.address] = self.w3.eth.contract(address=contract.address,
                                                                          abi=contract.compiled.abi)
        return c

    def _receipt_raw(self, tx_hash, reason: str) -> dict:
        r = self.w3.eth.get_transaction_receipt(tx_hash)
        logs = [(log["address"], [bytes(t) for t in log["topics"]], bytes(log["data"]), log["logIndex"])
                for log in r["logs"]]
        return {"ok": r["status"] == 1, "tx_hash": "0x" + bytes(r["transactionHash"]).hex(),
                "block": r["blockNumber"], "gas_used": r["gasUsed"], "logs": logs,
                "address": r["contractAddress"], "reason": reason}

    def _execute(self, sender: str, to: str | None, data: bytes, gas: int) -> dict:
        """Deployments (the constructor's calldata is built by the base class)."""
        self._stamp()
        tx = {"from": sender, "data": "0x" + data.hex(), "gas": gas}
        if to is not None:
            tx["to"] = to
        return self._receipt_raw(self.w3.eth.send_transaction(tx), "")

    def transact(self, contract: Contract, fn: str, *args: Any, sender: str, gas: int = DEFAULT_GAS) -> Receipt:
        from web3.exceptions import ContractLogicError

        call = self._w3contract(contract).functions[fn](*args)
        self._stamp()
        raw = self._receipt_raw(call.transact({"from": sender, "gas": gas}), "")
        if not raw["ok"]:  # replayed as a call for the reason
            try:
                call.call({"from": sender})
                raw["reason"] = "reverted"
            except ContractLogicError as exc:
                raw["reason"] = str(exc.message or exc).removeprefix("execution reverted: ")
            except TransactionFailed as exc:  # what web3's EthereumTesterProvider lets through
                raw["reason"] = _reason(exc)
        return self._receipts([Call(contract, fn, args, sender, gas)], [raw])[0]

    def transact_many(self, calls: Sequence[Call]) -> list[Receipt]:
        """``transact`` for each call, a block each (the reference path); every call is sent, then ChainRevert is
        raised for the first that reverted."""
        receipts, first_revert = [], None
        for c in calls:
            try:
                receipts.append(self.transact(c.contract, c.fn, *c.args, sender=c.sender, gas=c.gas))
            except ChainRevert as exc:
                first_revert = first_revert or exc
        if first_revert is not None:
            raise first_revert
        return receipts

    def call(self, contract: Contract, fn: str, *args: Any) -> Any:
        from web3.exceptions import ContractLogicError

        try:
            out = self._w3contract(contract).functions[fn](*args).call()
        except ContractLogicError as exc:
            raise ChainRevert(contract.name, fn, str(exc.message or exc).removeprefix("execution reverted: ")) from None
        if isinstance(out, (list, tuple)) and len(contract.functions[fn]["outputs"]) > 1:
            return tuple(out)
        return out

    def snapshot(self) -> tuple:
        raise NotImplementedError("the web3 reference backend has no snapshots")

    def revert(self, snap: tuple) -> None:
        raise NotImplementedError("the web3 reference backend has no snapshots")


__all__ = ["Web3Chain"]
