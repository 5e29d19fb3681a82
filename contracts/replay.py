"""Re-execute an archived chain (``contracts.archive``) on an EVM: each block at its number and timestamp, each
transaction from its sender with its nonce, value, gas limit and calldata. No keys are needed: revm runs calls
as any sender; py-evm applies unsigned transactions with their sender spoofed (``eth.vm.spoof``).

``make_replayer(evm, header, senders, genesis_timestamp)`` gives an object with
``run_block(number, timestamp, txs)`` (``txs``: ``(sender, to, nonce, value, gas, data)``) -> one
``{ok, gas_used, logs, address}`` per transaction (logs as ``(address, [topics], data)``; ``error`` when it could
not be run at all), ``chain`` (a ``BaseChain`` for read-only calls once the replay is done) and ``close()``.
anvil (``contracts.anvil``) runs out of process; revm and py-evm in process.
"""

from __future__ import annotations

from eth_utils import to_canonical_address, to_checksum_address
from pyrevm import EVM, CfgEnv, Env

from contracts.chain import BaseChain, _bytes, _Reverted
from contracts.pyevm_chain import EthTesterHead
from contracts.revm_chain import RevmChain

REPLAY_EVMS = ("revm", "py-evm", "anvil")
GAS_MONEY_WEI = 10**30  # what each sender gets at genesis on py-evm, which charges for gas (revm does not)


class _InProcess:
    """``run_block`` and ``close`` for the in-process replayers, from ``begin_block``, ``run``, ``end_block``."""

    def run_block(self, number: int, timestamp: int, txs: list[tuple]) -> list[dict]:
        self.begin_block(number, timestamp)
        out = [self.run(*tx) for tx in txs]
        self.end_block()
        return out

    def close(self) -> None:
        pass


class RevmReplay(_InProcess, RevmChain):
    """The archive re-executed on revm (pyrevm)."""

    backend_name = "revm"

    def __init__(self, header: dict, senders: list[str]):
        super().__init__(0)
        self.chain_id = int(header["chain_id"])
        self.evm = EVM(env=Env(cfg=CfgEnv(chain_id=self.chain_id), block=self._block_env()), spec_id="PRAGUE")
        for account in header["alloc"]:
            self.evm.set_balance(account["address"], int(account["balance"]))
            self._nonces[account["address"].lower()] = int(account["nonce"])

    @property
    def chain(self) -> BaseChain:
        return self

    def begin_block(self, number: int, timestamp: int) -> None:
        self._block, self._time = number, timestamp
        self.evm.set_block_env(self._block_env())

    def end_block(self) -> None:
        pass

    def run(self, sender: str, to: str | None, nonce: int, value: int, gas: int, data: bytes) -> dict:
        expected = self._nonces.get(sender.lower(), 0)
        if nonce != expected:
            return {"ok": False, "gas_used": 0, "logs": [], "address": None,
                    "error": f"nonce {nonce}, but the sender's next nonce is {expected}"}
        raw = self._run_in_block(sender, to, data, gas, value)
        raw["logs"] = [(a.lower(), topics, body) for a, topics, body, _ in raw["logs"]]
        return raw


class PyEvmReplay(_InProcess, EthTesterHead, BaseChain):
    """The archive re-executed on py-evm (through eth-tester's chain set-up); unsigned transactions with the
    archived sender, at the block's base fee (every sender holds ``GAS_MONEY_WEI`` at genesis)."""

    backend_name = "py-evm"

    def __init__(self, header: dict, senders: list[str], genesis_timestamp: int):
        from eth_tester import EthereumTester, PyEVMBackend

        super().__init__(genesis_timestamp)
        self.chain_id = int(header["chain_id"])
        state = {to_canonical_address(a): {"balance": GAS_MONEY_WEI, "nonce": 0, "code": b"", "storage": {}}
                 for a in senders}
        for account in header["alloc"]:
            state[to_canonical_address(account["address"])] = {
                "balance": int(account["balance"]) + GAS_MONEY_WEI, "nonce": int(account["nonce"]), "code": b"",
                "storage": {}}
        params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": int(genesis_timestamp)})
        self._backend = PyEVMBackend(genesis_parameters=params, genesis_state=state)
        self.tester = EthereumTester(self._backend)
        self._caller = senders[0] if senders else header["alloc"][0]["address"]  # funded: eth-tester's calls pay
        if self._backend.chain.chain_id != self.chain_id:
            raise ValueError(f"py-evm's chain id {self._backend.chain.chain_id} is not the archive's {self.chain_id}")

    @property
    def chain(self) -> BaseChain:
        return self

    def begin_block(self, number: int, timestamp: int) -> None:
        chain = self._backend.chain
        if chain.header.block_number != number:
            raise ValueError(f"py-evm is at block {chain.header.block_number}, the archive at {number}")
        chain.header = chain.header.copy(timestamp=timestamp)

    def run(self, sender: str, to: str | None, nonce: int, value: int, gas: int, data: bytes) -> dict:
        from eth.vm.spoof import SpoofTransaction

        chain = self._backend.chain
        vm = chain.get_vm()
        expected = vm.state.get_nonce(to_canonical_address(sender))
        if nonce != expected:
            return {"ok": False, "gas_used": 0, "logs": [], "address": None,
                    "error": f"nonce {nonce}, but the sender's next nonce is {expected}"}
        # a legacy transaction with a placeholder signature; its sender is the archived one (``SpoofTransaction``)
        placeholder = vm.get_transaction_builder().new_transaction(
            nonce=nonce, gas_price=chain.header.base_fee_per_gas, gas=gas,
            to=to_canonical_address(to) if to else b"", value=value, data=data, v=27, r=1, s=1)
        spoofed = SpoofTransaction(placeholder, sender=to_canonical_address(sender))
        before = chain.header.gas_used
        _, receipt, computation = chain.apply_transaction(spoofed)
        logs = [("0x" + log.address.hex(), [t.to_bytes(32, "big") for t in log.topics], bytes(log.data))
                for log in receipt.logs]
        created = None
        if to is None and not computation.is_error:
            created = to_checksum_address(computation.msg.storage_address)
        return {"ok": not computation.is_error, "gas_used": receipt.gas_used - before,
                "logs": logs if not computation.is_error else [], "address": created}

    def end_block(self) -> None:
        self._backend.chain.mine_block()

    def _static_call(self, to: str, data: bytes) -> bytes:
        from eth_tester.exceptions import TransactionFailed

        try:
            return _bytes(self.tester.call({"from": self._caller, "to": to, "data": "0x" + data.hex()}, "latest"))
        except TransactionFailed as exc:
            raise _Reverted(str(exc)) from None


def make_replayer(evm: str, header: dict, senders: list[str], genesis_timestamp: int):
    """A replayer of ``header``'s chain on ``evm`` (one of ``REPLAY_EVMS``)."""
    if evm == "revm":
        return RevmReplay(header, senders)
    if evm == "py-evm":
        return PyEvmReplay(header, senders, genesis_timestamp)
    if evm == "anvil":
        from contracts.anvil import AnvilReplay

        return AnvilReplay(header, senders, genesis_timestamp)
    raise ValueError(f"unknown EVM {evm!r}; expected one of {REPLAY_EVMS}")
