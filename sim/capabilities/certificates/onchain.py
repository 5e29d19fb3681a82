"""The Certificates contract's state read from the chain itself: a results folder's chain archive (``chain/``,
``docs/chain_archive.md``) replayed on revm, then the contract's views called, so that what an export or a matching
statement reports comes from the contract, whichever settlement path (single or bulk) made the run.

The archived Certificates source is compiled (the ABI of the code that ran; its bytecode must be the archived one)
and the replay compares every transaction's status and logs with the archive as it goes, as ``gridledger verify``
does (``sim.verify``, which a capability cannot import: it sits above the registry): an archive that does not
re-execute is refused, never read. Amounts are Wh (integers, as the contract keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.archive import read_archive
from contracts.batch import MAX_BATCH
from contracts.chain import Contract
from contracts.compiler import Compiled
from contracts.replay import make_replayer

CONTRACT = "Certificates"
CHAIN_FOLDER = "chain"
REPLAY_EVM = "revm"  # in process and fast; the run's own backend does not matter: the replay is a new chain


class ChainUnreadable(RuntimeError):
    """A results folder whose chain cannot be replayed (no archive, or one that does not re-execute)."""


@dataclass
class ChainView:
    """Read-only calls on the Certificates contract of a replayed chain."""

    chain: object
    contract: object
    chain_id: int

    def call(self, fn: str, *args):
        return self.chain.call(self.contract, fn, *args)

    @property
    def address(self) -> str:
        return self.contract.address

    def totals(self) -> dict[str, int]:
        """The contract's own counters [Wh]: ``total_minted_wh`` and ``total_retired_wh``."""
        return {"minted_wh": int(self.call("total_minted_wh")), "retired_wh": int(self.call("total_retired_wh"))}

    def per_id(self, fn: str, ids: list[int]) -> dict[int, int]:
        """``fn(id)`` (``minted_wh`` or ``retired_wh``) for each id [Wh]."""
        return {i: int(self.call(fn, i)) for i in ids}

    def per_pair(self, fn: str, pairs: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """``fn(account, key)`` for each pair [Wh]: ``balanceOf`` (batched), ``retired_by``, ``consumed_wh``,
        ``claimed_wh``."""
        if fn == "balanceOf":
            out: list[int] = []
            for i in range(0, len(pairs), MAX_BATCH):
                chunk = pairs[i : i + MAX_BATCH]
                out += self.call("balanceOfBatch", [a for a, _ in chunk], [k for _, k in chunk])
            return dict(zip(pairs, map(int, out)))
        return {p: int(self.call(fn, *p)) for p in pairs}

    def close(self) -> None:
        self.chain.close()


def _compiled(archive: Path, header: dict) -> tuple[dict, Compiled]:
    """The Certificates deployment of the archive and its source compiled from ``chain/sources``."""
    from vyper.compiler import compile_code
    from vyper.compiler.input_bundle import FilesystemInputBundle
    from vyper.compiler.settings import Settings

    deployed = next(c for c in header["contracts"] if c["name"] == CONTRACT)
    sources = archive / "sources"
    out = compile_code((sources / f"{CONTRACT}.vy").read_text(encoding="utf-8"), output_formats=["abi", "bytecode"],
                       contract_path=f"{CONTRACT}.vy", input_bundle=FilesystemInputBundle([sources]),
                       settings=Settings(evm_version=header["compiler"]["evm_version"]))
    bytecode = bytes.fromhex(out["bytecode"].removeprefix("0x"))
    if "0x" + bytecode.hex() != deployed["bytecode"]:
        raise ChainUnreadable(f"{archive}: the archived {CONTRACT} bytecode is not what chain/sources/{CONTRACT}.vy "
                              "compiles to")
    return deployed, Compiled(CONTRACT, out["abi"], bytecode, "", "")


def _replay(header: dict, tables: dict, archive: Path):
    """Every archived block re-executed on revm; each transaction's status and logs must be the archived ones."""
    blocks, txs, logs = tables["blocks"], tables["txs"], tables["logs"]
    replayer = make_replayer(REPLAY_EVM, header, sorted(set(txs.column("sender").to_pylist())),
                             blocks.column("timestamp")[0].as_py() - 1 if len(blocks) else 0)
    logs_of: dict[int, list] = {}
    for t, a, topics, data in zip(*(logs.column(c).to_pylist() for c in ("tx", "address", "topics", "data"))):
        logs_of.setdefault(t, []).append((a.lower(), topics, data))
    by_block: dict[int, list[dict]] = {}
    for row in txs.select(["tx", "block", "sender", "to", "nonce", "value", "gas", "data", "status"]).to_pylist():
        by_block.setdefault(row["block"], []).append(row)
    for number, ts in zip(blocks.column("number").to_pylist(), blocks.column("timestamp").to_pylist()):
        block = by_block.get(number, [])
        got = replayer.run_block(number, ts, [(t["sender"], t["to"], t["nonce"], int(t["value"]), t["gas"],
                                               t["data"]) for t in block])
        for t, g in zip(block, got):
            if g.get("error") or g["ok"] != t["status"] or g["logs"] != logs_of.get(t["tx"], []):
                replayer.close()
                raise ChainUnreadable(f"{archive}: tx {t['tx']} (block {number}) does not re-execute as archived "
                                      f"({g.get('error') or 'status or logs differ'}): run gridledger verify")
    return replayer.chain


def chain_view(folder: str | Path) -> ChainView:
    """Replay ``folder``'s chain archive on revm and return a view of its Certificates contract."""
    archive = Path(folder) / CHAIN_FOLDER
    if not (archive / "header.json").exists():
        raise ChainUnreadable(f"{folder}: no chain archive ({CHAIN_FOLDER}/header.json): the certificates' state "
                              "cannot be read from the chain")
    header, tables = read_archive(archive)
    names = [c["name"] for c in header["contracts"]]
    if CONTRACT not in names:
        raise ChainUnreadable(f"{archive}: no {CONTRACT} contract was deployed in this run (contracts: {names})")
    deployed, compiled = _compiled(archive, header)
    chain = _replay(header, tables, archive)
    contract = Contract(CONTRACT, deployed["address"], compiled)
    chain._by_address[contract.address.lower()] = contract
    return ChainView(chain, contract, int(header["chain_id"]))
