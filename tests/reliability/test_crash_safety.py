"""A run killed with SIGKILL at a random point leaves a folder marked incomplete; a rerun onto it produces
results identical to an undisturbed run."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def small_toml(tmp_path):
    """scenarios/vpp.toml shrunk exactly as tests/conftest.py's SMALL overrides (one day, small feeder)."""
    text = (ROOT / "scenarios" / "vpp.toml").read_text()
    text = text.replace("duration_s = 604800", "duration_s = 86400")
    text = text.replace('network = "kerber_dorfnetz"', 'network = "kerber_landnetz_kabel_2"')
    text = text.replace("count = 16", "count = 4").replace("count = 8", "count = 2")
    path = tmp_path / "small.toml"
    path.write_text(text)
    return path


def test_sigkill_leaves_incomplete_and_rerun_matches_undisturbed(tmp_path, small_run):
    scenario = small_toml(tmp_path)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "sim.cli", "run", str(scenario), "--out", str(out)]
    # somewhere inside the run: a random fraction of the undisturbed run's wall time after its folder appears,
    # halved and tried again (at most 4 times) when the run was quicker than that and completed
    wall_s = small_run.manifest["timings"]["wall_s"]
    fraction = random.Random(os.getpid()).uniform(0.1, 0.8)
    for attempt in range(4):
        if out.exists():
            shutil.rmtree(out)
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / "manifest.json").exists():
            time.sleep(0.01)
        time.sleep(fraction * wall_s / 2**attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        # completed before the kill (it may still have been exiting): a whole folder, try again sooner
        finished = json.loads((out / "manifest.json").read_text())["status"] == "complete"
        if not finished:
            break
    assert not finished, "the run always completed before it could be killed"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete"

    rerun = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    ref = small_run.folder
    for name in ("timeseries.parquet", "ledger.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(ref / name))
    assert json.loads((out / "summary.json").read_text()) == json.loads((ref / "summary.json").read_text())
