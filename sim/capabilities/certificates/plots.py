"""The certificates' plots, drawn from a results folder's ledger alone."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.capabilities.certificates.ledger import consumer_scores, site_totals  # noqa: E402
from sim.results.headline import Figure, Section  # noqa: E402
from sim.results.plotting import info_for, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.results.summary import event_args  # noqa: E402


def plot_certificates(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    caps = event_args(ledger, "Certificates", "CapPosted")
    if caps.empty:
        return []
    info = info_for(plots)
    period = f"{info.settlement_s // 60}-min interval"
    issued = event_args(ledger, "Certificates", "Issued")
    sites = site_totals(ledger)
    fig, axes = plt.subplots(len(sites), 1, figsize=(10, 1.6 * len(sites) + 0.8), sharex=True, squeeze=False)
    for ax, (name, device_id) in zip(axes[:, 0], sites.device_id.items()):
        c = caps[caps.device_id == device_id].sort_values("period")
        m = issued[issued.device_id == device_id] if len(issued) else issued
        ax.step(info.period_time(c.period), c.cap_wh / 1000, where="post", lw=0.8, color="k",
                label="weather cap (oracle)")
        if len(m):  # one step area, not a bar per interval (a year of bars is ~20 000 patches to draw)
            k = np.arange(c.period.min(), c.period.max() + 1)
            wh = m.groupby("period").amount_wh.sum().reindex(k, fill_value=0).to_numpy() / 1000
            ax.fill_between(info.period_time(np.append(k, k[-1] + 1)), np.append(wh, wh[-1]), step="post", lw=0,
                            color="C2", label="minted")
        ax.set_ylabel(f"{name}\n[kWh]", fontsize=8)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    time_axis(axes[-1, 0], info)
    fig.suptitle(f"Certificates minted vs the weather cap, per site and {period} [kWh] (from the ledger)")
    out = [_save(fig, plots / "certificates_minted_vs_cap.png")]

    used = event_args(ledger, "Certificates", "ConsumptionRecorded")
    retired = event_args(ledger, "Certificates", "Retired")
    fig, ax = plt.subplots(figsize=(10, 3.6))
    consumed = used.groupby("period").energy_wh.sum() / 1000
    ax.step(info.period_time(consumed.index), consumed.to_numpy(), where="post", lw=0.9, color="k",
            label="consumption (metered)")
    if len(issued):
        minted = issued.groupby("period").amount_wh.sum() / 1000
        ax.step(info.period_time(minted.index), minted.to_numpy(), where="post", lw=0.9, color="C2",
                label="certificates minted")
    if len(retired):
        claimed = retired.groupby("consumption_interval").amount_wh.sum().sort_index() / 1000
        ax.fill_between(info.period_time(claimed.index), claimed.to_numpy(), step="post", alpha=0.4, color="C1",
                        label="retired against the same interval")
    time_axis(ax, info)
    ax.set_ylabel(f"energy per {period} [kWh]")
    ax.set_title(f"24/7 matching per {period}: consumption, certificates and claims (from the ledger)")
    ax.legend(loc="upper right", fontsize=8)
    out.append(_save(fig, plots / "certificates_hourly_matching.png"))

    scores = consumer_scores(ledger)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.bar(scores.index, scores.hourly_cfe_score * 100, color="C1", label=f"24/7 CFE score (matched per {period})")
    ax.axhline(scores.annual_matching_score.iloc[0] * 100, color="k", ls="--", lw=1,
               label="annual (volumetric) matching")
    ax.set_ylabel("matched share of consumption [%]")
    ax.set_ylim(0, 105)
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.set_title(f"Carbon-free energy score per consumer: per-{period} vs annual matching (from the ledger)")
    ax.legend(loc="lower right", fontsize=8)
    out.append(_save(fig, plots / "certificates_cfe_per_consumer.png"))
    return out


def report_section(summary: dict) -> Section:
    """The certificates' headline figures for the run report."""
    return Section(
        title="Source certificates (24/7 matching)",
        lead=f"{summary.get('sites', 'The')} generation sites are issued certificates per interval for metered "
             "output under the weather oracle's cap; "
             f"{summary.get('consumers', 'the')} consumers retire them against their own consumption of the same "
             "interval (24/7 matching), compared with annual volumetric matching.",
        figures=(
            Figure("minted_kwh", "certificates minted"),
            Figure("retired_kwh", "retired against consumption"),
            Figure("consumed_kwh", "consumption (signed readings)"),
            Figure("hourly_cfe_score", "24/7 matching score (same interval)"),
            Figure("annual_matching_score", "annual (volumetric) matching score"),
            Figure("live_kwh", "certificates still live (not retired)"),
            Figure("double_counting_violations", "double counting found"),
            Figure("ledger_matches_contract", "ledger matches the contract"),
        ),
        tables={"consumer_detail": "Consumers", "site_detail": "Generation sites"},
    )
