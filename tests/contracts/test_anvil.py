"""anvil as a third EVM: where its binary is looked for, what is said when it is missing, and the version that
.ci/run installs is the one pinned in ``contracts.anvil``. The replay itself: tests/sim/test_verify_anvil.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from contracts import anvil

ROOT = Path(__file__).resolve().parents[2]


def test_ci_installs_the_pinned_anvil():
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"npm install --prefix {anvil.ANVIL_DIR} --ignore-scripts" in ci
    assert f" {anvil.ANVIL_PACKAGE}@{anvil.ANVIL_VERSION}\n" in ci
    assert re.search(r"^export GRIDLEDGER_REQUIRE_ANVIL=1$", ci, re.M)


def test_the_platform_binary_is_found_in_the_project_folder(tmp_path, monkeypatch):
    binary = tmp_path / ".anvil" / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
    binary.parent.mkdir(parents=True)
    binary.write_text("")
    (tmp_path / ".anvil" / "node_modules" / ".bin").mkdir()  # npm's node wrapper is not used
    monkeypatch.setattr(anvil, "PROJECT_ROOT", tmp_path)
    assert anvil.find_anvil() == binary


def test_missing_anvil_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(anvil, "PROJECT_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GRIDLEDGER_ANVIL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert anvil.find_anvil() is None
    with pytest.raises(anvil.AnvilMissing, match=re.escape(anvil.INSTALL_COMMAND)):
        anvil.AnvilNode([])


def test_verify_on_missing_anvil_fails_with_the_install_command(small_run, monkeypatch, capsys):
    from sim.cli import main

    monkeypatch.setattr(anvil, "find_anvil", lambda: None)
    assert main(["verify", str(small_run.folder), "--evm", "anvil"]) == 1
    assert anvil.INSTALL_COMMAND in capsys.readouterr().err


def test_an_anvil_that_exits_is_reported_with_its_output():
    if anvil.find_anvil() is None:
        pytest.skip(f"anvil is not installed ({anvil.INSTALL_COMMAND})")
    with pytest.raises(RuntimeError, match="no-such-flag"):
        anvil.AnvilNode(["--no-such-flag"], ready_timeout_s=10)
