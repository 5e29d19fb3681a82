"""Scenario sweeps on dask.distributed: points (scenario files and/or overrides) x seeds, one run folder each,
``sweep.parquet`` with every run's KPIs, and the sweep's report.

Seeds come from one ``SeedSequence(root_seed)``: seed i is the same for every point (common random numbers),
so designs are compared on the same weather and load draws. A run whose folder is complete is not run again;
a worker that dies mid-run costs a retry of that run, not the sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from sim.results.folder import is_complete
from sim.scenario import load_scenario
from sim.schema import ScenarioError, _Frozen, format_errors, read_toml


class PointSpec(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: str | None = None  # relative to the sweep file; default: [sweep].base
    overrides: dict[str, Any] = {}


class SweepHead(_Frozen):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    base: str | None = None
    seeds: Annotated[int, Field(gt=0, le=1000)] = 1
    root_seed: Annotated[int, Field(ge=0)] = 0
    overrides: dict[str, Any] = {}  # applied to every point first


class SweepSpec(_Frozen):
    sweep: SweepHead
    points: Annotated[list[PointSpec], Field(min_length=1)]
    grid: dict[str, list[Any]] = {}  # cartesian product of overrides, crossed with the points

    @model_validator(mode="after")
    def _names(self) -> SweepSpec:
        names = [p.name for p in self.points]
        if len(set(names)) != len(names):
            raise ValueError(f"points: names must be unique, got {names}")
        if any(p.scenario is None for p in self.points) and self.sweep.base is None:
            raise ValueError("points: a point without 'scenario' needs [sweep].base")
        return self


@dataclass(frozen=True)
class PlannedRun:
    run_id: str
    point: str
    seed_index: int
    seed: int
    overrides: dict[str, Any]
    scenario_json: str


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    path = Path(path)
    data = read_toml(path, "sweep")
    try:
        return SweepSpec.model_validate(data), path.parent
    except ValidationError as exc:
        raise ScenarioError(format_errors(str(path), exc, "sweep file")) from None


def sweep_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` run seeds from one SeedSequence."""
    return [int(s.generate_state(1, dtype=np.uint32)[0]) for s in np.random.SeedSequence(root_seed).spawn(n)]


def plan(spec: SweepSpec, folder: Path) -> list[PlannedRun]:
    """Every run of the sweep, validated before anything starts."""
    grid_keys = sorted(spec.grid)
    combos = [dict(zip(grid_keys, values)) for values in
              (np.array(np.meshgrid(*[spec.grid[k] for k in grid_keys], indexing="ij")).reshape(len(grid_keys), -1).T
               if grid_keys else [()])]
    runs = []
    for point in spec.points:
        file = folder / (point.scenario or spec.sweep.base)
        base = load_scenario(file)
        for c, combo in enumerate(combos):
            combo = {k: (v.item() if hasattr(v, "item") else v) for k, v in combo.items()}
            label = point.name + (f"-g{c}" if grid_keys else "")
            for i, seed in enumerate(sweep_seeds(spec.sweep.root_seed, spec.sweep.seeds)):
                overrides = {**spec.sweep.overrides, **point.overrides, **combo, "run.seed": seed}
                scenario = base.with_overrides(overrides, source=f"{file} + sweep point {label}")
                runs.append(PlannedRun(f"{label}-seed{i}", label, i, seed, overrides,
                                       scenario.model_dump_json()))
    return runs


def kpis(summary: dict) -> dict[str, float]:
    """Flat numeric KPIs of a run summary (``vpp.revenue_eur`` …); per-member detail is left out."""
    out: dict[str, float] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            if prefix.endswith("member_detail") or prefix.endswith("contracts"):
                return
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(node, bool):
            out[prefix] = float(node)
        elif isinstance(node, (int, float)):
            out[prefix] = float(node)

    walk("", summary)
    return out


def run_one(scenario_json: str, out: str) -> dict[str, float]:
    """Run one scenario into ``out`` (on a worker); a complete folder is read back instead."""
    folder = Path(out)
    if not is_complete(folder):
        from sim.runner import run_scenario
        from sim.scenario import Scenario

        run_scenario(Scenario.model_validate_json(scenario_json), out=folder, force=False)
    return kpis(json.loads((folder / "summary.json").read_text()))


def run_sweep(
    path: str | Path,
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    progress: bool = False,
    client=None,
) -> pd.DataFrame:
    """Run the sweep in ``path`` into ``out``; returns (and writes) the KPI table, one row per run."""
    spec, folder = load_sweep(path)
    runs = plan(spec, folder)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done = {r.run_id: run_one(r.scenario_json, str(out / r.run_id)) for r in runs if is_complete(out / r.run_id)}
    todo = [r for r in runs if r.run_id not in done]
    if todo:
        done.update(_fan_out(todo, out, workers=workers, scheduler=scheduler, progress=progress, client=client))
    rows = [{"run_id": r.run_id, "point": r.point, "seed_index": r.seed_index, "seed": r.seed,
             "overrides": json.dumps(r.overrides, sort_keys=True, default=str), **done[r.run_id]} for r in runs]
    table = pd.DataFrame(rows).sort_values(["point", "seed_index"], kind="stable").reset_index(drop=True)
    table.to_parquet(out / "sweep.parquet", index=False)
    (out / "sweep.json").write_text(json.dumps({"name": spec.sweep.name, "runs": len(runs),
                                                "skipped": len(runs) - len(todo), "sweep_file": str(path)}, indent=2))
    from sim.sweeps.report import write_sweep_report

    write_sweep_report(out)
    return table


def _fan_out(todo: list[PlannedRun], out: Path, *, workers, scheduler, progress, client) -> dict[str, dict]:
    from contextlib import ExitStack

    from dask.distributed import Client, as_completed

    from sim.sweeps.cluster import local_cluster

    own = client is None
    stack = ExitStack()
    if own:
        if scheduler:  # an existing cluster: its address and its security (dask's configuration) are the operator's
            client = Client(scheduler)
        else:  # loopback only, no HTTP port, TLS with a certificate made for this sweep (sim/sweeps/cluster.py)
            client = Client(stack.enter_context(local_cluster(workers)))
    try:
        futures = {client.submit(run_one, r.scenario_json, str(out / r.run_id), key=f"gridledger-{r.run_id}",
                                 retries=2, pure=False): r.run_id for r in todo}
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(futures), unit="run", desc="sweep")
        results = {}
        for fut in as_completed(futures):
            results[futures[fut]] = fut.result()
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        return results
    finally:
        if own:
            client.close()
        stack.close()
