"""The chain archive of a results folder: every block, transaction and receipt, contracts, sources, covered
by the manifest's hashes."""

from __future__ import annotations

import pytest

from contracts.archive import read_archive
from sim.results.folder import file_sha256


def test_archive_holds_every_transaction_and_event(small_run):
    folder = small_run.folder
    header, tables = read_archive(folder / "chain")
    chain = small_run.summary["chain"]
    assert header["backend"] == "py-evm" and header["chain_id"] == chain["chain_id"]
    assert len(tables["logs"]) == chain["events"]
    assert tables["blocks"].column("number").to_pylist() == list(range(1, chain["blocks"] + 1))
    funding = sum(1 for d in tables["txs"].column("data").to_pylist() if not d)
    assert len(tables["txs"]) == chain["transactions"] + funding
    assert all(raw is not None for raw in tables["txs"].column("raw").to_pylist())  # py-evm: signed raw txs
    assert {c["name"] for c in header["contracts"]} == set(chain["contracts"])
    assert (folder / "chain" / "sources" / "VppSettlement.vy").exists()
    assert small_run.manifest["sha256"]["chain/header.json"] == file_sha256(folder / "chain" / "header.json")


def test_readings_keep_their_signatures(small_run):
    accepted = small_run.readings[small_run.readings.status == "accepted"]
    assert len(accepted) and accepted[["signer", "sig_v", "sig_r", "sig_s", "sig_contract"]].notna().all().all()


def _chain_files(folder) -> dict[str, bytes]:
    chain = folder / "chain"
    return {str(p.relative_to(chain)): p.read_bytes() for p in sorted(chain.rglob("*")) if p.is_file()}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["py-evm", "revm"])
def test_the_same_scenario_and_seed_archive_byte_identically(small_run, small_scenario, backend, tmp_path):
    """Every byte of chain/ (Parquet parts, header.json, sources) is the same in two runs of one scenario and
    seed on one backend: no wall-clock time in it, and py-evm's PREVRANDAO (eth-tester's os.urandom) comes from
    the seed (``contracts.pyevm_chain.Chain._mine_blocks``), so even the block hashes agree."""
    from sim.runner import run_scenario

    scenario = small_scenario.with_overrides({"chain.backend": backend})
    first = small_run.folder if backend == "py-evm" else run_scenario(scenario, out=tmp_path / "a").folder
    second = run_scenario(scenario, out=tmp_path / "b").folder
    a, b = _chain_files(first), _chain_files(second)
    assert a.keys() == b.keys() and any(k.startswith("blocks-") for k in a)
    assert [k for k in a if a[k] != b[k]] == []
