"""Toolchain: exact pins of the chain stack, an explicit EVM version the chain's fork runs, and bytecode that
matches the lock (so a changed compiler or pin fails CI until the lock is deliberately updated)."""

from __future__ import annotations

import json
import re
import tomllib

from packaging.version import Version

from contracts import lock
from tests.conftest import ROOT


def test_chain_stack_is_pinned_exactly():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {re.split(r"[\[=<>~ ]", d)[0]: d for d in deps}
    for name in ("vyper", "eth-tester", "py-evm", "pyrevm", "web3"):
        assert re.search(r"==\d", pins[name]), f"{name} must be pinned exactly, got {pins[name]!r}"
    vyper_pin = Version(pins["vyper"].split("==")[1])
    assert vyper_pin >= Version("0.4.2")  # earlier 0.4 releases carry published advisories


def test_every_contract_pins_compiler_and_evm_version():
    for src in (ROOT / "contracts").glob("*.vy"):
        text = src.read_text()
        assert "# pragma version 0.4.3" in text, src.name
        assert "# pragma evm-version prague" in text, src.name


def test_evm_version_is_the_fork_eth_tester_runs():
    from eth.vm.forks import PragueVM
    from eth_tester import PyEVMBackend

    backend = PyEVMBackend()
    assert isinstance(backend.chain.get_vm(), PragueVM)
    assert lock.current()["evm_version"] == "prague"


def test_bytecode_matches_the_lock():
    locked = json.loads(lock.LOCK.read_text())
    now = lock.current()
    assert set(locked["bytecode_sha256"]) == set(now["bytecode_sha256"]), "a contract is missing from the lock"
    assert locked == now, "toolchain or sources changed: run `python -m contracts.lock --update` if intended"
