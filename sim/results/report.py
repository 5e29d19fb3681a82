"""Plots and a self-contained HTML report, built from a results folder's files alone.

The report (``report.html``) is for a utility analyst: its first screen gives each capability's headline figures
in words, with units and money to the cent (``sim.results.fmt``); then the scenario's inputs; then one section
per capability in the registry's order (every figure of its summary, every per-entity table — sortable, with a
CSV download — and its plots); the feeder and the measurement; and last, collapsed, the chain's figures and its
address book. Names, never addresses, outside that last section. Plots are static PNGs inlined as ``data:`` URIs
(no chart library, nothing fetched: the page works offline and reruns give identical bytes); their words are
their alternative text (``sim.results.plotting``)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results import report_html as H  # noqa: E402
from sim.results.fmt import quantity, unit_of, words  # noqa: E402
from sim.results.headline import Figure, Section, chain_data, entity_tables, flat_figures, lookup  # noqa: E402
from sim.results.plotting import RunInfo, description, info_for, run_info, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.results.report_inputs import inputs_section  # noqa: E402
from sim.results.tables import LedgerView, TimeseriesView  # noqa: E402


def plot_feeder(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    feeder = ts[ts.entity == "feeder"]
    if feeder.empty:
        return []
    info = info_for(plots)
    feeder = feeder.pivot(index="time", columns="quantity", values="value")
    feeder.index = info.local(feeder.index)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(feeder.index, feeder["slack_p_kw"], lw=0.9, label="import from upstream (slack)")
    ax.plot(feeder.index, feeder["sgen_p_kw"], lw=0.9, label="PV generation")
    ax.plot(feeder.index, feeder["load_p_kw"], lw=0.9, label="household demand")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("power [kW]")
    time_axis(ax, info)
    ax.set_title("Feeder power (power flow per step)")
    ax.legend(loc="upper right", fontsize=8)
    return [_save(fig, plots / "feeder_power.png")]


def make_plots(folder: Path, plotters: list) -> list[Path]:
    """Write ``plots/*.png`` for the run in ``folder`` with the feeder's plotter and ``plotters`` (each
    ``f(timeseries, ledger, plots_dir) -> [paths]``, drawing what it finds in the folder); returns the paths.
    The timeseries and the ledger are views (``sim.results.tables.TimeseriesView``, ``LedgerView``): a plotter's
    ``ts[ts.entity == ...]`` or ``event_args(ledger, ...)`` reads only the rows it selects from the file."""
    folder = Path(folder)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    ts = TimeseriesView(folder / "timeseries.parquet")
    ledger = LedgerView(folder / "ledger.parquet")
    return [path for plotter in [plot_feeder, *plotters] for path in plotter(ts, ledger, plots)]


KERNEL = Section(
    title="Feeder and measurement",
    lead="The power flow of the low-voltage feeder at every step, and what the measurement layer did with every "
         "meter reading (validation, estimation) before any was posted.",
    figures=(Figure("physics.import_kwh", "imported from upstream"), Figure("physics.export_kwh", "exported upstream"),
             Figure("physics.pv_kwh", "PV generation of the prosumers"),
             Figure("physics.trafo_loading_max_percent", "peak transformer loading"),
             Figure("physics.vm_min_pu", "lowest voltage"),
             Figure("physics.feeder_tripped_h", "de-energised: no power-flow solution, protection tripped"),
             Figure("vee.periods", "meter periods validated"),
             Figure("vee.estimated", "of them estimated (gap filled)"), Figure("vee.rejected", "readings rejected")),
)


def unit_key(key: str) -> str:
    """The segment of a dotted key that carries the unit (``on_chain_totals_eur.paid`` -> its parent)."""
    parts = key.split(".")
    return next((p for p in reversed(parts) if unit_of(p)[0]), parts[-1])


def shown(tree: dict, fig: Figure, names: dict[str, str]) -> str:
    value = lookup(tree, fig.key)
    text = quantity(unit_key(fig.key), value, names)
    if fig.of is not None:
        text += f" of {quantity(unit_key(fig.of), lookup(tree, fig.of), names)}"
    return text


def _rows(tree: dict, prefix: str, section: Section, names: dict[str, str]) -> list[tuple[str, str, str]]:
    rows = []
    for fig in section.figures:
        try:
            rows.append((fig.words, shown(tree, fig, names), f"{prefix}{fig.key}"))
        except KeyError:
            continue
    return rows


def _load(ref: str):
    """The object a ``"package.module:name"`` reference names (as ``sim.capabilities.base.load``)."""
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _capabilities() -> list:
    """The registry, resolved when a report is written (``sim.results`` sits below the capabilities, which draw
    with it: it names the registry by reference, as ``CapabilityInfo`` names every hook)."""
    return list(_load("sim.registry:REGISTRY"))


def sections_of(summary: dict, capabilities: list | None = None) -> list[tuple[str, Section, tuple[str, ...]]]:
    """(summary key, section, its scenario sections) of every capability in the run, in the registry's order."""
    out = []
    for info in _capabilities() if capabilities is None else capabilities:
        if info.name not in summary:
            continue
        hook = getattr(info, "report", None)
        section = _load(hook)(summary[info.name]) if hook else Section(title=info.name)
        out.append((info.name, section, tuple(info.sections)))
    return out


def _capability_part(name: str, section: Section, tree: dict, folder: Path, names: dict[str, str],
                     plots: list[Path]) -> list[str]:
    parts = [f"<h2 id='{H.e(name)}'>{H.e(section.title)}</h2>"]
    if section.lead:
        parts.append(f"<p>{H.e(section.lead)}</p>")
    flat = flat_figures(tree)
    rows = [(words(k.split(".")[-1]) if "." not in k else " · ".join(words(p) for p in k.split(".")),
             quantity(unit_key(k), v, names)) for k, v in flat.items()]
    parts.append(f"<h3>Every figure of the summary</h3>{H.kv_table(rows)}")
    for key, frame in entity_tables(tree).items():
        title = section.tables.get(key) or f"{words(key.split('.')[-1]).capitalize()} (per entity)"
        parts.append(H.entity_table(f"{name}-{key.replace('.', '-')}", title, frame, names))
    for png in plots:
        parts.append(H.png_figure(png, description(png)))
    return parts


def _chain_part(summary: dict, manifest: dict, names: dict[str, str], capabilities: list[str]) -> list[str]:
    chain = summary.get("chain", {})
    rows = [(words(k), quantity(k, v)) for k, v in chain.items() if not isinstance(v, dict)]
    parts = ["<details id='chain'><summary>Chain: figures, contracts and addresses</summary>",
             "<p>Everything below is read from the in-process EVM; the tables above name accounts by their labels, "
             "this address book maps them to the chain.</p>", H.kv_table(rows)]
    contracts = [(c, a) for c, a in chain.get("contracts", {}).items()]
    if contracts:
        parts.append("<h3>Contracts</h3>" + H.kv_table(contracts, "kv addresses"))
    accounts = [(label, a) for label, a in chain.get("accounts", {}).items()]
    if accounts:
        parts.append("<h3>Accounts</h3>" + H.kv_table(accounts, "kv addresses"))
    hexes = [(f"{cap} · {k}", v) for cap in capabilities for k, v in chain_data(summary.get(cap, {})).items()]
    for key, frame in {k: f for cap in capabilities for k, f in
                       ((f"{cap}.{key}", fr) for key, fr in entity_tables(summary.get(cap, {})).items())}.items():
        for col in ("account", "address"):
            if col in frame.columns:
                hexes += [(f"{key} · {i}", str(a)) for i, a in frame[col].items()]
    if hexes:
        parts.append("<h3>Addresses and hashes in the summaries</h3>" + H.kv_table(hexes, "kv addresses"))
    code = [(c, f"bytecode {d.get('bytecode_sha256', '')[:16]}…, source {d.get('source_sha256', '')[:16]}…")
            for c, d in manifest.get("contracts", {}).items()]
    if code:
        parts.append("<h3>Contract code (sha256)</h3>" + H.kv_table(code))
    parts.append("</details>")
    return parts


def _title(manifest: dict, info: RunInfo, folder: Path) -> tuple[str, str]:
    run = (manifest.get("scenario") or {}).get("run", {})
    name = run.get("name") or manifest.get("run_id", folder.name)
    end = info.start + pd.Timedelta(seconds=run.get("duration_s", 0))
    sub = (f"{info.start:%a %d %b %Y %H:%M} – {end:%a %d %b %Y %H:%M} local time ({info.tz}); seed "
           f"{manifest.get('seed')}; run {manifest.get('run_id', folder.name)}; scenario "
           f"{manifest.get('scenario_file') or 'given in code'}")
    return str(name), sub


def write_report(folder: Path, capabilities: list | None = None) -> Path:
    """Write ``report.html`` for the results in ``folder`` (``capabilities``: the registry by default)."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    info = run_info(folder)
    names = info.names
    found = sections_of(summary, capabilities)
    sections = [(cap, section) for cap, section, _ in found]
    plots = sorted((folder / "plots").glob("*.png"))
    name, sub = _title(manifest, info, folder)
    body = [f"<h1>{H.e(name)}</h1><p class='sub'>{H.e(sub)}</p>", "<h2 id='headlines'>Headline figures</h2>",
            "<div class='cards'>"]
    for cap, section in sections:
        body.append(H.card(section.title, cap, _rows(summary[cap], f"{cap}.", section, names)))
    body.append(H.card(KERNEL.title, "feeder", _rows(summary, "", KERNEL, names)))
    body.append("</div>")
    body += inputs_section(manifest.get("scenario") or {}, info, [(s.title, keys) for _, s, keys in found])
    for cap, section in sections:
        mine = [p for p in plots if p.stem.startswith(f"{cap}_")]
        body += _capability_part(cap, section, summary[cap], folder, names, mine)
    kernel = {k: summary[k] for k in ("physics", "vee", "run") if k in summary}
    rest = [p for p in plots if not any(p.stem.startswith(f"{c}_") for c, _ in sections)]
    body += _capability_part("feeder", KERNEL, kernel, folder, names, rest)
    for key in summary:
        if key not in kernel and key != "chain" and key not in dict(sections):
            body += _capability_part(key, Section(title=key), summary[key], folder, names, [])
    body += _chain_part(summary, manifest, names, [c for c, _ in sections])
    path = folder / "report.html"
    path.write_text(H.page(f"gridledger — {name}", body), encoding="utf-8")
    return path
