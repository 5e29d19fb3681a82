"""Run a scenario: build the Twin, run the clock, and return (and optionally write) the results.

``run_scenario`` is the Python entry point for notebooks; the CLI calls the same function.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from contracts.archive import ChainRecorder
from contracts.compiler import EVM_VERSION, compile_contract
from sim.errors import PhysicsFailed
from sim.files.provenance import input_files
from sim.files.weather import provenance as weather_provenance
from sim.hil.bridge import hil_summary
from sim.registry import REGISTRY, plotters
from sim.results.folder import MANIFEST, data_hashes, prepare_folder, write_json
from sim.results.report import make_plots, write_report
from sim.results.spill import SPILL_FOLDER, SpillDir
from sim.results.summary import chain_summary, physics_summary
from sim.results.tables import LedgerView, TimeseriesWriter, give_back_memory, recorder_series, write_ledger
from sim.scenario import Scenario, load_scenario, network_provenance
from sim.twin import Twin

CHAIN_FOLDER = "chain"  # the chain archive (docs/chain_archive.md)
ARCHIVED_BACKENDS = ("py-evm", "revm")  # web3 is the benchmarks' reference path: not archived
PACKAGES = ("gridledger", "vyper", "eth-tester", "py-evm", "coincurve", "pandapower", "pandapipes", "lightsim2grid",
            "pvlib", "windpowerlib", "demandlib", "richardsonpy", "mesa", "simpy", "numpy", "pandas", "pyarrow",
            "pydantic", "pymodbus")


TABLES = ("timeseries", "ledger", "readings")  # <name>.parquet: written by ``collect``, read back on demand


@dataclass
class RunResult:
    """A finished run: tidy timeseries, decoded ledger, VEE/readings log, summary and manifest.

    The three tables are files (``files``: the results folder, or a private temporary folder removed with this
    object): ``timeseries``, ``ledger`` and ``readings`` read theirs on first use (one ``pd.read_parquet``) and
    keep it; ``rows(name)`` counts a table's rows without reading it."""

    scenario: Scenario
    summary: dict[str, Any]
    manifest: dict[str, Any]
    files: Path
    folder: Path | None = None
    twin: Twin | None = field(default=None, repr=False)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # a capability's own files (``bills.parquet``)
    scratch: SpillDir | None = field(default=None, repr=False)  # owns ``files`` when there is no results folder
    _read: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def _table(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = pd.read_parquet(self.files / f"{name}.parquet")
        return self._read[name]

    @property
    def timeseries(self) -> pd.DataFrame:
        return self._table("timeseries")

    @property
    def ledger(self) -> pd.DataFrame:
        return self._table("ledger")

    @property
    def readings(self) -> pd.DataFrame:
        return self._table("readings")

    def rows(self, name: str) -> int:
        """Rows of table ``name`` (``TABLES``), from the file's metadata."""
        return pq.ParquetFile(self.files / f"{name}.parquet").metadata.num_rows


def _versions() -> dict[str, str]:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = md.version(p)
        except md.PackageNotFoundError:
            out[p] = "not installed"
    return out


def base_manifest(scenario: Scenario, scenario_file: str | None, run_id: str) -> dict[str, Any]:
    names = ["EuroToken"] + [n for info in REGISTRY if info.enabled(scenario) for n in info.contracts]
    compiled = {name: compile_contract(name) for name in names}
    return {
        "run_id": run_id,
        "scenario_file": scenario_file,
        "scenario": scenario.model_dump(mode="json"),
        "scenario_sha256": scenario.digest(),
        "seed": scenario.run.seed,
        "packages": _versions(),
        "compiler": {"vyper": md.version("vyper"), "evm_version": EVM_VERSION},
        "contracts": {n: {"source_sha256": c.source_sha256, "bytecode_sha256": c.bytecode_sha256}
                      for n, c in compiled.items()},
        **({"devices": {"devices_file": scenario.hil.devices_file,
                        "table": [d.model_dump(mode="json") for d in scenario.devices]}} if scenario.devices else {}),
        **({"network": network} if (network := network_provenance(scenario)) else {}),
        "input_files": input_files(scenario),  # every file the scenario names: role, path, sha256
        **({"weather": weather_provenance(scenario.weather, scenario.site)} if scenario.weather.file else {}),
    }


def run_id_for(scenario: Scenario) -> str:
    return f"{scenario.run.name}-seed{scenario.run.seed}-{scenario.digest()[:8]}"


NO_SOLUTION = ("PipeflowNotConverged",)  # the heat network's: no physics for a step (the feeder trips instead)


def run_scenario(
    scenario: Scenario | str | Path,
    *,
    overrides: dict[str, Any] | None = None,
    seed: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
    progress: bool = False,
    scenario_file: str | None = None,
) -> RunResult:
    """Run ``scenario`` (a file or a Scenario), with dotted-key ``overrides`` and ``seed`` applied.

    With ``out``, the results folder is written there (marked incomplete until the end); without, the three
    tables go to a private temporary folder (removed with the result) and nothing else is written.
    ``scenario_file`` names the source of a Scenario object.
    """
    if not isinstance(scenario, Scenario):
        scenario_file = str(scenario)
        scenario = load_scenario(scenario)
    if seed is not None:
        overrides = {**(overrides or {}), "run.seed": seed}
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{scenario_file or '<scenario>'} + overrides")
    manifest = base_manifest(scenario, scenario_file, run_id_for(scenario))
    if overrides:
        manifest["overrides"] = overrides  # what was changed from the file (already in "scenario")
    folder = prepare_folder(Path(out), force=force, manifest=manifest) if out is not None else None
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    wall = time.perf_counter()
    bar, twin = None, None
    try:
        if progress:
            from sim.progress import Progress

            bar = Progress(scenario.run.name, scenario.n_steps)
        t_setup = time.perf_counter()
        archive = ChainRecorder(folder / CHAIN_FOLDER) if folder is not None and \
            scenario.chain.backend in ARCHIVED_BACKENDS else None
        twin = Twin(scenario, progress=bar, spill_dir=folder / SPILL_FOLDER if folder is not None else None,
                    archive=archive)
        setup_s = time.perf_counter() - t_setup
        twin.run()
        if bar is not None:
            bar.phase("results")
        t_results = time.perf_counter()
        if archive is not None:
            archive.close({"vyper": md.version("vyper")})
        result = collect(twin, scenario, manifest, folder)
        results_s = time.perf_counter() - t_results
        if folder is not None:  # the spilled events stay readable (twin.chain.events), outside the results folder
            twin.spill.move_out()
    except BaseException as exc:
        if bar is not None:
            bar.close()
        if twin is not None:  # a failed run's spilled logs are partial: gone with it
            twin.spill.remove()
        _mark_failed(folder, manifest, exc)
        if type(exc).__name__ in NO_SOLUTION:
            at = (pd.Timestamp(scenario.run.start) + pd.Timedelta(seconds=float(twin.env.now))).isoformat() \
                if twin is not None else "set-up"
            raise PhysicsFailed(f"{exc} at {at} (local time): the loads or injections there are beyond what the "
                                "network carries; the results folder is marked incomplete") from exc
        raise
    result.manifest["timings"] = {  # wall time per phase [s]; results = tables, summary and files
        "started_utc": started,
        "wall_s": time.perf_counter() - wall,
        **{f"{k}_s": v for k, v in sorted(twin.timers.items())},
        "results_s": results_s,
        "setup_s": setup_s,  # building the Twin (inputs, feeder, contracts); overlaps physics, agents and chain
    }
    if folder is not None:
        t = time.perf_counter()
        try:
            write_results(folder, result)
            result.manifest["timings"]["results_s"] = results_s + time.perf_counter() - t
            result.manifest["timings"]["wall_s"] = time.perf_counter() - wall
            write_json(folder / MANIFEST, result.manifest)
        except BaseException as exc:  # a full disk, Ctrl-C while writing: the folder stays incomplete
            if bar is not None:
                bar.close()
            _mark_failed(folder, manifest, exc)
            raise
    if bar is not None:
        bar.finish()
    return result


def _mark_failed(folder: Path | None, manifest: dict, exc: BaseException) -> None:
    """Record in ``folder``'s manifest that the run failed, and why (best effort: on a full disk the short
    form, without the traceback, may still fit; else the manifest keeps saying incomplete)."""
    if folder is None:
        return
    failed = {**manifest, "status": "incomplete", "error": repr(exc)[:2000]}
    for record in ({**failed, "traceback": traceback.format_exc(limit=8)}, failed):
        try:
            write_json(folder / MANIFEST, record)
            return
        except OSError:
            continue


def weather_series(twin: Twin) -> dict:
    """The site's weather rows of the timeseries: {quantity: (values, unit)}."""
    w = twin.inputs.weather
    return {"ghi": (w.ghi, "W/m2"), "temp_air": (w.temp_air, "degC"), "clear_sky_index": (w.clear_sky_index, "1")}


def write_timeseries(twin: Twin, path: Path) -> int:
    """``timeseries.parquet`` (layout: ``sim.results.tables``), never whole in memory: each capability's frame is
    put on disk as soon as it is made; the rows written."""
    writer = TimeseriesWriter(twin.spill.root / "timeseries-parts")
    for cap in twin.capabilities:
        if (rows := cap.timeseries()) is not None:
            writer.add(rows)
        del rows
    if twin.hil is not None and (rows := twin.hil.timeseries(twin.inputs.t0_s)) is not None:
        writer.add(rows)
        del rows
    return writer.write(path, recorder_series(twin.recorder, twin.inputs.times, weather_series(twin)))


def collect(twin: Twin, scenario: Scenario, manifest: dict, folder: Path | None = None) -> RunResult:
    """The run's result once the clock has ended: ``timeseries.parquet``, ``ledger.parquet`` and
    ``readings.parquet`` written to ``folder`` (a private temporary folder if None), each a row group at a time
    (``sim.results.tables``); summary (every capability's, from the ledger read back) and manifest."""
    scratch = SpillDir() if folder is None else None
    files = folder if folder is not None else scratch.root
    write_timeseries(twin, files / "timeseries.parquet")
    give_back_memory()
    write_ledger(twin.chain.events, files / "ledger.parquet")
    give_back_memory()
    twin.measurement.readings().to_parquet(files / "readings.parquet", index=False)
    give_back_memory()
    ledger = LedgerView(files / "ledger.parquet")  # the summaries read only the events they ask for
    summary = {
        "run": {"run_id": manifest["run_id"], "seed": scenario.run.seed, "steps": scenario.n_steps,
                "periods": scenario.n_periods, "step_s": scenario.run.step_s,
                "settlement_s": scenario.run.settlement_s},
        **({"physics": physics_summary(twin)} if twin.feeder is not None else {}),
        "vee": twin.measurement.counts(),
        **{cap.name: cap.summary(ledger) for cap in twin.capabilities},
        "chain": chain_summary(twin),
        **({"hil": hil} if (hil := hil_summary(twin)) is not None else {}),
    }
    del ledger
    give_back_memory()
    tables = {name: df for cap in twin.capabilities for name, df in cap.tables().items()}
    return RunResult(scenario, summary, dict(manifest), files, twin=twin, tables=tables, scratch=scratch)


def write_results(folder: Path, result: RunResult) -> None:
    """Write every file (the three tables are there already when ``collect`` wrote them to ``folder``), then
    mark the manifest complete (last, atomically)."""
    if Path(result.files).resolve() != Path(folder).resolve():
        for name in TABLES:
            shutil.copyfile(result.files / f"{name}.parquet", folder / f"{name}.parquet")
    write_json(folder / "summary.json", result.summary)
    for name, table in result.tables.items():  # a capability's own tables (Capability.tables)
        table.to_parquet(folder / name, index=False)
    make_plots(folder, plotters())
    write_json(folder / MANIFEST, {**result.manifest, "status": "incomplete"})
    write_report(folder)
    result.manifest["status"] = "complete"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    result.manifest["files"] = files
    result.manifest["sha256"] = data_hashes(folder)
    write_json(folder / MANIFEST, result.manifest)
    result.folder = folder
