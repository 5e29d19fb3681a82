"""Plots and a self-contained HTML report, built from a results folder's files alone."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results.plotting import info_for, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402


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
    ``f(timeseries, ledger, plots_dir) -> [paths]``, drawing what it finds in the folder); returns the paths."""
    folder = Path(folder)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ledger = pd.read_parquet(folder / "ledger.parquet")
    return [path for plotter in [plot_feeder, *plotters] for path in plotter(ts, ledger, plots)]


def _table(d: dict) -> str:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            continue
        val = f"{v:,.4g}" if isinstance(v, float) else html.escape(str(v))
        rows.append(f"<tr><th>{html.escape(k)}</th><td>{val}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def write_report(folder: Path) -> Path:
    """Write ``report.html``: summary tables and the plots, inlined (no external fetch)."""
    folder = Path(folder)
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>gridledger — {html.escape(manifest.get('run_id', folder.name))}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;"
        "text-align:left;font-size:13px}th{background:#f4f4f4}img{max-width:100%}</style></head><body>",
        f"<h1>gridledger run {html.escape(manifest.get('run_id', folder.name))}</h1>",
        f"<p>Scenario <code>{html.escape(str(manifest.get('scenario_file', '')))}</code>, seed "
        f"{manifest.get('seed')}, scenario sha256 <code>{manifest.get('scenario_sha256', '')[:16]}…</code></p>",
    ]
    for section, content in summary.items():
        if isinstance(content, dict):
            parts.append(f"<h2>{html.escape(section)}</h2>{_table(content)}")
            for sub, subcontent in content.items():
                if isinstance(subcontent, dict) and subcontent and not all(
                    isinstance(x, dict) for x in subcontent.values()
                ):
                    parts.append(f"<h3>{html.escape(section)} · {html.escape(sub)}</h3>{_table(subcontent)}")
    for png in sorted((folder / "plots").glob("*.png")):
        data = base64.b64encode(png.read_bytes()).decode()
        parts.append(f"<h2>{html.escape(png.stem.replace('_', ' '))}</h2><img alt='{png.stem}' "
                     f"src='data:image/png;base64,{data}'>")
    parts.append("</body></html>")
    path = folder / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


