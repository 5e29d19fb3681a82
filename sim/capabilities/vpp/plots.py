"""The VPP's plots, drawn from a results folder's ledger alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sim.capabilities.vpp.ledger import member_flows  # noqa: E402
from sim.results.headline import Figure, Section  # noqa: E402
from sim.results.plotting import info_for, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.results.summary import event_args  # noqa: E402


def plot_vpp(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    settled = event_args(ledger, "VppSettlement", "PeriodSettled")
    if settled.empty:
        return []
    info = info_for(plots)
    settled = settled.groupby("period", as_index=False)[["declared_wh", "delivered_wh", "penalties_ueur"]].sum()
    t = info.period_time(settled.period)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.step(t, settled.declared_wh / 1000, where="post", label="declared")
    ax.step(t, settled.delivered_wh / 1000, where="post", label="delivered (signed readings)")
    pen = settled.penalties_ueur.to_numpy() > 0
    ax.scatter(t[pen], settled.delivered_wh[pen] / 1000, color="C3", s=12, zorder=3, label="period with penalty")
    time_axis(ax, info)
    ax.set_ylabel(f"energy per {info.settlement_s // 60}-min period [kWh]")
    ax.set_title("VPP: declared vs delivered, per period, every pool (from the ledger)")
    ax.legend(loc="upper right", fontsize=8)
    out = [_save(fig, plots / "vpp_declared_vs_delivered.png")]

    payouts, penalties, _ = member_flows(ledger)
    paid = payouts.groupby("member").amount_ueur.sum() / 1e6
    pen = pd.Series(0.0, index=paid.index)
    if len(penalties):
        pen = (penalties.groupby("member").amount_ueur.sum() / 1e6).reindex(paid.index, fill_value=0.0)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    labels = [info.name(m) for m in paid.index]
    ax.bar(labels, paid.to_numpy(), label="payouts")
    ax.bar(labels, -pen.to_numpy(), color="C3", label="penalties")
    ax.set_ylabel("payout (+) / penalty (−) [EUR]")
    ax.set_title("VPP: payouts and penalties per member (from the ledger)")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.legend(fontsize=8)
    out.append(_save(fig, plots / "vpp_payouts_per_member.png"))
    return out


def report_section(summary: dict) -> Section:
    """The VPP's headline figures for the run report."""
    return Section(
        title="VPP accountancy",
        lead=f"{summary.get('members', 'The')} prosumers sell as one virtual power plant: the operator declares "
             "energy per settlement period, signed meter readings say what was delivered, the contract pays the "
             "revenue and charges penalties for shortfall beyond the tolerance, shared among members by their "
             "shares.",
        figures=(
            Figure("declared_kwh", "declared to the energy buyer"),
            Figure("delivered_kwh", "delivered (signed meter readings)"),
            Figure("revenue_eur", "revenue from the energy buyer"),
            Figure("penalties_eur", "penalties for shortfall"),
            Figure("paid_eur", "paid out to members"),
            Figure("periods_with_penalty", "settlement periods with a penalty", of="periods_settled"),
            Figure("members", "members"),
            Figure("money_conserved_every_period", "money conserved in every period"),
        ),
        tables={"member_detail": "Members", "pools": "Pools"},
    )
