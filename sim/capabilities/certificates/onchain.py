"""The Certificates contract's state read from the chain itself: a results folder's chain archive (``chain/``,
``docs/chain_archive.md``) replayed on revm, then the contract's views called, so that what an export or a matching
statement reports comes from the contract, whichever settlement path (single or bulk) made the run.

The archived sources are compiled (the ABI of the code that ran; the bytecode must be the archived one) and the
replay compares every transaction's status and logs with the archive as it goes (``contracts.replay_check``, the
same checks as ``gridledger verify``'s): an archive that does not re-execute is refused, never read. Amounts are
Wh (integers, as the contract keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from contracts.archive import read_archive
from contracts.batch import MAX_BATCH
from contracts.replay_check import Differs, check_bytecode, replay

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
    try:
        chain, _ = replay(header, tables, REPLAY_EVM, check_bytecode(archive, header, tables["txs"]))
    except Differs as exc:
        raise ChainUnreadable(f"{archive}: {exc}: run gridledger verify") from None
    deployed = next(c for c in header["contracts"] if c["name"] == CONTRACT)
    return ChainView(chain, chain.contract_at(deployed["address"]), int(header["chain_id"]))
