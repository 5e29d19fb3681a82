"""The tariff study in a sweep's report: when the runs bill households (``bills.parquet``, ``[tariff]``), each
design is compared with the baseline design household by household and seed by seed.

- Bill change per customer type (population group): for every household and seed, Δ = its total over the run
  under the design − under the baseline (the same household, weather and loads: common random numbers). Over
  every household and seed of the type: winners (Δ < −0.5 ct), losers (Δ > +0.5 ct), median, 10th and 90th
  percentile; and the mean Δ per seed, paired across seeds with its 95 % t-interval.
- Revenue neutrality: what the supplier recovers (the bills' payable totals, paid on chain) vs the baseline, paired
  across seeds, absolute and in percent of the baseline's.
- The feeder: peak import, hours above the transformer limit, self-consumption and self-sufficiency, paired."""

from __future__ import annotations

import html
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results.fmt import heading, quantity  # noqa: E402
from sim.results.report_html import figure_base64  # noqa: E402
from sim.sweeps.paired import paired, t_interval  # noqa: E402

e = html.escape
PAIRED_KPIS = ("tariffs.utility_revenue_eur", "tariffs.network_revenue_eur", "tariffs.feeder_peak_import_kw",
               "tariffs.trafo_hours_above_limit_h", "tariffs.self_consumption_percent",
               "tariffs.self_sufficiency_percent", "tariffs.community_self_sufficiency_percent", "tariffs.co2_kg")
TIE_EUR = 0.005


def household_totals(folder: Path, table: pd.DataFrame) -> pd.DataFrame:
    """Every run's household totals over the run [EUR]: columns point, seed_index, household, group, total_eur."""
    frames = []
    for r in table.itertuples(index=False):
        path = folder / r.run_id / "bills.parquet"
        if path.exists() and (bills := pd.read_parquet(path)).size:
            t = bills.groupby(["household", "group"], as_index=False).total_eur.sum()
            frames.append(t.assign(point=r.point, seed_index=r.seed_index))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def bill_changes(totals: pd.DataFrame, point: str, baseline: str) -> pd.DataFrame:
    """Δ total per household and common seed, design − baseline [EUR]: columns seed_index, household, group,
    delta_eur."""
    a = totals[totals.point == point].set_index(["seed_index", "household", "group"]).total_eur
    b = totals[totals.point == baseline].set_index(["seed_index", "household", "group"]).total_eur
    d = (a - b).dropna()
    return d.rename("delta_eur").reset_index()


def distribution(changes: pd.DataFrame) -> pd.DataFrame:
    """Per customer type: households x seeds, winners, losers, median, p10, p90 [EUR], and the paired mean Δ over
    seeds with its 95 % t-interval."""
    rows = []
    for group, g in changes.groupby("group", sort=True):
        d = g.delta_eur.to_numpy()
        per_seed = g.groupby("seed_index").delta_eur.mean()
        ci = t_interval(per_seed)
        ci.pop("n")
        rows.append({"group": group, "n": len(d), "winners": int((d < -TIE_EUR).sum()),
                     "losers": int((d > TIE_EUR).sum()), "median_eur": float(np.median(d)),
                     "p10_eur": float(np.percentile(d, 10)), "p90_eur": float(np.percentile(d, 90)), **ci})
    return pd.DataFrame(rows)


def _plot(dists: dict[str, pd.DataFrame], labels: dict[str, str]) -> str:
    groups = sorted({g for d in dists.values() for g in d.group})
    fig, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * max(2, len(dists) * len(groups))))
    y, ticks = 0, []
    for i, (point, d) in enumerate(dists.items()):
        for j, row in enumerate(d.itertuples(index=False)):
            ax.plot([row.p10_eur, row.p90_eur], [y, y], color=f"C{j}", lw=4, alpha=0.5,
                    label=row.group if i == 0 else None)
            ax.plot([row.median_eur], [y], "o", color=f"C{j}")
            ticks.append((y, f"{labels[point]} · {row.group}"))
            y += 1
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks([t for t, _ in ticks], [w for _, w in ticks], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Δ bill per household vs baseline [EUR]: bar 10th-90th percentile, dot median")
    ax.legend(fontsize=8, loc="best")
    return ("<figure><img alt='bill change per household vs the baseline [EUR]: 10th to 90th percentile and median "
            f"per design and customer type' src='data:image/png;base64,{figure_base64(fig)}'></figure>")


def section(folder: Path, table: pd.DataFrame, points: list[str], baseline: str, labels: dict[str, str]) -> list[str]:
    """The study's HTML (empty when no run billed households)."""
    totals = household_totals(folder, table)
    if not len(totals):
        return []
    others = [p for p in points if p != baseline]

    def eur(v: float) -> str:
        return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else e(quantity("x_eur", v))

    body = ["<h2>Tariff study</h2>",
            f"<p>Each design against the baseline <b>{e(labels[baseline])}</b>, household by household on the same "
            "seeds (the same weather and loads). Δ = the household's total bill over the run (energy, network, "
            "levies, fixed, community, VPP payouts and penalties) under the design minus under the baseline; a "
            f"winner pays at least half a cent less, a loser at least half a cent more. Paired Δ: the mean Δ per "
            "seed, paired across seeds, with its 95 % t-interval.</p>",
            "<h3>Bill change per customer type</h3><table class='cmp'><tr><th>design</th><th>customer type</th>"
            "<th>households × seeds</th><th>winners</th><th>losers</th><th>median Δ</th><th>10th percentile Δ</th>"
            "<th>90th percentile Δ</th><th>paired Δ [95 % CI]</th></tr>"]
    dists = {}
    for p in others:
        d = dists[p] = distribution(bill_changes(totals, p, baseline))
        for r in d.itertuples(index=False):
            ci = "" if math.isnan(r.lo) else f" [{eur(r.lo)}, {eur(r.hi)}]"
            body.append(f"<tr><th>{e(labels[p])}</th><td>{e(r.group)}</td><td>{r.n}</td><td>{r.winners}</td>"
                        f"<td>{r.losers}</td><td>{eur(r.median_eur)}</td><td>{eur(r.p10_eur)}</td>"
                        f"<td>{eur(r.p90_eur)}</td><td>{eur(r.mean)}{ci}</td></tr>")
    body.append("</table>")
    if dists:
        body.append(_plot(dists, labels))
    kpis = [k for k in PAIRED_KPIS if k in table.columns]
    body.append("<h3>Revenue neutrality and the feeder, paired against the baseline</h3><table class='cmp'><tr>"
                "<th>design</th>" + "".join(f"<th>{e(heading(k.split('.')[-1]))}</th>" for k in kpis) + "</tr>")
    base_rev = table.loc[table.point == baseline, "tariffs.utility_revenue_eur"].mean() \
        if "tariffs.utility_revenue_eur" in table.columns else math.nan
    for p in points:
        cells = []
        for k in kpis:
            mean = float(table.loc[table.point == p, k].mean())
            text = e(quantity(k, mean))
            if p != baseline:
                r = paired(table, k, p, baseline)
                ci = "" if math.isnan(r["lo"]) else f" [{e(quantity(k, r['lo']))}, {e(quantity(k, r['hi']))}]"
                text += f"<span class='d'>Δ {e(quantity(k, r['mean']))}{ci}</span>"
                if k == "tariffs.utility_revenue_eur" and base_rev:
                    text += f"<span class='d'>{100 * r['mean'] / abs(base_rev):+.1f} % of the baseline's</span>"
            cells.append(f"<td>{text}</td>")
        body.append(f"<tr><th>{e(labels[p])}{' (baseline)' if p == baseline else ''}</th>{''.join(cells)}</tr>")
    body.append("</table>")
    return body
