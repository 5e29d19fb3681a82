"""Every file a scenario reads — the scenario file, the HIL device table it names (``hil.devices_file``), a sweep
file and the scenarios it names, a pandapower JSON network (``feeder.network``) — in every bad form: UTF-16,
Latin-1, a UTF-8 BOM, binary garbage, empty, a folder, no permission, a symlink loop, a dangling symlink, a FIFO,
a huge file. Each one gives a ScenarioError naming the file: never a traceback, never a hang (a 20 s alarm).

The scenario file itself in the seven forms of ``test_validate_refuses.py`` (UTF-16, Latin-1, binary, folder, no
permission, symlink loop, FIFO) is tested there, through the CLI; here the other forms and the other files.
No permission cannot be tested as root (root reads any file): those cases are skipped then.
"""

from __future__ import annotations

import functools
import os
import signal

import pytest

from sim.scenario import ScenarioError, load_scenario
from sim.schema import MAX_FILE_BYTES
from tests.conftest import ROOT

KINDS = ("utf16", "latin1", "bom", "binary", "empty", "directory", "no_permission", "symlink_loop", "dangling",
         "fifo", "huge")
COVERED = {("scenario", k) for k in ("utf16", "latin1", "binary", "directory", "no_permission", "symlink_loop",
                                     "fifo")}  # in test_validate_refuses.py
TARGETS = ("scenario", "devices_file", "sweep", "sweep_point", "network")
VPP = (ROOT / "scenarios" / "vpp.toml").read_text(encoding="utf-8")
DEVICES = (ROOT / "scenarios" / "hil_devices.toml").read_text(encoding="utf-8")
SWEEP = "[sweep]\nname = 'x'\nseeds = 1\n[[points]]\nname = 'a'\nscenario = 'vpp.toml'\n"


@functools.cache
def _network_json() -> str:
    """A good network file's text: the smallest Kerber feeder saved with ``pandapower.to_json``."""
    import pandapower as pp

    from grid_models.feeder import build_network

    return pp.to_json(build_network("kerber_landnetz_kabel_1"))


def make_bad(path, kind: str, good: str) -> None:
    """``path`` as a file of ``kind`` (``good``: what a good one holds)."""
    if kind == "utf16":
        path.write_bytes(good.encode("utf-16"))
    elif kind == "latin1":
        path.write_bytes(("# café\n" + good).encode("latin-1", "replace"))
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + good.encode())
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 16)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "no_permission":
        path.write_text(good)
        path.chmod(0)
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "dangling":
        os.symlink(path.parent / "gone", path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":  # sparse: larger than any scenario, nothing on the disk
        with open(path, "wb") as f:
            f.truncate(MAX_FILE_BYTES + 1)


def _read(target: str, tmp_path, kind: str):
    """Build ``target`` with its bad file; return (the bad file, a function that reads it the way gridledger does)."""
    if target == "scenario":
        bad = tmp_path / "bad.toml"
        make_bad(bad, kind, VPP)
        return bad, lambda: load_scenario(bad)
    if target == "devices_file":
        bad = tmp_path / "bad_devices.toml"
        make_bad(bad, kind, DEVICES)
        text = (ROOT / "scenarios" / "hil_demo.toml").read_text().replace('"hil_devices.toml"', '"bad_devices.toml"')
        (tmp_path / "s.toml").write_text(text)
        return bad, lambda: load_scenario(tmp_path / "s.toml")
    if target in ("sweep", "sweep_point"):
        from sim.sweeps.sweep import load_sweep, plan

        if target == "sweep":
            bad = tmp_path / "bad_sweep.toml"
            make_bad(bad, kind, SWEEP)
            return bad, lambda: plan(*load_sweep(bad))
        bad = tmp_path / "vpp.toml"
        make_bad(bad, kind, VPP)
        (tmp_path / "sweep.toml").write_text(SWEEP)
        return bad, lambda: plan(*load_sweep(tmp_path / "sweep.toml"))
    bad = tmp_path / "net.json"
    make_bad(bad, kind, _network_json())
    (tmp_path / "s.toml").write_text(VPP.replace('"kerber_dorfnetz"', '"net.json"'))
    return bad, lambda: load_scenario(tmp_path / "s.toml")


class Hung(BaseException):
    """Not an OSError (which a reader may catch and report as unreadable): a hang fails the test."""


def _alarm(signum, frame):
    raise Hung("reading the file hung")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", TARGETS)
def test_a_bad_file_anywhere_is_refused_naming_it(tmp_path, target, kind):
    if (target, kind) in COVERED:
        pytest.skip("in test_validate_refuses.py")
    bad, read = _read(target, tmp_path, kind)
    if kind == "no_permission" and os.access(bad, os.R_OK):
        pytest.skip("running as a user who reads any file (root)")
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        with pytest.raises(ScenarioError) as err:
            read()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    text = str(err.value)
    assert bad.name in text, text
    assert len(text) < 4000, text
