"""Micro-DSR plots, from a results folder's tables alone: transformer loading (with the DSR-off baseline when
the folder holds one), delay minutes and tokens per customer."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from sim.capabilities.dsr.audit import customer_totals, rebuild
from sim.results.headline import Figure, Section
from sim.results.plotting import info_for, time_axis
from sim.results.plotting import save as _save


def plot_dsr(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    dsr = ts[ts.entity == "dsr"]
    if dsr.empty:
        return []
    feeder = ts[(ts.entity == "feeder") & (ts.quantity == "trafo_loading_percent")].set_index("time").value
    base = ts[(ts.entity == "dsr") & (ts.quantity == "trafo_loading_no_dsr_percent")]
    info = info_for(plots)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    if len(base):
        ax.plot(info.local(base.time), base.value, lw=0.7, color="C3", label="without DSR (same appliances never held, "
                                                                 "first-order estimate)")
    ax.plot(info.local(feeder.index), feeder.to_numpy(), lw=0.7, color="C0", label="this run")
    rb = rebuild(ledger)
    events = rb.events
    thr = dsr[dsr.quantity == "threshold_trafo_percent"].value
    if len(thr):
        ax.axhline(float(thr.iloc[0]), color="k", lw=0.8, ls="--", label="DR threshold")
    ax.set_ylabel("transformer loading [%]")
    time_axis(ax, info)
    ax.set_title(f"Transformer loading; {len(events)} DR events opened on chain")
    ax.legend(loc="upper right", fontsize=8)
    out = [_save(fig, plots / "dsr_transformer_loading.png")]

    tot = customer_totals(rb)
    if tot.empty:
        return out
    tot = tot.sort_values("delay_min", ascending=False)
    labels = [info.name(c) for c in tot.index]
    fig, ax1 = plt.subplots(figsize=(10, 3.6))
    ax1.bar(labels, tot.delay_min.to_numpy(), color="C0")
    ax1.set_ylabel("appliance delay [min]", color="C0")
    ax2 = ax1.twinx()
    ax2.plot(labels, tot.tokens.to_numpy() / 1000, "o", ms=3, color="C1")
    ax2.set_ylabel("flex tokens [tokens]", color="C1")
    ax1.tick_params(axis="x", rotation=90, labelsize=6)
    ax1.set_title("Delay minutes and tokens per customer (rebuilt from the ledger)")
    out.append(_save(fig, plots / "dsr_delay_minutes_and_tokens.png"))
    return out


def report_section(summary: dict) -> Section:
    """Micro-DSR's headline figures for the run report."""
    return Section(
        title="Micro demand response",
        lead=f"Smart outlets in {summary.get('households', 'the')} households delay appliances when the "
             "transformer or a line is loaded above its threshold (a DR event opened on chain); each delay is "
             "logged and rewarded with flex tokens, within the limits each household set.",
        figures=(
            Figure("dr_events", "DR events opened"),
            Figure("delays", "appliance delays"),
            Figure("delay_min", "delay, in total"),
            Figure("shifted_kwh", "energy shifted"),
            Figure("jain_index_delay_min", "fairness of delays (Jain index, 1 = equal)"),
            Figure("late_jobs", "jobs finished late"),
            Figure("minutes_above_threshold", "minutes above the threshold"),
            Figure("estimated_without_dsr.minutes_above_threshold", "minutes above it without DSR (estimate)"),
            Figure("trafo_loading_max_percent", "peak transformer loading"),
        ),
        tables={"on_chain.customers": "Households (from the chain)"},
    )
