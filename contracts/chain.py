"""What every chain backend shares: contracts deployed from ``contracts/*.vy``, transactions, calls, blocks
filled by gas, and events decoded from each receipt.

Block time follows simulation time: every transaction is mined in a block stamped with the time the caller
sets (strictly increasing), so contracts see ``block.timestamp`` = simulated epoch seconds. Events are decoded
from each receipt as it comes (never from ``eth_getLogs`` over the whole history) into ``BaseChain.events``.
The backends: ``contracts.pyevm_chain.Chain`` (eth-tester on py-evm, the reference), ``contracts.revm_chain``
and ``contracts.web3_chain`` (the straightforward reference path of the benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import eth_abi
from eth_keys import keys
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector, to_checksum_address

from contracts.abi_fast import encoder_for
from contracts.compiler import EVM_VERSION, Compiled, compile_contract
from contracts.event_log import EventLog

DEFAULT_GAS = 12_000_000
SETUP_GAS = 300_000  # gas limit of a registration, approval or deposit [gas units]; measured <= 184 k
# What ``transact_many`` and ``new_accounts`` put in one block, by gas limits [gas units]: EIP-1559's target, half
# the 30 Mgas limit, so that blocks filled this way never raise the base fee (eth-tester sends with a 1 gwei max fee)
BLOCK_GAS_TARGET = 15_000_000
TRANSFER_GAS = 21_000  # an ether transfer (funding a new account)
FUNDING_WEI = 10**20  # 100 ether for gas: eth-tester's faucet (10**24 wei) funds 9 999; a year of settle_day < 2


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
    def __reduce__(self):  # pickled as its fields: ~1.7x faster than the slots dataclass's state (a year's spill)
        return (Event, (self.block, self.log_index, self.tx_hash, self.contract, self.event, self.args, self.address))


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
    allow (``BLOCK_GAS_TARGET``), then the next."""

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
        self.archive = None  # a contracts.archive.ChainRecorder once ``record_to`` attached one

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

    def _genesis_alloc(self) -> list[tuple[str, int, int]]:
        """Accounts at genesis: (address, balance [wei], nonce)."""
        return []

    def record_to(self, recorder) -> None:
        """Record every block, transaction and receipt from now on into ``recorder``
        (``contracts.archive.ChainRecorder``); only before the first block."""
        if self.block_number != 0:
            raise RuntimeError("a chain archive starts at genesis")
        recorder.start(self.chain_id, self.backend_name, self._genesis_alloc())
        self.archive = recorder

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
        if self.archive is not None:
            self.archive.contract(name, contract.address, compiled.bytecode, data[len(compiled.bytecode):],
                                  raw["tx_hash"])
        self.know(contract)
        self._decode_into(raw)
        return contract

    def transact(self, contract: Contract, fn: str, *args: Any, sender: str, gas: int = DEFAULT_GAS) -> Receipt:
        """Send a transaction; raise ChainRevert with the contract's reason if it reverts."""
        raw = self._execute(sender, contract.address, self._calldata(contract, fn, args), gas)
        return self._receipts([Call(contract, fn, args, sender, gas)], [raw])[0]

    def transact_many(self, calls: Sequence[Call]) -> list[Receipt]:
        """Send ``calls`` in order, as many transactions in as few blocks as their gas limits fit
        (``BLOCK_GAS_TARGET``; none for no calls): the same state, receipts and events, in the same order, as
        ``transact`` one by one, but fewer block numbers and timestamps. Every call is mined; if any reverted,
        ChainRevert is raised for the first of them with the contract's reason (the events of the others are
        decoded all the same). Returns the receipts in order."""
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

    def know(self, contract: Contract) -> None:
        """Decode ``contract``'s events and allow calls to it by its ABI (a deployment, or a replayed one)."""
        self._by_address[contract.address.lower()] = contract

    def contract_at(self, address: str) -> Contract | None:
        """The known contract at ``address`` (any case), or None."""
        return self._by_address.get(address.lower())

    def contracts(self) -> list[Contract]:
        """The known contracts, in deployment order."""
        return list(self._by_address.values())

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
