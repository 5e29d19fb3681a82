"""The shipped mosaik scenario: mosaik-csv (a simulator gridledger did not write, from PyPI) feeds measured PV
power into gridledger's prosumer meters, step by step; gridledger settles on chain.

Both simulators run in-process (``"python": "module:Class"``): no socket is opened. The CSV is the layout of
gridledger's own profile files (docs/your_data.md): a ``time`` column (interval starts, ISO 8601 with offset) and
one ``{prosumer id}_p_kw`` column per fed prosumer [kW, mean over the interval]; mosaik-csv reads it as model
``Data`` with those columns as attributes. A prosumer without a column keeps its modelled PV.
"""

from __future__ import annotations

import importlib.metadata as md
from pathlib import Path
from typing import Any

import mosaik
import pandas as pd

from sim.cosim.simulator import ENTITY_PARAM
from sim.files.series import file_sha256
from sim.inputs import run_times
from sim.scenario import load_scenario

SIM_CONFIG = {
    "CSV": {"python": "mosaik_csv:CSV"},
    "Gridledger": {"python": "sim.cosim.simulator:GridledgerSim"},
    "Collector": {"python": "mosaik.basic_simulators.output_simulator:OutputSimulator"},  # mosaik's own
}
COLLECTED_METER = ("reading_period", "reading_wh", "balance_eur")
COLLECTED_LEDGER = ("block_number", "settled_periods", "supply_eur", "balances_eur")
PV_SUFFIX = "_p_kw"


def pv_columns(csv_file: Path, prosumer_ids: list[str]) -> dict[str, str]:
    """Prosumer id -> the CSV column that feeds its PV (``{id}_p_kw``); ValueError if none matches."""
    header = list(pd.read_csv(csv_file, nrows=0).columns)
    found = {pid: f"{pid}{PV_SUFFIX}" for pid in prosumer_ids if f"{pid}{PV_SUFFIX}" in header}
    if not found:
        raise ValueError(f"{csv_file}: no column '{{prosumer id}}{PV_SUFFIX}' for any prosumer of the scenario "
                         f"(expected e.g. {prosumer_ids[0]}{PV_SUFFIX}); found {', '.join(map(repr, header))}")
    return found


def run_csv_world(scenario_file: str | Path, csv_file: str | Path, *, out: str | Path | None = None,
                  force: bool = False, overrides: dict | None = None) -> dict[str, Any]:
    """Run ``scenario_file`` under mosaik for its whole duration with ``csv_file``'s columns as the prosumers'
    PV output; ``out``: the results folder. mosaik's own ``OutputSimulator`` collects the ledger's and the meters'
    outputs. Returns ``{"summary": summary.json's content, "ledger": {attr: last value}, "meters": {prosumer id:
    {attr: last value}}}``."""
    scenario = load_scenario(scenario_file)
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{scenario_file} + overrides")
    csv_file = Path(csv_file).resolve()
    ids = [f"{g.name}-{i:02d}" for g in scenario.population for i in range(1, g.count + 1)]
    columns = pv_columns(csv_file, ids)
    fed_by = {"simulator": f"mosaik-csv {md.version('mosaik-csv')} (mosaik_csv:CSV)", "datafile": str(csv_file),
              "sha256": file_sha256(csv_file), "pv_p_kw": columns}
    start = run_times(scenario.run, scenario.site)[0].isoformat()
    with mosaik.World(SIM_CONFIG, skip_greetings=True, configure_logging=False) as world:
        gridledger = world.start("Gridledger", scenario=str(scenario_file), overrides=overrides,
                                 out=None if out is None else str(out), force=force, fed_by=fed_by)
        data = world.start("CSV", sim_start=start, datafile=str(csv_file)).Data.create(1)[0]
        meters = gridledger.Meter.create(len(ids))
        ledger = gridledger.Ledger.create(1)[0]
        for meter in meters:
            if meter.eid in columns:
                world.connect(data, meter, (columns[meter.eid], "pv_p_kw"))
        collector_sim = world.start("Collector")
        collector = collector_sim.Dict.create(1)[0]
        world.connect(ledger, collector, *COLLECTED_LEDGER)
        meter_collectors = collector_sim.Dict.create(len(meters))
        for meter, into in zip(meters, meter_collectors):
            world.connect(meter, into, *COLLECTED_METER)
        world.run(until=scenario.run.duration_s, print_progress=False)
        return {"summary": gridledger.summary(), "ledger": _last(collector_sim.get_dict(collector.eid)),
                "meters": {m.eid: _last(collector_sim.get_dict(c.eid)) for m, c in zip(meters, meter_collectors)}}


def run_world(scenario_file: str | Path, collect: dict[str, dict[str | None, tuple[str, ...]]], *,
              overrides: dict | None = None, out: str | Path | None = None, force: bool = False,
              csv_file: str | Path | None = None,
              feed: dict[str, dict[str | None, dict[str, str]]] | None = None) -> dict[str, Any]:
    """Run ``scenario_file`` under mosaik, mosaik's own ``OutputSimulator`` collecting the outputs ``collect``
    names: model -> {entity name (None: every entity of the model; the one of ``Ledger``, ``GridOperator``) ->
    attributes}. With ``csv_file``, mosaik-csv feeds its columns as ``feed`` says: model -> {entity name (None: the
    one of ``GridOperator``) -> {column: input attribute}}. Returns ``{"summary": …, "outputs": {entity id:
    {mosaik time: {attr: value}}}}``."""
    scenario = load_scenario(scenario_file)
    if overrides:
        scenario = scenario.with_overrides(overrides, source=f"{scenario_file} + overrides")
    feed = feed or {}
    fed_by = {}
    if csv_file is not None:
        csv_file = Path(csv_file).resolve()
        fed_by = {"simulator": f"mosaik-csv {md.version('mosaik-csv')} (mosaik_csv:CSV)", "datafile": str(csv_file),
                  "sha256": file_sha256(csv_file),
                  "columns": {f"{model}/{name or model}": cols
                              for model, by in feed.items() for name, cols in by.items()}}
    with mosaik.World(SIM_CONFIG, skip_greetings=True, configure_logging=False) as world:
        gridledger = world.start("Gridledger", scenario=str(scenario_file), overrides=overrides,
                                 out=None if out is None else str(out), force=force, fed_by=fed_by)
        made: dict[tuple[str, str | None], list] = {}

        def entities(model: str, name: str | None) -> list:
            if (model, name) not in made:
                factory = getattr(gridledger, model)
                if model in ("Ledger", "GridOperator"):
                    made[model, name] = factory.create(1)
                elif name is not None:
                    made[model, name] = factory.create(1, **{ENTITY_PARAM[model]: name})
                else:
                    made[model, name] = factory.create(len(gridledger.names(model)))
            return made[model, name]

        if feed:
            start = run_times(scenario.run, scenario.site)[0].isoformat()
            data = world.start("CSV", sim_start=start, datafile=str(csv_file)).Data.create(1)[0]
            for model, by in feed.items():
                for name, columns in by.items():
                    for entity in entities(model, name):
                        world.connect(data, entity, *columns.items())
        collector_sim = world.start("Collector")
        into: dict[str, Any] = {}
        for model, wanted in collect.items():
            for name, attrs in wanted.items():
                for entity in entities(model, name):
                    into[entity.eid] = collector_sim.Dict.create(1)[0]
                    world.connect(entity, into[entity.eid], *attrs)
        world.run(until=scenario.run.duration_s, print_progress=False)
        return {"summary": gridledger.summary(),
                "outputs": {eid: {t: {a: next(iter(v.values())) for a, v in at.items()}
                                  for t, at in collector_sim.get_dict(c.eid).items()} for eid, c in into.items()}}


def _last(record: dict) -> dict[str, Any]:
    """The last values an OutputSimulator entity received: attr -> value (one source each)."""
    last = record[max(record)]
    return {attr: next(iter(by_source.values())) for attr, by_source in last.items()}
