"""Issue 24, the terminal: each failure the command line can meet ends in one clear line and its documented exit
code, never a traceback — a busy port (6), Ctrl-C (130), a closed pipe (141), a HIL device that never answered
(strict: 5; lenient: 0 and a plain warning), a load the feeder cannot carry (7), ``validate`` naming the kind of file it checked (2 when invalid) —
plus ``--version`` and the progress line. Servers listen on 127.0.0.1 only; every wait is bounded."""

from __future__ import annotations

import importlib.metadata as md
import io
import json
import os
import socket
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from sim.progress import Progress
from sim.registry import REGISTRY
from tests.conftest import ROOT
from tests.reliability.test_crash_safety import small_toml

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
METER = """
[[devices]]
name = "silent-meter"
kind = "meter"
port = {port}
entity = "meter/pv-battery-01"
poll_s = 60.0
timeout_s = 0.05
backoff_max_s = 120.0
registers = [{{ point = "energy", address = 0, type = "uint32", unit = "Wh" }}]
"""


def cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, env=ENV, capture_output=True,
                          text=True, timeout=300, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# busy port ---------------------------------------------------------------------------------------------------
def test_simulate_on_a_port_in_use_says_so_with_exit_6(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        table = tmp_path / "devices.toml"
        table.write_text(METER.format(port=port))
        proc = cli("devices", "simulate", str(table), "--duration-s", "1")
    assert proc.returncode == 6, proc.stderr
    assert f"port {port} on 127.0.0.1 is already in use (devices silent-meter)" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


# Ctrl-C --------------------------------------------------------------------------------------------------------
def test_ctrl_c_during_a_run_marks_the_folder_incomplete_with_exit_130(tmp_path, monkeypatch, capsys):
    from sim import twin

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(twin.Twin, "run", interrupted)
    out = tmp_path / "run"
    assert main(["run", str(small_toml(tmp_path)), "--out", str(out)]) == 130
    err = capsys.readouterr().err
    assert err.strip() == "interrupted; results folder marked incomplete (if one was being written)"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and "KeyboardInterrupt" in manifest["error"]


def test_a_load_the_feeder_cannot_carry_trips_it_and_the_run_completes(tmp_path, capsys):
    """A household of 4e6 kWh a year validates (the meters' range) but no power flow carries it on the smallest
    feeder at 70 of the day's 96 steps: the feeder's protection trips at those steps (de-energised, every meter reading 0), the run goes to
    the end, exit 0, and the summary counts the tripped steps."""
    out = tmp_path / "run"
    sets = ["feeder.network=kerber_landnetz_kabel_1", "population.0.count=2", "population.1.count=2",
            "population.0.annual_load_kwh=4e6", "run.duration_s=86400"]
    assert main(["run", str(ROOT / "scenarios" / "vpp.toml"), *(x for s in sets for x in ("--set", s)),
                 "--out", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    summary = json.loads((out / "summary.json").read_text())
    physics = summary["physics"]
    assert 0 < physics["feeder_tripped_steps"] < physics["steps"]  # the night's low load is carried
    ts = pd.read_parquet(out / "timeseries.parquet")
    tripped = ts[(ts.entity == "feeder") & (ts.quantity == "vm_max_pu") & (ts.value == 0)].time
    assert len(tripped) == physics["feeder_tripped_steps"]
    export = ts[(ts.quantity == "export_kw") & ts.time.isin(tripped)]
    assert len(export) and not export.value.any()  # de-energised: no meter sees a flow
    assert summary["vpp"]["periods_settled"] == summary["vpp"]["periods"]


# broken pipe ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, code", [(["schema"], 141), (["validate", "scenarios/vpp.toml"], 141),
                                        (["--help"], 0)])  # argparse itself drops a failed write of its help
def test_a_reader_that_went_away_ends_quietly_with_141_not_1(args, code):
    read, write = os.pipe()
    os.close(read)  # as `| head -1` once it has its line: every write now fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=ROOT, env=ENV, stdout=write,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr == ""


@pytest.mark.slow
def test_trace_piped_into_head_exits_quietly(certs_run):
    from contracts.certificates import split_id
    from sim.results.summary import event_args

    retired = event_args(certs_run.ledger, "Certificates", "Retired")
    id_ = next(i for i in retired.id if split_id(i)[0] <= 3)
    script = (f"{sys.executable} -m sim.cli trace {certs_run.folder} {id_} | head -1; "
              "echo \"exit ${PIPESTATUS[0]}\" >&2")
    proc = subprocess.run(["bash", "-c", script], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert proc.stdout.count("\n") == 1
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] in ("exit 0", "exit 141"), proc.stderr


# a HIL device that never answered ------------------------------------------------------------------------------
def hil_toml(tmp_path, require: bool | None) -> str:
    """The HIL demo for two settlement periods at 600x, its meter on a port where nothing listens."""
    text = (ROOT / "scenarios" / "hil_demo.toml").read_text()
    text = text.replace("duration_s = 3600", "duration_s = 1800").replace("factor = 60.0", "factor = 600.0")
    hil = "" if require is None else f"require_devices = {str(require).lower()}\n"
    text = text.replace('devices_file = "hil_devices.toml"\n', hil) + METER.format(port=free_port())
    path = tmp_path / "silent.toml"
    path.write_text(text)
    return str(path)


def test_a_silent_device_fails_a_strict_run_naming_it_with_exit_5(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", hil_toml(tmp_path, None), "--out", str(out)]) == 5  # require_devices: true by default
    err = capsys.readouterr().err
    assert err.startswith("error: device(s) never answered: silent-meter at 127.0.0.1:") and err.count("\n") == 1
    assert "results folder is marked incomplete" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"


def test_a_silent_device_in_a_lenient_run_is_said_plainly(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", hil_toml(tmp_path, False), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "hil: WARNING 2/2 periods of silent-meter estimated because the device was silent" in lines
    hil = json.loads((out / "summary.json").read_text())["hil"]
    assert hil["silent_devices"] == ["silent-meter"] and hil["periods_estimated_device_silent"] == {"silent-meter": 2}
    assert any(line.startswith("hil_demo: 2/2 periods settled") for line in lines)  # the vpp line


# validate: each kind of file -----------------------------------------------------------------------------------
@pytest.mark.parametrize("file, kind", [("scenarios/hil_demo.toml", "scenario"),
                                        ("scenarios/hil_devices.toml", "device table"),
                                        ("scenarios/tariffs/sweep.toml", "sweep file")])
def test_validate_recognises_each_kind(file, kind, capsys):
    assert main(["validate", str(ROOT / file)]) == 0
    assert f"{file}: valid {kind} — " in capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    ('[[devices]]\nname = "m"\nkind = "meter"\n', "invalid device table (3 problems)"),
    ('[sweep]\nname = "s"\nseeds = 0\n[[points]]\nname = "a"\nscenario = "x.toml"\n', "invalid sweep file (1 problem)"),
    ('[sweep]\nname = "s"\n[[points]]\nname = "a"\nscenario = "missing.toml"\n',
     "invalid sweep file: a point's scenario does not validate"),
    ('[run]\nname = "r"\n', "invalid scenario"),
])
def test_validate_names_the_kind_of_an_invalid_file(tmp_path, text, message, capsys):
    path = tmp_path / "f.toml"
    path.write_text(text)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"error: {path}: {message}" in err and "Traceback" not in err


# version, closing lines, progress ------------------------------------------------------------------------------
def test_version_is_the_installed_package_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout == f"gridledger {md.version('gridledger')}\n"


def test_every_capability_has_a_closing_line():
    assert all(info.run_line for info in REGISTRY), [info.name for info in REGISTRY if not info.run_line]


def test_progress_names_each_phase_estimates_and_leaves_a_summary():
    stream = io.StringIO()
    bar = Progress("demo", 10, stream=stream)
    for phase in ("building feeder", "weather", "deploying contracts", "clock"):
        bar.phase(phase)
    for _ in range(5):
        bar.update(1)
    assert "steps/s" in bar.line() and "left" in bar.line() and "5/10 steps" in bar.line()
    bar.phase("results")
    bar.finish()
    text = stream.getvalue()
    for phase in ("building feeder", "weather", "deploying contracts", "clock", "results"):
        assert f"demo · {phase}" in text
    assert text.endswith("\n") and text.rsplit("\r", 1)[-1].startswith("demo: done in ")
