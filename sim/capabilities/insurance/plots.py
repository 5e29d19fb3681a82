"""The mutual insurance's plots, drawn from a results folder's ledger alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results.headline import Figure, Section  # noqa: E402
from sim.results.plotting import info_for, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.results.summary import event_args  # noqa: E402


def plot_insurance(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    solvency = event_args(ledger, "MutualInsurance", "Solvency")
    if solvency.empty:
        return []
    info = info_for(plots)
    t = info.period_time(solvency.period)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(t, solvency.pool_ueur / 1e6, label="pool")
    ax.plot(t, solvency.owed_ueur / 1e6, label="queued claims (owed)")
    time_axis(ax, info)
    ax.set_ylabel("money [EUR]")
    ax.set_title("Mutual insurance: pool and queued claims (from the ledger)")
    ax.legend(fontsize=8)
    out = [_save(fig, plots / "insurance_pool.png")]
    premiums = event_args(ledger, "MutualInsurance", "PremiumPaid").groupby("member").amount_ueur.sum() / 1e6
    claims = event_args(ledger, "MutualInsurance", "ClaimPaid")
    paid = (claims.groupby("member").amount_ueur.sum() / 1e6 if len(claims) else pd.Series(dtype=float)) \
        .reindex(premiums.index, fill_value=0.0)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = range(len(premiums))
    ax.bar([i - 0.2 for i in x], premiums.to_numpy(), width=0.4, label="premiums")
    ax.bar([i + 0.2 for i in x], paid.to_numpy(), width=0.4, label="claims (due)")
    ax.set_xticks(list(x), [info.name(m) for m in premiums.index], rotation=90, fontsize=7)
    ax.set_ylabel("money [EUR]")
    ax.set_title("Mutual insurance: premiums and claims per producer")
    ax.legend(fontsize=8)
    out.append(_save(fig, plots / "insurance_per_producer.png"))
    return out


def report_section(summary: dict) -> Section:
    """The mutual insurance's headline figures for the run report."""
    return Section(
        title="Mutual generation insurance",
        lead=f"{summary.get('members', 'The')} producers pay premiums into a mutual pool ({summary.get('variant', '')} "
             "variant) and are paid claims for lost generation; claims the pool cannot pay are queued.",
        figures=(
            Figure("premiums_eur", "premiums paid in"),
            Figure("payouts_eur", "claims paid out"),
            Figure("claims_paid", "claims paid"),
            Figure("claims_queued", "claims queued (pool short)"),
            Figure("owed_eur", "owed on queued claims"),
            Figure("pool_eur", "pool at the end"),
            Figure("solvency_ratio_min", "lowest solvency ratio"),
            Figure("loss_ratio", "loss ratio (paid / premiums)"),
            Figure("pool_never_negative", "pool never negative"),
        ),
        tables={"member_detail": "Producers"},
    )
