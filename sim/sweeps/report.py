"""The sweep's report: every point named by its settings, each KPI compared with a baseline point by paired
differences over the common seeds, as one self-contained page.

Every point of a sweep runs the same seeds (common random numbers: the same weather and load draws), so a design
is compared with the baseline seed by seed: d_i = KPI(point, seed i) − KPI(baseline, seed i). The report gives the
mean of the d_i and its 95 % confidence interval, a Student t-interval on the paired differences (mean ± t(0.975,
n−1) · s_d / √n over the n seeds both points ran); with one seed there is no interval. The baseline is the sweep
file's first point (first grid combination), or the one named. Numbers are written as in the run report
(``sim.results.fmt``); the table lists KPIs down and points across, so it fits the page; every run's KPIs are a CSV
download."""

from __future__ import annotations

import html
import json
import math
import tomllib
from pathlib import Path
from urllib.parse import quote

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.registry import REGISTRY  # noqa: E402
from sim.results.fmt import MINUS, heading, quantity, unit_of  # noqa: E402
from sim.results.report_html import figure_base64, page  # noqa: E402
from sim.sweeps.paired import paired  # noqa: E402

e = html.escape
SWEEP_STYLE = """
table.cmp{table-layout:fixed;width:100%}table.cmp td,table.cmp th{overflow-wrap:anywhere;font-size:12.5px}
table.cmp td{text-align:right}.d{display:block;color:#56616c;font-size:12px}.sig{color:#0b6e31;font-weight:600}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:8px}
"""


def headline() -> list[str]:
    """The KPIs a sweep's report compares: the feeder's, then every capability's (registry order)."""
    physics = ["physics.import_kwh", "physics.export_kwh", "physics.trafo_loading_max_percent"]
    return physics + [k for info in REGISTRY for k in info.sweep_kpis]


def comparison(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean, standard deviation, min and max over seeds, per point."""
    return table.groupby("point", sort=True)[columns].agg(["mean", "std", "min", "max"])


def _sweep_file(meta: dict, folder: Path) -> dict:
    path = Path(meta.get("sweep_file", ""))
    for candidate in (path, folder / path.name):
        try:
            return tomllib.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
    return {}


def point_settings(table: pd.DataFrame, meta: dict, folder: Path, short: bool = False) -> dict[str, str]:
    """Point -> its settings in words: the overrides that differ between points (``prices.penalty_eur_per_kwh =
    0.5``), and the scenario file when points have their own; ``short``: the setting's last name only
    (``penalty_eur_per_kwh = 0.5``), no file."""
    spec = _sweep_file(meta, folder)
    scenario = {p.get("name"): p.get("scenario") for p in spec.get("points", [])}
    overrides = {p: {k: v for k, v in json.loads(o).items() if k != "run.seed"}
                 for p, o in table.groupby("point", sort=False).overrides.first().items()}
    keys = sorted({k for o in overrides.values() for k in o})
    varying = [k for k in keys if len({json.dumps(o.get(k), sort_keys=True) for o in overrides.values()}) > 1]
    out = {}
    for point, o in overrides.items():
        base = point.rsplit("-g", 1)[0] if point not in scenario else point
        words = [f"{k.split('.')[-1] if short else k} = {o.get(k)}" for k in varying]
        file = scenario.get(base)
        head = f"{base} ({Path(file).name})" if file and len({*scenario.values()}) > 1 and not short else base
        out[point] = ", ".join([head, *words]) if words or head != point else head
    return out


def point_order(table: pd.DataFrame, meta: dict, folder: Path) -> list[str]:
    """Points in the sweep file's order (then grid order), else as the table has them."""
    names = [p.get("name") for p in _sweep_file(meta, folder).get("points", [])]
    rank = {n: i for i, n in enumerate(names)}
    points = list(dict.fromkeys(table.point))
    return sorted(points, key=lambda p: (rank.get(p.rsplit("-g", 1)[0], rank.get(p, len(rank))),
                                         int(p.rsplit("-g", 1)[1]) if "-g" in p and p.rsplit("-g", 1)[1].isdigit()
                                         else 0))


def _signed(kpi: str, v: float) -> str:
    text = quantity(kpi, v)
    return text if text.startswith(MINUS) or v == 0 or math.isnan(v) else "+" + text


def _cell(table: pd.DataFrame, kpi: str, point: str, baseline: str) -> str:
    mean = table.loc[table.point == point, kpi].mean()
    cell = e(quantity(kpi, float(mean)))
    if point != baseline:
        p = paired(table, kpi, point, baseline)
        ci = "" if math.isnan(p["lo"]) else f"[{_signed(kpi, p['lo'])}, {_signed(kpi, p['hi'])}]"
        sig = not math.isnan(p["lo"]) and (p["lo"] > 0 or p["hi"] < 0)
        cell += (f"<span class='d{' sig' if sig else ''}'>Δ {e(_signed(kpi, p['mean']))}"
                 f"{f'<br>{e(ci)}' if ci else ''}</span>")
    return f"<td>{cell}</td>"


def _plot(table: pd.DataFrame, kpi: str, points: list[str], labels: dict[str, str], baseline: str) -> str:
    unit, factor = unit_of(kpi)
    others = [p for p in points if p != baseline]
    res = [paired(table, kpi, p, baseline) for p in others]
    fig, ax = plt.subplots(figsize=(6, 0.5 + 0.45 * max(2, len(others))))
    y = list(range(len(others)))
    means = [r["mean"] * factor for r in res]
    err = [[(r["mean"] - r["lo"]) * factor if not math.isnan(r["lo"]) else 0 for r in res],
           [(r["hi"] - r["mean"]) * factor if not math.isnan(r["hi"]) else 0 for r in res]]
    ax.errorbar(means, y, xerr=err, fmt="o", color="C0", capsize=3)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, [labels[p] for p in others], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"Δ {heading(kpi.split('.')[-1]).replace(' [', ' vs baseline [') if unit else kpi + ' vs baseline'}")
    ax.set_title(f"{kpi}: mean Δ and 95 % t-interval", fontsize=9)
    return (f"<figure><img alt='{e(kpi)}: paired differences vs the baseline [{e(unit)}]' "
            f"src='data:image/png;base64,{figure_base64(fig)}'></figure>")


def write_sweep_report(folder: Path, baseline: str | None = None) -> Path:
    """Write ``report.html`` for the sweep in ``folder``; ``baseline``: a point name (default: the first)."""
    folder = Path(folder)
    table = pd.read_parquet(folder / "sweep.parquet")
    meta = json.loads((folder / "sweep.json").read_text())
    cols = [c for c in headline() if c in table.columns]
    points = point_order(table, meta, folder)
    labels = point_settings(table, meta, folder)
    short = point_settings(table, meta, folder, short=True)
    baseline = baseline if baseline in points else points[0]
    seeds = table.groupby("point").seed_index.apply(set)
    common = set.intersection(*seeds.tolist())
    csv = "data:text/csv;charset=utf-8," + quote(table.to_csv(index=False))
    body = [f"<style>{SWEEP_STYLE}</style><h1>Sweep {e(meta['name'])}</h1>",
            f"<p>{meta['runs']} runs: {len(points)} points × {table.seed_index.nunique()} seeds (common random "
            f"numbers: seed <i>i</i> is the same for every point, so points are compared seed by seed). Baseline: "
            f"<b>{e(labels[baseline])}</b>. Each cell gives the mean over seeds; below it, Δ is the mean paired "
            f"difference to the baseline over the {len(common)} common seeds with its 95 % confidence interval, a "
            "Student t-interval on the paired differences (mean ± t<sub>0.975, n−1</sub>·s/√n); green where the "
            "interval excludes zero.</p>",
            "<h2>Points</h2><table><tr><th>point</th><th>settings</th><th>seeds</th></tr>"
            + "".join(f"<tr><th>{e(p)}</th><td style='text-align:left'>{e(labels[p])}"
                      f"{' (baseline)' if p == baseline else ''}</td><td>{len(seeds[p])}</td></tr>" for p in points)
            + "</table>",
            "<h2>KPIs by point</h2><table class='cmp'><colgroup><col style='width:22%'></colgroup><thead><tr>"
            "<th>KPI</th>" + "".join(f"<th>{e(short[p])}</th>" for p in points) + "</tr></thead><tbody>"]
    for c in cols:
        body.append(f"<tr><th>{e(c.split('.')[0])} · {e(heading(c.split('.')[-1]))}</th>"
                    + "".join(_cell(table, c, p, baseline) for p in points) + "</tr>")
    body.append("</tbody></table>")
    if len(points) > 1:
        from sim.sweeps.tariff_study import section

        body += section(folder, table, points, baseline, short)
    if len(points) > 1:
        body.append("<h2>Paired differences to the baseline</h2><div class='grid2'>")
        body += [_plot(table, c, points, short, baseline) for c in cols]
        body.append("</div>")
    body.append(f"<h2>Runs</h2><p>Every run's KPIs: <a download='sweep-{e(meta['name'])}.csv' href='{e(csv)}'>"
                "download CSV</a>.</p><table><tr><th>run</th><th>point</th><th>seed</th></tr>")
    rank = {p: i for i, p in enumerate(points)}
    for r in table.sort_values(["seed_index"]).sort_values("point", key=lambda s: s.map(rank), kind="stable") \
            .itertuples(index=False):
        body.append(f"<tr><th style='text-align:left'><a href='{e(r.run_id)}/report.html'>{e(r.run_id)}</a></th>"
                    f"<td style='text-align:left'>{e(labels[r.point])}</td><td>{r.seed_index} ({r.seed})</td></tr>")
    body.append("</table>")
    path = folder / "report.html"
    path.write_text(page(f"gridledger sweep — {meta['name']}", body), encoding="utf-8")
    return path
