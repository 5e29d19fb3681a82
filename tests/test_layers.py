"""Structure of the code: the import contracts of ``[tool.importlinter]`` in pyproject.toml (dependency direction
sim -> agents -> grid_models, sim and agents -> contracts; physics without Mesa; capabilities independent; no
cycles), source files of at most 400 lines (a contract source may say in its header why it is longer), and
``ruff check`` clean."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
CONTRACT_IDS = [c["id"] for c in PYPROJECT["tool"]["importlinter"]["contracts"]]
MAX_LINES = 400
SOURCE_DIRS = ("sim", "agents", "grid_models", "contracts", "benchmarks", "tests")
LONG_CONTRACT_REASON = "Over 400 lines:"  # a contract source over the limit says why in its header


@pytest.mark.parametrize("contract_id", CONTRACT_IDS)
def test_import_contract(contract_id):
    lint_imports = Path(sys.executable).parent / "lint-imports"  # import-linter, a dev dependency, in this venv
    proc = subprocess.run([str(lint_imports), "--no-cache", "--no-logo", "--contract", contract_id],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_no_source_file_over_400_lines():
    lengths = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
               for d in SOURCE_DIRS for p in sorted((ROOT / d).rglob("*.py")) if "__pycache__" not in p.parts}
    assert len(lengths) > 100  # the walk found the tree
    over = {p: n for p, n in lengths.items() if n > MAX_LINES}
    assert not over, f"source files over {MAX_LINES} lines: {over}"


def test_long_contract_sources_say_why():
    """A contract source may pass 400 lines (one contract's whole state machine), saying why in its header."""
    for path in sorted((ROOT / "contracts").glob("*.vy")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES:
            header = "\n".join(lines[:25])
            assert LONG_CONTRACT_REASON in header, f"{path.name}: {len(lines)} lines and no reason in its header"


def test_ruff_clean():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
