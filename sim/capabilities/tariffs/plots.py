"""The tariff's plot, drawn from a results folder's ``bills.parquet`` alone: each household's bill over the run,
line by line."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.capabilities.tariffs.bills import LINES  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402

SHOWN = (*LINES, "vpp_payouts_eur", "vpp_penalties_eur", "flex_tokens_eur")  # every line of total_eur


def plot_tariffs(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    path = Path(plots).parent / "bills.parquet"
    if not path.exists():
        return []
    bills = pd.read_parquet(path)
    if bills.empty:
        return []
    per = bills.groupby("household", sort=False)[[c for c in SHOWN if c in bills.columns]].sum()
    per = per.loc[:, (per != 0).any()]
    fig, ax = plt.subplots(figsize=(10, 0.8 + 0.22 * len(per)))
    y = np.arange(len(per))
    pos, neg = np.zeros(len(per)), np.zeros(len(per))
    for i, col in enumerate(per.columns):
        v = per[col].to_numpy()
        base = np.where(v >= 0, pos, neg)
        ax.barh(y, v, left=base, color=f"C{i % 10}", label=col.removesuffix("_eur").replace("_", " "))
        pos, neg = pos + np.maximum(v, 0), neg + np.minimum(v, 0)
    totals = bills.groupby("household", sort=False).total_eur.sum().reindex(per.index).to_numpy()
    ax.plot(totals, y, "k|", markersize=10, label="total")
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(y, per.index, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("bill over the run, by line: charges (+) and credits (−) [EUR]")
    ax.set_title("Tariff: each household's bill by line (from bills.parquet)")
    ax.legend(fontsize=7, loc="lower right")
    return [_save(fig, plots / "tariff_bills_per_household.png")]
