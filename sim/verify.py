"""``gridledger verify RESULTS``: re-execute a run's settlement from its chain archive alone, on an EVM other
than the one that ran it, and compare (``docs/chain_archive.md``).

Checks, in order; the first difference is named and the verdict is "differs":
1. the Vyper sources in ``chain/sources`` recompile (same compiler version) to the archived bytecode, and every
   deployment's calldata is that bytecode followed by its constructor arguments;
2. every block's digest (number, timestamp, base fee, transaction hashes) chains as recorded;
3. every transaction is what its hash says: py-evm's signed raw transaction decodes to the archived sender,
   nonce, recipient, value, gas and calldata; revm's hash is keccak(chain id, sender, nonce, calldata);
4. every transaction re-executed in its block: status, created address, every log; gas used too where both
   EVMs charge it alike (``GAS_STRICT``: a py-evm run on anvil), otherwise only counted (``gas_differs``);
5. the contracts' totals that ``summary.json`` reports (``chain.state``) read again on the replayed chain;
6. every posted reading's signature (``readings.parquet``) recovers to its meter, registered on the replayed
   chain (``sim.verify_readings``);
7. every file's sha256 against the manifest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import eth_abi
import pyarrow as pa
from eth_utils import keccak, to_checksum_address

from contracts.anvil import AnvilMissing
from contracts.archive import block_digest, read_archive
from contracts.replay_check import GAS_STRICT, Differs, check_bytecode, replay
from contracts.state import contract_state
from sim.results.folder import MANIFEST, file_sha256, read_manifest
from sim.runner import CHAIN_FOLDER
from sim.verify_readings import check_readings


@dataclass
class Verdict:
    ok: bool
    message: str
    evm: str = ""
    checked: dict = field(default_factory=dict)
    chain: object = field(default=None, repr=False)  # the replayed chain (a ``BaseChain``), once it agreed; on
    # anvil the node runs until ``close()`` (or until the chain is garbage-collected, or Python exits)

    def read(self, contract: str, fn: str, *args):
        """A view of a contract by name on the replayed chain, e.g. ``read("EuroToken", "balanceOf", me)``."""
        c = next(c for c in self.chain.contracts() if c.name == contract)
        return self.chain.call(c, fn, *args)

    def close(self) -> None:
        """Let go of the replayed chain (stops anvil; nothing to do for the in-process EVMs)."""
        if self.chain is not None:
            self.chain.close()


def check_blocks(blocks: pa.Table, txs: pa.Table) -> None:
    hashes: dict[int, list[str]] = {}
    for b, h in zip(txs.column("block").to_pylist(), txs.column("hash").to_pylist()):
        hashes.setdefault(b, []).append(h)
    digest, last_time = bytes(32), None
    for number, ts, fee, recorded in zip(*(blocks.column(c).to_pylist()
                                           for c in ("number", "timestamp", "base_fee", "digest"))):
        digest = block_digest(digest, number, ts, fee, hashes.get(number, []))
        if digest != recorded or (last_time is not None and ts <= last_time):
            raise Differs(f"block {number} (timestamp {ts}): its number, timestamp, base fee or transactions are "
                          "not what was recorded")
        last_time = ts


def check_tx_identity(header: dict, txs: pa.Table) -> None:
    chain_id = int(header["chain_id"])
    if header["backend"] == "py-evm":
        from eth.vm.forks.prague.transactions import PragueTransactionBuilder

    cols = [txs.column(c).to_pylist() for c in ("tx", "sender", "to", "nonce", "value", "gas", "data", "raw", "hash")]
    for i, sender, to, nonce, value, gas, data, raw, tx_hash in zip(*cols):
        if raw is not None:
            tx = PragueTransactionBuilder.decode(raw)
            fields = (to_checksum_address(tx.sender), to_checksum_address(tx.to) if tx.to else None, tx.nonce,
                      tx.value, tx.gas, tx.data, "0x" + tx.hash.hex(), tx.chain_id)
            ok = fields == (sender, to, nonce, int(value), gas, data, tx_hash, chain_id)
        else:
            ok = tx_hash == "0x" + keccak(eth_abi.encode(["uint256", "address", "uint256", "bytes"],
                                                         [chain_id, sender, nonce, data])).hex()
        if not ok:
            raise Differs(f"tx {i} ({tx_hash}): sender, nonce, recipient, value, gas or calldata is not what its "
                          "hash and signature say")


def check_state(summary: dict, chain) -> None:
    reported = summary.get("chain", {}).get("state")
    if reported is None:
        raise Differs("summary.json reports no contract totals (chain.state)")
    holders = sorted({h for views in reported.values() for h in views.get("balanceOf", {})})
    replayed = json.loads(json.dumps(contract_state(chain, holders)))
    for name, views in reported.items():
        for view, value in views.items():
            got = replayed.get(name, {}).get(view)
            if got != value:
                if isinstance(value, dict):
                    h = next(h for h in value if value[h] != (got or {}).get(h))
                    raise Differs(f"{name}.{view}({h}): {(got or {}).get(h)} on the replayed chain, summary.json "
                                  f"reports {value[h]}")
                raise Differs(f"{name}.{view}: {got} on the replayed chain, summary.json reports {value}")


def check_hashes(folder: Path, manifest: dict) -> None:
    for name, sha in sorted(manifest.get("sha256", {}).items()):
        path = folder / name
        if not path.exists() or file_sha256(path) != sha:
            raise Differs(f"file {name}: its sha256 is not the manifest's")


def verify(folder: Path, evm: str | None = None, progress: bool = False) -> Verdict:
    """Verify the results folder ``folder`` (see the module's docstring); ``evm``: the replaying EVM (default:
    the other in-process one; ``"anvil"`` runs Foundry's node, installed beforehand: ``contracts.anvil``)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if not manifest or manifest.get("status") != "complete":
        return Verdict(False, f"{folder}: not a complete gridledger results folder")
    if not (folder / CHAIN_FOLDER / "header.json").exists():
        return Verdict(False, f"{folder}: no chain archive ({CHAIN_FOLDER}/header.json)")
    header, tables = read_archive(folder / CHAIN_FOLDER)
    evm = evm or ("revm" if header["backend"] == "py-evm" else "py-evm")
    if evm == header["backend"]:
        return Verdict(False, f"the run was made on {evm}: verify it on another EVM", evm)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tables["txs"]), unit="tx", desc=f"replaying on {evm}", leave=False)
    chain = None
    try:
        compiled = check_bytecode(folder / CHAIN_FOLDER, header, tables["txs"])
        check_blocks(tables["blocks"], tables["txs"])
        check_tx_identity(header, tables["txs"])
        chain, gas_differs = replay(header, tables, evm, compiled, bar)
        check_state(json.loads((folder / "summary.json").read_text()), chain)
        n_signatures = check_readings(folder / "readings.parquet", chain)
        check_hashes(folder, manifest)
    except AnvilMissing as exc:
        return Verdict(False, str(exc), evm)
    except Differs as exc:
        if chain is not None:
            chain.close()
        return Verdict(False, str(exc), evm)
    except BaseException:
        if chain is not None:
            chain.close()
        raise
    finally:
        if bar is not None:
            bar.close()
    checked = {"contracts": len(header["contracts"]), "blocks": len(tables["blocks"]),
               "transactions": len(tables["txs"]), "logs": len(tables["logs"]), "gas_differs": gas_differs,
               "gas_strict": (header["backend"], evm) in GAS_STRICT,
               "signatures": n_signatures, "files": len(manifest.get("sha256", {}))}
    return Verdict(True, f"{folder}: the {header['backend']} run re-executes identically on {evm}", evm, checked,
                   chain)


__all__ = ["verify", "Verdict", "Differs", "MANIFEST"]
