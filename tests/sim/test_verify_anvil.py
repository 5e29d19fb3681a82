"""``gridledger verify --evm anvil``: the one-day VPP demo re-executed on Foundry's anvil, a third EVM out of
process, with gas compared transaction by transaction (py-evm and anvil charge alike). Skipped where anvil is not
installed (``contracts.anvil.INSTALL_COMMAND``), failed instead under GRIDLEDGER_REQUIRE_ANVIL=1 (.ci/run)."""

from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq
import pytest

from contracts import anvil
from sim.cli import main
from sim.verify import verify
from tests.conftest import ROOT
from tests.sim.test_verify import _edit_parquet, _flip

REQUIRED = os.environ.get("GRIDLEDGER_REQUIRE_ANVIL") == "1"


@pytest.fixture(scope="module")
def anvil_binary():
    binary = anvil.find_anvil()
    if binary is None:
        if REQUIRED:
            pytest.fail(f"anvil is required here (GRIDLEDGER_REQUIRE_ANVIL=1): {anvil.AnvilMissing()}")
        pytest.skip(f"anvil is not installed ({anvil.INSTALL_COMMAND})")
    return binary


@pytest.fixture(scope="module")
def vpp_demo_day(tmp_path_factory):
    from sim.runner import run_scenario
    from sim.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios" / "vpp.toml").with_overrides({"run.duration_s": 86_400})
    return run_scenario(scenario, out=tmp_path_factory.mktemp("runs") / "vpp-day")


@pytest.fixture
def started(monkeypatch):
    """Every anvil process started meanwhile."""
    procs, init = [], anvil.AnvilNode.__init__

    def record(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        finally:
            procs.append(self.proc)

    monkeypatch.setattr(anvil.AnvilNode, "__init__", record)
    return procs


@pytest.mark.slow
def test_vpp_demo_verifies_on_anvil(anvil_binary, vpp_demo_day, started, capsys):
    verdict = verify(vpp_demo_day.folder, evm="anvil")
    try:
        assert verdict.ok, verdict.message
        assert verdict.checked["gas_strict"] and verdict.checked["gas_differs"] == 0
        assert verdict.checked["signatures"] > 0
        me = vpp_demo_day.summary["chain"]["accounts"]["prosumer/pv-battery-01"]  # a member reads their payout
        assert verdict.read("EuroToken", "balanceOf", me) / 1e6 == \
            vpp_demo_day.summary["vpp"]["member_detail"]["pv-battery-01"]["token_balance_eur"]
        [proc] = started
        assert proc.poll() is None  # the replayed chain stays readable until the verdict is closed
    finally:
        verdict.close()
    assert started[0].poll() is not None
    assert main(["verify", str(vpp_demo_day.folder), "--evm", "anvil"]) == 0
    assert "re-executes identically on anvil" in capsys.readouterr().out
    assert all(p.poll() is not None for p in started)


@pytest.mark.slow
def test_a_changed_log_is_named_on_anvil_and_anvil_stops(anvil_binary, vpp_demo_day, started, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(vpp_demo_day.folder, copy)
    _edit_parquet(copy / "chain" / "logs-00000.parquet", "data", 5, _flip)
    tx = pq.read_table(copy / "chain" / "logs-00000.parquet").column("tx")[5].as_py()
    verdict = verify(copy, evm="anvil")
    assert not verdict.ok and f"tx {tx} " in verdict.message
    assert started and all(p.poll() is not None for p in started)


@pytest.mark.slow
def test_a_changed_gas_figure_is_named_on_anvil(anvil_binary, vpp_demo_day, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(vpp_demo_day.folder, copy)
    _edit_parquet(copy / "chain" / "txs-00000.parquet", "gas_used", 40, lambda g: g + 1)
    verdict = verify(copy, evm="anvil")
    assert not verdict.ok and "tx 40 " in verdict.message and "gas" in verdict.message
    on_revm = verify(copy, evm="revm")  # revm charges differently: gas only counted, the file's hash catches it
    assert not on_revm.ok and on_revm.message.startswith("file chain/txs-00000.parquet")
