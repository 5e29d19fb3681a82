"""The chain archive: everything needed to re-execute a run's settlement on another EVM, recorded as the chain
makes it (``docs/chain_archive.md``).

A ``ChainRecorder`` attached to a chain (``BaseChain.record_to``) receives every block and every transaction
with its receipt from the backend that ran it (the one choke point: each backend's block-making method calls
``BaseChain._archive_block`` / ``_archive_tx``); it appends to in-memory column lists and writes them as numbered
Parquet parts (``blocks-NNNNN``, ``txs-NNNNN``, ``logs-NNNNN``) every ``chunk_txs`` transactions, so a long run
holds at most one chunk. ``close()`` writes the last parts, the Vyper sources and ``header.json`` (chain id,
backend, genesis state, contracts with bytecode and constructor arguments, compiler). ``read_archive`` reads a
folder back.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from eth_utils import keccak

from contracts.compiler import EVM_VERSION, SOURCE_DIR

HEADER = "header.json"
FORMAT = "gridledger-chain-archive/1"
CHUNK_TXS = 5_000  # transactions per Parquet part (~ a few MiB with their logs)

BLOCK_SCHEMA = pa.schema([("number", pa.int64()), ("timestamp", pa.int64()), ("base_fee", pa.int64()),
                          ("hash", pa.binary()), ("state_root", pa.binary()), ("digest", pa.binary())])
TX_SCHEMA = pa.schema([
    ("tx", pa.int64()), ("block", pa.int64()), ("sender", pa.string()), ("to", pa.string()),
    ("created", pa.string()), ("nonce", pa.int64()), ("value", pa.string()), ("gas", pa.int64()),
    ("data", pa.binary()), ("raw", pa.binary()), ("hash", pa.string()), ("status", pa.bool_()),
    ("gas_used", pa.int64()),
])
LOG_SCHEMA = pa.schema([("tx", pa.int64()), ("log_index", pa.int32()), ("address", pa.string()),
                        ("topics", pa.list_(pa.binary())), ("data", pa.binary())])
TABLES = {"blocks": BLOCK_SCHEMA, "txs": TX_SCHEMA, "logs": LOG_SCHEMA}


class ChainRecorder:
    """Column lists of blocks, transactions and logs, written to ``folder`` in Parquet parts as they fill."""

    def __init__(self, folder: Path, chunk_txs: int = CHUNK_TXS):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.chunk_txs = chunk_txs
        self.cols = {name: {f: [] for f in schema.names} for name, schema in TABLES.items()}
        self.n_txs = 0
        self.n_parts = 0
        self.contracts: list[dict] = []
        self.genesis: dict[str, Any] = {}
        self.digest = bytes(32)  # the running block digest (``block_digest``)

    # recording (called by the chain) ----------------------------------------------------------------------
    def start(self, chain_id: int, backend: str, alloc: list[tuple[str, int, int]]) -> None:
        """The chain before its first block: id, backend and genesis accounts (address, balance [wei], nonce)."""
        self.genesis = {"chain_id": chain_id, "backend": backend,
                        "alloc": [{"address": a, "balance": str(b), "nonce": n} for a, b, n in alloc]}

    def block(self, number: int, timestamp: int, base_fee: int, block_hash: bytes | None,
              state_root: bytes | None) -> None:
        b = self.cols["blocks"]
        b["number"].append(number)
        b["timestamp"].append(timestamp)
        b["base_fee"].append(base_fee)
        b["hash"].append(block_hash)
        b["state_root"].append(state_root)
        b["digest"].append(None)  # filled in at ``flush``, once the block's transactions are known

    def tx(self, block: int, sender: str, to: str | None, nonce: int, value: int, gas: int, data: bytes,
           raw_tx: bytes | None, result: dict) -> None:
        """One transaction and its receipt (``result``: a backend's ``_execute`` result)."""
        t, n = self.cols["txs"], self.n_txs
        t["tx"].append(n)
        t["block"].append(block)
        t["sender"].append(sender)
        t["to"].append(to)
        t["created"].append(result["address"])
        t["nonce"].append(nonce)
        t["value"].append(str(value))
        t["gas"].append(gas)
        t["data"].append(bytes(data))
        t["raw"].append(raw_tx)
        t["hash"].append(result["tx_hash"])
        t["status"].append(bool(result["ok"]))
        t["gas_used"].append(result["gas_used"])
        if result["logs"]:
            lg = self.cols["logs"]
            for address, topics, body, log_index in result["logs"]:
                lg["tx"].append(n)
                lg["log_index"].append(log_index)
                lg["address"].append(address)
                lg["topics"].append(topics)
                lg["data"].append(bytes(body))
        self.n_txs = n + 1
        if len(t["tx"]) >= self.chunk_txs:
            self.flush()

    def contract(self, name: str, address: str, bytecode: bytes, ctor_args: bytes, tx_hash: str) -> None:
        self.contracts.append({"name": name, "address": address, "tx_hash": tx_hash,
                               "bytecode": "0x" + bytecode.hex(), "constructor_args": "0x" + ctor_args.hex()})

    # writing ----------------------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write what is held as one more part of each table (nothing if nothing is held)."""
        if not self.cols["blocks"]["number"] and not self.cols["txs"]["tx"]:
            return
        b, t = self.cols["blocks"], self.cols["txs"]
        hashes: dict[int, list[str]] = {}
        for block, tx_hash in zip(t["block"], t["hash"]):
            hashes.setdefault(block, []).append(tx_hash)
        for i, (number, timestamp, base_fee) in enumerate(zip(b["number"], b["timestamp"], b["base_fee"])):
            self.digest = block_digest(self.digest, number, timestamp, base_fee, hashes.get(number, []))
            b["digest"][i] = self.digest
        for name, schema in TABLES.items():
            table = pa.table(self.cols[name], schema=schema)
            pq.write_table(table, self.folder / f"{name}-{self.n_parts:05d}.parquet")
            self.cols[name] = {f: [] for f in schema.names}
        self.n_parts += 1

    def close(self, compiler: dict[str, str]) -> None:
        """Write the last parts, the Vyper sources and ``header.json``."""
        self.flush()
        sources = self.folder / "sources"
        sources.mkdir(exist_ok=True)
        for p in sorted(SOURCE_DIR.glob("*.vy")):
            shutil.copyfile(p, sources / p.name)
        header = {"format": FORMAT, **self.genesis, "compiler": {**compiler, "evm_version": EVM_VERSION},
                  "contracts": self.contracts, "transactions": self.n_txs, "parts": self.n_parts,
                  "head_digest": "0x" + self.digest.hex()}
        tmp = self.folder / f".{HEADER}.tmp"
        tmp.write_text(json.dumps(header, indent=1))
        os.replace(tmp, self.folder / HEADER)


def block_digest(parent: bytes, number: int, timestamp: int, base_fee: int, tx_hashes: list[str]) -> bytes:
    """keccak256(parent digest ‖ number ‖ timestamp ‖ base fee ‖ the block's transaction hashes in order): a
    chain over every block's place, time and contents, so that a changed timestamp is named by its block."""
    return keccak(parent + number.to_bytes(8, "big") + timestamp.to_bytes(8, "big") + base_fee.to_bytes(32, "big")
                  + b"".join(bytes.fromhex(h[2:]) for h in tx_hashes))


def read_archive(folder: Path) -> tuple[dict, dict[str, pa.Table]]:
    """``header.json`` and the three tables of the archive in ``folder``, parts concatenated in order."""
    folder = Path(folder)
    header = json.loads((folder / HEADER).read_text())
    tables = {}
    for name, schema in TABLES.items():
        parts = [pq.read_table(folder / f"{name}-{i:05d}.parquet") for i in range(header["parts"])]
        tables[name] = pa.concat_tables(parts) if parts else schema.empty_table()
    return header, tables
