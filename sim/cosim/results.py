"""The results folder of a run driven by mosaik: the same files as ``gridledger run`` writes (``sim.runner``),
with a ``mosaik`` block in the manifest naming what drove it and what fed it."""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
from typing import Any

from sim import runner
from sim.results.folder import MANIFEST, prepare_folder, write_json
from sim.runner import base_manifest, run_id_for, write_results
from sim.scenario import Scenario
from sim.twin import Twin

RUN_ID_SUFFIX = "-mosaik"  # fed from outside: never the same run as the scenario's own


def mosaik_manifest(scenario: Scenario, scenario_file: str | None, fed_by: dict[str, Any]) -> dict[str, Any]:
    """The run's manifest: ``gridledger run``'s, its run id marked ``-mosaik``, and a ``mosaik`` block with the
    package versions and ``fed_by`` (what the world says fed the meters: simulator, file, sha256 …)."""
    manifest = base_manifest(scenario, scenario_file, run_id_for(scenario) + RUN_ID_SUFFIX)
    manifest["mosaik"] = {"packages": {p: md.version(p) for p in ("mosaik", "mosaik-api-v3", "mosaik-csv")},
                          "fed_by": fed_by}
    return manifest


def open_folder(out: str | Path, manifest: dict[str, Any], force: bool) -> Path:
    """The results folder, marked incomplete until ``write_folder``."""
    return prepare_folder(Path(out), force=force, manifest=manifest)


def collect(twin: Twin, manifest: dict[str, Any]):
    """The run's ``sim.runner.RunResult`` (timeseries, ledger, readings, summary) once the clock is over."""
    return runner.collect(twin, twin.scenario, manifest)


def write_folder(folder: Path, result) -> None:
    """Every file of the results folder, the manifest marked complete last."""
    write_results(folder, result)


def mark_incomplete(folder: Path, manifest: dict[str, Any], reason: str) -> None:
    """A run mosaik did not take to the scenario's end: the folder stays incomplete, saying why."""
    write_json(folder / MANIFEST, {**manifest, "status": "incomplete", "error": reason})
