"""An ordinary install works: the wheel carries every module, subpackage and data file of the source tree, and the
``gridledger`` it installs into a fresh venv (dependencies from the package registry) runs a scenario from another
folder, importing the installed package, not this checkout."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, SMALL

ROOTS = ("sim", "agents", "grid_models", "contracts")  # the packages pyproject.toml's packages.find includes
COPIED = (*ROOTS, "tests", "benchmarks", "pyproject.toml", "README.md")  # what the build sees (tests, benchmarks
# too: the wheel must leave them out)
SKIP_PARTS = {"__pycache__"}


def _run(cmd, *, cwd, env=None, timeout):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


def _source_files() -> tuple[set[str], set[str]]:
    """Paths (relative, posix) of the .py files and of the other files under the packages' folders."""
    py, data = set(), set()
    for root in ROOTS:
        for p in (ROOT / root).rglob("*"):
            rel = p.relative_to(ROOT)
            if not p.is_file() or SKIP_PARTS & set(rel.parts) or p.suffix == ".pyc" or ".tmp" in p.name:
                continue
            (py if p.suffix == ".py" else data).add(rel.as_posix())
    return py, data


def _env() -> dict[str, str]:
    """The environment without anything that would put this checkout on the installed interpreter's path."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _registry_reachable(tmp: Path) -> tuple[bool, str]:
    """Whether pip reaches its package registry (the build needs setuptools>=77 from it, the venv every dependency)."""
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", str(tmp),
                           "setuptools>=77"], capture_output=True, text=True, timeout=300)
    return proc.returncode == 0, proc.stderr.strip()[-500:]


def _small_vpp_toml() -> str:
    """scenarios/vpp.toml shrunk as tests/conftest.py's SMALL does (one day, 6 prosumers on a small feeder)."""
    text = (ROOT / "scenarios" / "vpp.toml").read_text()
    edits = {  # exact lines of vpp.toml -> the SMALL override; an edit that finds nothing fails below
        "duration_s = 604800": f"duration_s = {SMALL['run.duration_s']}",
        'network = "kerber_dorfnetz"': f'network = "{SMALL["feeder.network"]}"',
        "count = 16": f"count = {SMALL['population.0.count']}",
        "count = 8": f"count = {SMALL['population.1.count']}",
    }
    for old, new in edits.items():
        assert text.count(old) == 1, f"scenarios/vpp.toml changed: {old!r} not found once; update this test"
        text = text.replace(old, new)
    return text


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    ok, why = _registry_reachable(tmp_path / "probe")
    if not ok:
        pytest.skip(f"no access to the package registry (pip download setuptools failed): {why}")

    # Build from a copy, so the checkout gets no build/ folder and the build sees only tracked-like files.
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.tmp*")
    for name in COPIED:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=ignore)
        else:
            shutil.copy2(p, src / name)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, src], cwd=tmp_path, timeout=600)
    (wheel,) = dist.glob("gridledger-*.whl")

    names = set(zipfile.ZipFile(wheel).namelist())
    py, data = _source_files()
    packages = {str(Path(f).parent).replace("/", ".") for f in py if f.endswith("/__init__.py")}
    wheel_packages = {str(Path(f).parent).replace("/", ".") for f in names if f.endswith("/__init__.py")}
    assert packages - wheel_packages == set(), "subpackages missing from the wheel"
    assert py - names == set(), "modules missing from the wheel (a folder without __init__.py?)"
    assert {f for f in data if f.startswith("contracts/") and f.endswith(".vy")}, "no contracts/*.vy found"
    assert data - names == set(), "data files missing from the wheel: add them to [tool.setuptools.package-data]"
    assert not {f for f in names if f.split("/")[0] in ("tests", "benchmarks")}, "tests or benchmarks in the wheel"

    # A fresh venv; the wheel and its dependencies installed the ordinary way (no -e).
    venv = tmp_path / "venv"
    env = _env()
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, env=env, timeout=300)
    _run([venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", wheel],
         cwd=tmp_path, env=env, timeout=900)

    # From another folder: the installed package is the one imported, and it runs a scenario end to end.
    work = tmp_path / "elsewhere"
    work.mkdir()
    env["GRIDLEDGER_CACHE"] = str(tmp_path / "cache")  # contracts compiled from the installed .vy sources
    where = _run([venv / "bin" / "python", "-c", "import json, sim, agents, grid_models, contracts, sim.capabilities; "
                  "print(json.dumps([m.__file__ for m in (sim, agents, grid_models, contracts, sim.capabilities)]))"],
                 cwd=work, env=env, timeout=120)
    site = venv.resolve()
    for f in json.loads(where.stdout):
        assert Path(f).resolve().is_relative_to(site) and "site-packages" in Path(f).parts, f"{f} not from the venv"
        assert not Path(f).resolve().is_relative_to(ROOT.resolve()), f"{f} imported from the checkout"

    scenario = work / "vpp_small.toml"
    scenario.write_text(_small_vpp_toml())
    out = tmp_path / "out"
    _run([venv / "bin" / "gridledger", "run", scenario, "--out", out], cwd=work, env=env, timeout=600)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    locked = json.loads((ROOT / "contracts" / "bytecode.lock.json").read_text())["bytecode_sha256"]
    for name, c in manifest["contracts"].items():  # compiled in the venv from the wheel's sources, as locked
        assert c["bytecode_sha256"] == locked[name], name
