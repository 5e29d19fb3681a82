"""The in-process chain: eth-tester on py-evm, contracts deployed from ``contracts/*.vy``.

Block time follows simulation time: every transaction is mined in a block stamped with the time the caller
sets (strictly increasing), so contracts see ``block.timestamp`` = simulated epoch seconds. Events are decoded
from each receipt as it comes (never from ``eth_getLogs`` over the whole history) into ``Chain.events``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import eth_abi
from eth_keys import keys
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, to_checksum_address

from contracts.abi_fast import encoder_for
from contracts.compiler import EVM_VERSION, Compiled, compile_contract
from contracts.event_log import EventLog
from contracts.pyevm_history import KEEP_HEADERS, PruneStats, prune_history

DEFAULT_GAS = 12_000_000
SETUP_GAS = 300_000  # gas limit of a registration, approval or deposit [gas units]; measured <= 184 k
# What ``transact_many`` and ``new_accounts`` put in one block, by gas limits [gas units]: EIP-1559's target, half
# the 30 Mgas limit, so that blocks filled this way never raise the base fee (eth-tester sends with a 1 gwei max fee)
BLOCK_GAS_TARGET = 15_000_000
TRANSFER_GAS = 21_000  # an ether transfer (funding a new account)
FUNDING_WEI = 10**20  # 100 ether for gas: eth-tester's faucet (10**24 wei) funds 9 999 accounts; a year of settle_day < 2 ether


class ChainRevert(RuntimeError):
    """A transaction reverted; ``reason`` is the contract's reason string."""

    def __init__(self, contract: str, fn: str, reason: str):
        super().__init__(f"{contract}.{fn} reverted: {reason}")
        self.contract, self.fn, self.reason = contract, fn, reason


@dataclass(frozen=True, slots=True)
class Event:
    """A decoded contract event, in chain order."""

    block: int
    log_index: int
    tx_hash: str
    contract: str
    event: str
    args: dict[str, Any]
    address: str  # the emitting contract's checksum address


@dataclass(frozen=True, slots=True)
class Receipt:
    """A mined transaction: its hash, block number, gas used [gas units] and decoded events in log order."""

    tx_hash: str
    block: int
    gas_used: int
    events: list[Event]


@dataclass
class Contract:
    """A deployed contract: its name, address and ABI, with selectors and event topics prepared once."""

    name: str
    address: str
    compiled: Compiled
    functions: dict[str, dict] = field(default_factory=dict)
    topics: dict[bytes, dict] = field(default_factory=dict)
    plans: dict[bytes, list | None] = field(default_factory=dict)  # word-by-word decoders of static events

    def __post_init__(self) -> None:
        for item in self.compiled.abi:
            if item["type"] == "function":
                item = dict(item, selector=function_abi_to_4byte_selector(item))
                item["in_types"] = [_abi_type(i) for i in item["inputs"]]
                item["out_types"] = [_abi_type(o) for o in item["outputs"]]
                item["encode"] = encoder_for(item["in_types"])
                self.functions[item["name"]] = item
            elif item["type"] == "event":
                topic = event_abi_to_log_topic(item)
                self.topics[topic] = item
                self.plans[topic] = _static_plan(item)


@dataclass(frozen=True, slots=True)
class Call:
    """One transaction for ``BaseChain.transact_many``: ``contract.fn(*args)`` sent by ``sender`` with a gas
    limit of ``gas`` [gas units]."""

    contract: Contract
    fn: str
    args: tuple
    sender: str
    gas: int = DEFAULT_GAS


def gas_blocks(gas_limits: Sequence[int]) -> list[slice]:
    """Consecutive runs of transactions, by their gas limits [gas units], each run's sum at most
    ``BLOCK_GAS_TARGET`` (a transaction alone may take a whole block)."""
    runs, start, total = [], 0, 0
    for i, gas in enumerate(gas_limits):
        if total + gas > BLOCK_GAS_TARGET and i > start:
            runs.append(slice(start, i))
            start, total = i, 0
        total += gas
    if start < len(gas_limits):
        runs.append(slice(start, len(gas_limits)))
    return runs


def _abi_type(item: dict) -> str:
    """ABI type string, with tuples (structs) expanded."""
    t = item["type"]
    if t.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item["components"]) + ")" + t[len("tuple") :]
    return t


@lru_cache(maxsize=65_536)
def _checksum(address: str) -> str:
    return to_checksum_address(address)


def _bytes(value: str | bytes) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class BaseChain:
    """What both backends share: accounts, deployment, transactions, calls and event decoding.

    Block time follows simulation time: every transaction is executed in a block of its own stamped with the
    time the caller set (strictly increasing), so contracts see ``block.timestamp`` = simulated epoch seconds;
    ``transact_many`` and ``new_accounts`` put many transactions in one such block, as many as their gas limits
    allow (``BLOCK_GAS_TARGET``), then the next.
    """

    backend_name = "base"
    # Wrappers may answer some reads from the events this chain decodes from every receipt (``events``); the
    # straightforward reference path (web3) reads contract state by a call instead, as a plain web3 client would.
    reads_by_call = False
    DEFAULT_CHAIN_ID = 131277322940537  # eth-tester's; both backends use it, so signatures agree

    def __init__(self, genesis_timestamp: int, seed: int = 0):
        self.seed = seed
        self.chain_id: int = self.DEFAULT_CHAIN_ID
        self.events = EventLog()  # every decoded Event in chain order (older chunks on disk once spill_to is set)
        self.n_reverts = 0  # reverts to a snapshot so far: readers of ``events`` start again after one
        self.n_transactions = 0
        self.gas_used = 0
        self._by_address: dict[str, Contract] = {}
        self.evm_version = EVM_VERSION
        self._now_s = int(genesis_timestamp) + 1

    # backend ----------------------------------------------------------------------------------------------
    @property
    def timestamp(self) -> int:
        """Timestamp of the latest block [s]."""
        raise NotImplementedError

    @property
    def block_number(self) -> int:
        raise NotImplementedError

    def _register_many(self, keys_: list[keys.PrivateKey]) -> list[str]:
        """Accounts for ``keys_``, able to pay for gas, opened in one new block; their checksum addresses."""
        raise NotImplementedError

    def _execute(self, sender: str, to: str | None, data: bytes, gas: int) -> dict:
        """Run one transaction in a new block; returns ``{ok, tx_hash, block, gas_used, logs, address,
        reason}`` with logs as ``(address, [topic bytes], data bytes, log_index)``."""
        raise NotImplementedError

    def _execute_many(self, txs: list[tuple[str, str, bytes, int]]) -> list[dict]:
        """Run ``(sender, to, calldata, gas)`` calls in order in one new block, each whether or not an earlier
        one reverted; returns one ``_execute`` result per call."""
        raise NotImplementedError

    def _static_call(self, to: str, data: bytes) -> bytes:
        """Return data of a read-only call at the latest state; raise ``_Reverted(reason)`` on revert."""
        raise NotImplementedError

    def snapshot(self) -> tuple:
        raise NotImplementedError

    def revert(self, snap: tuple) -> None:
        raise NotImplementedError

    # time -------------------------------------------------------------------------------------------------
    def set_time(self, timestamp_s: int) -> None:
        """Stamp the following blocks with ``timestamp_s`` (each at least one second after its parent)."""
        self._now_s = int(timestamp_s)

    def _next_block_time(self) -> int:
        return max(self._now_s, self.timestamp + 1)

    # accounts ---------------------------------------------------------------------------------------------
    def new_account(self, key: keys.PrivateKey) -> str:
        """An account for ``key``, able to pay for gas (opened in a block of its own); its checksum address."""
        return self._register_many([key])[0]

    def new_accounts(self, keys_: Sequence[keys.PrivateKey]) -> list[str]:
        """Accounts for ``keys_``, able to pay for gas, opened in as few blocks as their funding transfers fit
        (none for no keys); their checksum addresses in the same order."""
        keys_ = list(keys_)
        return [a for run in gas_blocks([TRANSFER_GAS] * len(keys_)) for a in self._register_many(keys_[run])]

    # contracts --------------------------------------------------------------------------------------------
    def deploy(self, name: str, *args: Any, sender: str) -> Contract:
        compiled = compile_contract(name)
        ctor = next((i for i in compiled.abi if i["type"] == "constructor"), {"inputs": []})
        data = compiled.bytecode + eth_abi.encode([_abi_type(i) for i in ctor["inputs"]], list(args))
        raw = self._run(sender, None, data, DEFAULT_GAS, "chain", f"deploy {name}")
        contract = Contract(name, to_checksum_address(raw["address"]), compiled)
        self._by_address[contract.address.lower()] = contract
        self._decode_into(raw)
        return contract

    def transact(self, contract: Contract, fn: str, *args: Any, sender: str, gas: int = DEFAULT_GAS) -> Receipt:
        """Send a transaction; raise ChainRevert with the contract's reason if it reverts."""
        raw = self._execute(sender, contract.address, self._calldata(contract, fn, args), gas)
        return self._receipts([Call(contract, fn, args, sender, gas)], [raw])[0]

    def transact_many(self, calls: Sequence[Call]) -> list[Receipt]:
        """Send ``calls`` in order, as many transactions in as few blocks as their gas limits fit
        (``BLOCK_GAS_TARGET``; none for no calls): the same state, receipts and events, in the same order, as
        ``transact`` one by one, but fewer block numbers and timestamps. Every call is mined; if any reverted, ChainRevert is raised for the first of them with the
        contract's reason (the events of the others are decoded all the same). Returns the receipts in order."""
        calls = list(calls)
        txs = [(c.sender, c.contract.address, self._calldata(c.contract, c.fn, c.args), c.gas) for c in calls]
        raws = [raw for run in gas_blocks([c.gas for c in calls]) for raw in self._execute_many(txs[run])]
        return self._receipts(calls, raws)

    def call(self, contract: Contract, fn: str, *args: Any) -> Any:
        """Read-only call at the latest block; a single output is returned bare."""
        item = contract.functions[fn]
        try:
            out = self._static_call(contract.address, self._calldata(contract, fn, args))
        except _Reverted as exc:
            raise ChainRevert(contract.name, fn, exc.reason) from None
        values = eth_abi.decode(item["out_types"], out)
        return values[0] if len(values) == 1 else values

    def deployed(self) -> dict[str, str]:
        """Deployed contracts, name -> address, in deployment order."""
        return {c.name: c.address for c in self._by_address.values()}

    # internals --------------------------------------------------------------------------------------------
    @staticmethod
    def _calldata(contract: Contract, fn: str, args: tuple) -> bytes:
        item = contract.functions[fn]
        if item["encode"] is not None:
            return item["selector"] + item["encode"](args)
        return item["selector"] + eth_abi.encode(item["in_types"], list(args))

    def _run(self, sender: str, to: str | None, data: bytes, gas: int, contract: str, fn: str) -> dict:
        raw = self._execute(sender, to, data, gas)
        self._count([raw])
        if not raw["ok"]:
            raise ChainRevert(contract, fn, raw["reason"])
        return raw

    def _count(self, raws: list[dict]) -> None:
        self.n_transactions += len(raws)
        self.gas_used += sum(raw["gas_used"] for raw in raws)

    def _receipts(self, calls: list[Call], raws: list[dict]) -> list[Receipt]:
        """Count the executed ``calls``, decode their events in order (a reverted one has none) and raise
        ChainRevert for the first that reverted."""
        self._count(raws)
        receipts = [Receipt(raw["tx_hash"], raw["block"], raw["gas_used"], self._decode_into(raw)) for raw in raws]
        for call, raw in zip(calls, raws):
            if not raw["ok"]:
                raise ChainRevert(call.contract.name, call.fn, raw["reason"])
        return receipts

    def _decode_into(self, raw: dict) -> list[Event]:
        out = []
        for address, topics, data, log_index in raw["logs"]:
            contract = self._by_address.get(address.lower())
            if contract is None or not topics:
                continue
            item = contract.topics.get(topics[0])
            if item is None:
                continue
            plan = contract.plans[topics[0]]
            if plan is not None:  # every argument is one 32-byte word: read the words directly
                args = {}
                for name, kind, where, i in plan:
                    word = topics[i] if where == "topic" else data[32 * i : 32 * i + 32]
                    args[name] = _WORD_DECODERS[kind](word)
                out.append(Event(raw["block"], log_index, raw["tx_hash"], contract.name, item["name"], args,
                                 contract.address))
                continue
            indexed = [i for i in item["inputs"] if i["indexed"]]
            plain = [i for i in item["inputs"] if not i["indexed"]]
            args: dict[str, Any] = {}
            for inp, topic in zip(indexed, topics[1:]):
                t = inp["type"]
                if t == "address":
                    args[inp["name"]] = "0x" + topic[12:].hex()
                elif t.startswith("uint"):
                    args[inp["name"]] = int.from_bytes(topic, "big")
                else:
                    args[inp["name"]] = eth_abi.decode([_abi_type(inp)], topic)[0]
            for inp, value in zip(plain, eth_abi.decode([_abi_type(i) for i in plain], data)):
                args[inp["name"]] = value
            for inp in item["inputs"]:
                if inp["type"] == "address":
                    args[inp["name"]] = _checksum(args[inp["name"]])
            ordered = {i["name"]: _plain(args[i["name"]]) for i in item["inputs"]}
            out.append(Event(raw["block"], log_index, raw["tx_hash"], contract.name, item["name"], ordered,
                             contract.address))
        self.events.extend(out)
        return out


_WORD_DECODERS = {
    "uint": lambda w: int.from_bytes(w, "big"),
    "int": lambda w: int.from_bytes(w, "big", signed=True),
    "address": lambda w: _checksum("0x" + w[12:].hex()),
    "bool": lambda w: bool(int.from_bytes(w, "big")),
    "bytes32": lambda w: "0x" + bytes(w).hex(),
}


def _static_plan(item: dict) -> list | None:
    """For an event whose arguments are all single words (uintN, intN, address, bool, bytes32): per argument,
    in declaration order, (name, decoder kind, "topic" or "data", index). None for any other event."""
    plan: list | None = []
    n_topic, n_data = 1, 0
    for inp in item["inputs"]:
        t = inp["type"]
        kind = ("uint" if t.startswith("uint") else "int" if t.startswith("int") else
                t if t in ("address", "bool", "bytes32") else None)
        if kind is None:
            plan = None
            break
        if inp["indexed"]:
            plan.append((inp["name"], kind, "topic", n_topic))
            n_topic += 1
        else:
            plan.append((inp["name"], kind, "data", n_data))
            n_data += 1
    return plan


class _Reverted(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _error_string(output: bytes) -> str:
    """The reason of a revert's ``Error(string)`` return data (or a hex dump of other data)."""
    if output[:4] == bytes.fromhex("08c379a0"):
        return eth_abi.decode(["string"], output[4:])[0]
    return "reverted" + (f" (0x{output.hex()})" if output else "")


class Chain(BaseChain):
    """The reference chain: eth-tester on py-evm, real blocks and signed transactions.

    Its history is pruned every ``PRUNE_EVERY_BLOCKS`` blocks (``contracts.pyevm_history``): only the head's
    state and block and the last ``KEEP_HEADERS`` headers stay, so memory follows the contracts' state, not the
    number of blocks. A chain that has taken a snapshot keeps its whole history from then on (``revert``
    re-imports the snapshot's block on its parent's state); so does one built with ``prune_every_blocks=None``.
    """

    backend_name = "py-evm"
    PRUNE_EVERY_BLOCKS = 16

    def __init__(self, genesis_timestamp: int, seed: int = 0, *, prune_every_blocks: int | None = PRUNE_EVERY_BLOCKS):
        super().__init__(genesis_timestamp, seed)
        self.prune_every_blocks = prune_every_blocks
        self.prunes: list[PruneStats] = []  # one per pruning, in order
        self._pruned_at_block = 0
        self._snapshot_taken = False
        params = PyEVMBackend.generate_genesis_params(overrides={"timestamp": int(genesis_timestamp)})
        self._backend = PyEVMBackend(genesis_parameters=params)
        self.tester = EthereumTester(self._backend)
        self._faucet = self.tester.get_accounts()[0]
        assert self._backend.chain.chain_id == self.chain_id, "eth-tester's chain id changed"

    @property
    def timestamp(self) -> int:
        return int(self._backend.chain.get_canonical_head().timestamp)

    @property
    def block_number(self) -> int:
        return int(self._backend.chain.get_canonical_head().block_number)

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
        self._pruned_at_block = self.block_number
        return stats

    def _prune_if_due(self) -> None:
        if self.prune_every_blocks and self.block_number - self._pruned_at_block >= self.prune_every_blocks:
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
        return {"ok": raw["status"] == 1, "tx_hash": _plain(raw["transaction_hash"]), "block": raw["block_number"],
                "gas_used": raw["gas_used"], "logs": logs, "address": raw["contract_address"], "reason": reason}

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


def _reason(exc: TransactionFailed) -> str:
    msg = str(exc.args[0]) if exc.args else str(exc)
    return msg.removeprefix("execution reverted: ")
