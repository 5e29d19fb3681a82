"""What the run cannot do, ``validate`` refuses, naming the field (issue 21: inputs that validated and then crashed
the run); files that cannot be read give a ScenarioError naming the file, never a traceback or a hang."""

from __future__ import annotations

import os
import re

import pytest

from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from tests.conftest import ROOT

VPP = ROOT / "scenarios" / "vpp.toml"


@pytest.fixture(scope="module")
def base():
    return load_scenario(VPP)


@pytest.mark.parametrize("overrides, field, message", [
    ({"prices.energy_eur_per_kwh": float("inf")}, "prices.energy_eur_per_kwh", "finite number"),
    ({"population.0.pv_kwp": float("nan")}, r"population\[0\].pv_kwp", "finite number"),
    ({"prices.energy_eur_per_kwh": 1e30}, "prices.energy_eur_per_kwh", "less than or equal to 1000"),
    ({"run.seed": 2**64}, "run.seed", "less than 18446744073709551616"),
    ({"run.duration_s": 10**12}, "run.duration_s", "less than or equal"),
    ({"run.start": "1969-12-31T23:00:00"}, "run.start", "a start between 1971-01-01 and 2099-12-31"),
    ({"run.start": "9999-12-31T00:00:00"}, "run.start", "a start between"),
    ({"run.start": "2025-03-30T02:30:00"}, "<top>|run", r"does not exist \(the clocks jump over it\) in Europe/Berlin"),
    ({"run.start": "2025-10-26T02:30:00"}, "<top>|run", r"happens twice \(the clocks go back\)"),
    ({"vpp.members": []}, "vpp.members", "at least 1 item"),
    ({"vpp.members": ["home-01", "home-01"]}, "vpp", r"each prosumer once, got \['home-01'\]"),
    ({"run.name": "x" * 50_000}, "run.name", "at most 64 characters"),
])
def test_what_the_run_cannot_do_is_refused(base, overrides, field, message):
    data = base.model_dump(mode="python")
    if "vpp.members" in overrides and overrides["vpp.members"]:
        overrides = {"vpp.members": [base.prosumer_ids()[0]] * 2}
        message = message.replace("home-01", base.prosumer_ids()[0])
    with pytest.raises(ScenarioError) as err:
        base.with_overrides({k: (type(data["run"]["start"]).fromisoformat(v) if k == "run.start" else v)
                             for k, v in overrides.items()}, source="s.toml")
    text = str(err.value)
    assert re.search(rf"s.toml: ({field}): .*{message}", text, re.S), text
    assert len(text) < 2000  # a huge input is not echoed whole


def test_a_share_that_rounds_to_zero_basis_points_is_refused(base):
    ids = base.prosumer_ids()
    shares = {m: 0.004 if i == 0 else (100 - 0.004) / (len(ids) - 1) for i, m in enumerate(ids)}
    with pytest.raises(ScenarioError, match=r"vpp: shares_percent: a share below 0.01 % rounds to 0"):
        base.with_overrides({"vpp.share_rule": "explicit", "vpp.shares_percent": shares})


def _unreadable(tmp_path, kind):
    path = tmp_path / f"{kind}.toml"
    text = VPP.read_text(encoding="utf-8")
    if kind == "utf16":
        path.write_bytes(text.encode("utf-16"))
    elif kind == "latin1":
        path.write_bytes(text.replace("# ", "# café ", 1).encode("latin-1"))
    elif kind == "binary":
        path.write_bytes(os.urandom(4096))
    elif kind == "directory":
        path.mkdir()
    elif kind == "no_permission":
        path.write_text(text)
        path.chmod(0)
    elif kind == "symlink_loop":
        os.symlink(path, path)
    elif kind == "fifo":
        os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind, message", [
    ("utf16", "not UTF-8 text"), ("latin1", "not UTF-8 text"), ("binary", "not UTF-8 text|not valid TOML"),
    ("directory", "not a regular file"), ("no_permission", "cannot be read|Permission"),
    ("symlink_loop", "cannot be read|no such|not a regular file"), ("fifo", "not a regular file"),
])
def test_a_file_that_cannot_be_read_is_refused_naming_it(tmp_path, kind, message, capsys):
    path = _unreadable(tmp_path, kind)
    if kind == "no_permission" and os.access(path, os.R_OK):
        pytest.skip("running as a user who reads any file (root)")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and re.search(message, err), err


@pytest.mark.parametrize("workers", ["0", "-1", "two"])
def test_sweep_needs_at_least_one_worker(workers, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sweep", str(ROOT / "scenarios" / "tariffs" / "sweep.toml"), "--workers", workers])
    assert exit_.value.code == 2 and "--workers" in capsys.readouterr().err
