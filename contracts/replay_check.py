"""An archived chain (``contracts.archive``) checked and re-executed: the archived sources recompiled to the archived
bytecode, then every block replayed (``contracts.replay``) with each transaction's status, created address and logs
compared with the archive (gas too where both EVMs charge alike). ``gridledger verify`` (``sim.verify``) and the
readers of a contract's state after a run (``sim.capabilities.certificates.onchain``) use it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa

from contracts.chain import Contract
from contracts.compiler import EVM_VERSION, Compiled, cache_dir
from contracts.replay import make_replayer


class Differs(Exception):
    """The first difference found between an archive and its re-execution; its message names the place."""


def compile_archived(sources: Path, name: str, evm_version: str) -> tuple[list, bytes]:
    """ABI and bytecode of ``sources/name.vy``; the output is cached under the exact source bytes (the key
    ``contracts.compiler`` uses: the same sources hit the same file)."""
    from vyper.compiler import compile_code
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.settings import Settings

    source = (sources / f"{name}.vy").read_text(encoding="utf-8")
    digest = hashlib.sha256()
    for p in sorted(sources.glob("*.vy")):
        digest.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    cached = cache_dir() / f"{name}-{hashlib.sha256(source.encode()).hexdigest()}-{digest.hexdigest()[:16]}.json"
    if evm_version == EVM_VERSION and cached.exists():
        out = json.loads(cached.read_text())
    else:
        out = compile_code(source, output_formats=["abi", "bytecode"], contract_path=f"{name}.vy",
                           input_bundle=FilesystemInputBundle([sources]), settings=Settings(evm_version=evm_version))
    return out["abi"], bytes.fromhex(out["bytecode"].removeprefix("0x"))


def check_bytecode(folder: Path, header: dict, txs: pa.Table) -> dict[str, Compiled]:
    """Every archived contract compiled from ``folder/sources`` (the run's vyper version) and equal to its archived
    bytecode and deployment calldata; raises ``Differs`` naming the contract."""
    import vyper

    compiler = header["compiler"]
    if vyper.__version__ != compiler["vyper"]:
        raise Differs(f"compiler: the run used vyper {compiler['vyper']}, this is vyper {vyper.__version__}")
    by_hash = {h: i for i, h in enumerate(txs.column("hash").to_pylist())}
    compiled = {}
    for c in header["contracts"]:
        abi, bytecode = compile_archived(folder / "sources", c["name"], compiler["evm_version"])
        archived = bytes.fromhex(c["bytecode"][2:])
        if bytecode != archived:
            raise Differs(f"contract {c['name']}: the archived bytecode is not what its source compiles to")
        i = by_hash.get(c["tx_hash"])
        if i is None or txs.column("data")[i].as_py() != archived + bytes.fromhex(c["constructor_args"][2:]):
            raise Differs(f"contract {c['name']}: its deployment (tx {i}) is not its bytecode and constructor "
                          "arguments")
        compiled[c["name"]] = Compiled(c["name"], abi, bytecode, "", "")
    return compiled


# Pairs (recording backend, replaying EVM) that charge the same gas per transaction: each starts every transaction
# from cold storage (EIP-2929), as a node does. pyrevm keeps what a transaction touched warm for the next ones.
GAS_STRICT = {("py-evm", "anvil")}


def compare_tx(t: dict, got: dict, want: list, number: int, evm: str, strict_gas: bool = False) -> None:
    where = f"tx {t['tx']} (block {number}, from {t['sender']} to {t['to'] or 'a new contract'})"
    if got.get("error"):
        raise Differs(f"{where}: {got['error']}")
    if got["ok"] != t["status"]:
        raise Differs(f"{where}: status {'success' if got['ok'] else 'reverted'} on {evm}, archived "
                      f"{'success' if t['status'] else 'reverted'}")
    if (got["address"] or "").lower() != (t["created"] or "").lower():
        raise Differs(f"{where}: created {got['address']} on {evm}, archived {t['created']}")
    if got["logs"] != want:
        k = next((k for k, (a, b) in enumerate(zip(got["logs"], want)) if a != b), min(len(got["logs"]), len(want)))
        raise Differs(f"{where}: log {k} differs ({len(got['logs'])} logs on {evm}, {len(want)} archived)")
    if strict_gas and got["gas_used"] != t["gas_used"]:
        raise Differs(f"{where}: used {got['gas_used']} gas on {evm}, archived {t['gas_used']}")


def replay(header: dict, tables: dict[str, pa.Table], evm: str, compiled: dict[str, Compiled], bar=None):
    """Every archived block re-executed on ``evm``, each transaction compared (``Differs`` at the first difference);
    returns the replayed chain, its contracts known by name, and how many transactions used other gas."""
    blocks, txs, logs = tables["blocks"], tables["txs"], tables["logs"]
    senders = sorted(set(txs.column("sender").to_pylist()))
    replayer = make_replayer(evm, header, senders, blocks.column("timestamp")[0].as_py() - 1 if len(blocks) else 0)
    logs_of: dict[int, list] = {}
    for t, a, topics, data in zip(*(logs.column(c).to_pylist() for c in ("tx", "address", "topics", "data"))):
        logs_of.setdefault(t, []).append((a.lower(), topics, data))
    by_block: dict[int, list[dict]] = {}
    for row in txs.select(["tx", "block", "sender", "to", "created", "nonce", "value", "gas", "data", "status",
                           "gas_used"]).to_pylist():
        by_block.setdefault(row["block"], []).append(row)
    gas_differs, strict_gas = 0, (header["backend"], evm) in GAS_STRICT
    try:
        for number, ts in zip(blocks.column("number").to_pylist(), blocks.column("timestamp").to_pylist()):
            block = by_block.get(number, [])
            results = replayer.run_block(number, ts, [(t["sender"], t["to"], t["nonce"], int(t["value"]), t["gas"],
                                                       t["data"]) for t in block])
            for t, got in zip(block, results):
                compare_tx(t, got, logs_of.get(t["tx"], []), number, evm, strict_gas)
                gas_differs += got["gas_used"] != t["gas_used"]
            if bar is not None:
                bar.update(len(block))
    except BaseException:
        replayer.close()
        raise
    chain = replayer.chain
    for c in header["contracts"]:
        contract = Contract(c["name"], c["address"], compiled[c["name"]])
        chain.know(contract)
    return chain, gas_differs
