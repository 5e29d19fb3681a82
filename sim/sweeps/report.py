"""The sweep's report: KPIs compared across points, with their spread over seeds, as one self-contained page."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.registry import REGISTRY  # noqa: E402


def headline() -> list[str]:
    """The KPIs a sweep's report compares: the feeder's, then every capability's (registry order)."""
    physics = ["physics.import_kwh", "physics.export_kwh", "physics.trafo_loading_max_percent"]
    return physics + [k for info in REGISTRY for k in info.sweep_kpis]


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def comparison(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Mean, standard deviation, min and max over seeds, per point."""
    stats = table.groupby("point", sort=True)[columns].agg(["mean", "std", "min", "max"])
    return stats


def write_sweep_report(folder: Path) -> Path:
    folder = Path(folder)
    table = pd.read_parquet(folder / "sweep.parquet")
    meta = json.loads((folder / "sweep.json").read_text())
    cols = [c for c in headline() if c in table.columns]
    stats = comparison(table, cols)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>gridledger sweep — {html.escape(meta['name'])}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 8px;"
        "font-size:13px;text-align:right}th{background:#f4f4f4}img{max-width:100%}</style></head><body>",
        f"<h1>Sweep {html.escape(meta['name'])}</h1>",
        f"<p>{meta['runs']} runs: {table.point.nunique()} points × {table.seed_index.nunique()} seeds "
        f"(the same seeds for every point). Mean ± standard deviation over seeds, [min – max] below.</p>",
        "<table><tr><th>point</th>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>",
    ]
    for point, row in stats.iterrows():
        cells = "".join(f"<td>{row[(c, 'mean')]:,.4g} ± {0 if pd.isna(row[(c, 'std')]) else row[(c, 'std')]:,.2g}"
                        f"<br><small>[{row[(c, 'min')]:,.4g} – {row[(c, 'max')]:,.4g}]</small></td>" for c in cols)
        parts.append(f"<tr><th>{html.escape(str(point))}</th>{cells}</tr>")
    parts.append("</table>")
    for c in cols:
        fig, ax = plt.subplots(figsize=(6, 3))
        groups = [table.loc[table.point == p, c].to_numpy() for p in stats.index]
        ax.boxplot(groups)
        ax.set_xticks(range(1, len(stats.index) + 1), [str(p) for p in stats.index])
        ax.set_title(c)
        parts.append(f"<h3>{html.escape(c)}</h3><img alt='{html.escape(c)}' src='data:image/png;base64,{_png(fig)}'>")
    parts.append("<h2>Runs</h2><table><tr><th>run</th><th>seed</th>"
                 + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>")
    for r in table.itertuples(index=False):
        rd = r._asdict()
        parts.append(f"<tr><th><a href='{html.escape(rd['run_id'])}/report.html'>{html.escape(rd['run_id'])}</a></th>"
                     f"<td>{rd['seed']}</td>"
                     + "".join(f"<td>{table.loc[table.run_id == rd['run_id'], c].iloc[0]:,.4g}</td>" for c in cols)
                     + "</tr>")
    parts.append("</table></body></html>")
    path = folder / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
