"""The chain archive of a results folder: every block, transaction and receipt, contracts, sources, covered
by the manifest's hashes."""

from __future__ import annotations

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
