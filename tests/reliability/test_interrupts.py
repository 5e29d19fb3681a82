"""SIGTERM and Ctrl-C end a run without a traceback, leave its folder marked incomplete with the reason, and remove
the spill folder; a full disk is reported as such and recorded in the manifest (issue 21)."""

from __future__ import annotations

import errno
import json
import signal
import subprocess
import sys
import time

import pytest

from sim.cli import main
from sim.results.spill import SPILL_FOLDER
from tests.conftest import ROOT
from tests.reliability.test_crash_safety import small_toml


@pytest.mark.slow
@pytest.mark.parametrize("sig, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_leaves_an_incomplete_folder_without_traceback(tmp_path, sig, code, word):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "run", str(small_toml(tmp_path)), "--out", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and not (out / SPILL_FOLDER).exists():  # the twin is running
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    if json.loads((out / "manifest.json").read_text())["status"] == "complete":
        pytest.skip("the run completed before the signal")
    assert proc.returncode == code, err
    assert "Traceback" not in err and word in err, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["error"]
    assert not (out / SPILL_FOLDER).exists()


def test_a_full_disk_is_reported_and_recorded(tmp_path, monkeypatch, capsys):
    from sim import runner

    def full(folder, result):
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "timeseries.parquet"))

    monkeypatch.setattr(runner, "write_results", full)
    out = tmp_path / "run"
    toml = small_toml(tmp_path).read_text().replace("duration_s = 86400", "duration_s = 3600")
    (tmp_path / "hour.toml").write_text(toml)
    assert main(["run", str(tmp_path / "hour.toml"), "--out", str(out)]) == 4
    assert "no space left" in capsys.readouterr().err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and "No space left" in manifest["error"]
