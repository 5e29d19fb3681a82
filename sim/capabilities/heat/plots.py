"""Plots of the district-heat capability, drawn from a results folder's files alone (timeseries, ledger and —
for the tariff comparison, which is not a contract event — summary.json)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.results.headline import Figure, Section  # noqa: E402
from sim.results.plotting import info_for, time_axis  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.results.summary import event_args  # noqa: E402

NETWORK = "heat-network"


def _network(ts: pd.DataFrame) -> pd.DataFrame | None:
    net = ts[ts.entity == NETWORK]
    if net.empty:
        return None
    return net.pivot(index="time", columns="quantity", values="value")


def plot_heat_network(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    net = _network(ts)
    if net is None:
        return []
    info = info_for(plots)
    net.index = info.local(net.index)
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    ax1.plot(net.index, net["t_return_plant_c"], lw=0.9, color="C3", label="return temperature at the plant")
    ax1.set_ylabel("temperature [°C]")
    ax1b = ax1.twinx()
    ax1b.plot(net.index, net["mean_delta_t_k"], lw=0.9, color="C0", label="network mean ΔT (flow-weighted)")
    ax1b.plot(net.index, net["reference_delta_t_k"], lw=0.8, ls="--", color="C0", alpha=0.6,
              label="mean reference ΔT")
    ax1b.set_ylabel("ΔT [K]")
    lines = ax1.get_legend_handles_labels()[0] + ax1b.get_legend_handles_labels()[0]
    ax1.legend(lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=8)
    ax1.set_title("District heat: return temperature and cooling (pipe flow per step)")
    ax2.plot(net.index, net["pipe_loss_kw"], lw=0.9, color="C1", label="pipe heat loss")
    ax2.set_ylabel("heat loss [kW]")
    ax2b = ax2.twinx()
    ax2b.plot(net.index, net["pump_electric_kw"], lw=0.9, color="C2", label="pump electricity")
    ax2b.set_ylabel("pumping [kW]")
    lines = ax2.get_legend_handles_labels()[0] + ax2b.get_legend_handles_labels()[0]
    ax2.legend(lines, [ln.get_label() for ln in lines], loc="upper right", fontsize=8)
    time_axis(ax2, info)
    ax2.set_title("Heat loss and pumping energy")
    return [_save(fig, plots / "heat_network.png")]


def plot_heat_tokens(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    accepted = event_args(ledger, "HeatEfficiency", "ReadingAccepted")
    if accepted.empty:
        return []
    consumers = list(dict.fromkeys(accepted.consumer))
    tokens = accepted.groupby("consumer").tokens.sum().reindex(consumers, fill_value=0) / 1000
    bonus = event_args(ledger, "HeatEfficiency", "BonusPaid")
    paid = (bonus.groupby("consumer").amount_ueur.sum() / 1e6 if len(bonus) else pd.Series(dtype=float))
    paid = paid.reindex(consumers, fill_value=0.0)
    labels = _labels(plots, consumers)
    fig, ax = plt.subplots(figsize=(10, 3.8))
    x = np.arange(len(consumers))
    ax.bar(x - 0.2, tokens.to_numpy(), width=0.4, label="tokens [m³·K above reference]")
    ax.set_ylabel("tokens [m³·K]")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, paid.to_numpy(), width=0.4, color="C2", label="bonus received [EUR]")
    ax2.set_ylabel("bonus [EUR]")
    ax.set_xticks(x, labels, rotation=90, fontsize=7)
    lines = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(lines, [ln.get_label() for ln in lines], fontsize=8, loc="upper left")
    ax.set_title("ΔT degree-hour tokens and bonus per consumer (from the ledger)")
    return [_save(fig, plots / "heat_tokens_bonus.png")]


def _heat(plots: Path) -> dict:
    path = plots.parent / "summary.json"
    return json.loads(path.read_text()).get("heat", {}) if path.exists() else {}


def _detail(plots: Path) -> dict | None:
    return _heat(plots).get("consumer_detail")


def _labels(plots: Path, accounts: list[str]) -> list[str]:
    """Building ids for consumer accounts, as summary.json names them (else shortened addresses)."""
    names = {d["account"]: name for name, d in (_detail(plots) or {}).items()}
    info = info_for(plots)
    return [names.get(a, info.name(a)) for a in accounts]


def plot_heat_tariffs(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    heat = _heat(plots)
    detail = heat.get("consumer_detail")
    if not detail:
        return []
    preset = heat.get("motivation_tariff", {}).get("preset")
    frame = pd.DataFrame(detail).T
    fig, ax = plt.subplots(figsize=(10, 3.8))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame.bonus_eur.astype(float), width=0.4, color="C2", label="token bonus received")
    ax.bar(x + 0.2, -frame.motivation_tariff_eur.astype(float), width=0.4, color="C4",
           label=f"motivation tariff{f' ({preset})' if preset else ''}: rebate (+) / surcharge (−)")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xticks(x, frame.index, rotation=90, fontsize=7)
    ax.set_ylabel("EUR to the consumer")
    ax.set_title("Two designs on the same readings: efficiency-token bonus vs Danish motivation tariff")
    ax.legend(fontsize=8)
    return [_save(fig, plots / "heat_tariff_comparison.png")]


def plot_heat(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    """Every district-heating plot this folder has data for."""
    return [p for plot in (plot_heat_network, plot_heat_tokens, plot_heat_tariffs) for p in plot(ts, ledger, plots)]


def report_section(summary: dict) -> Section:
    """District heat's headline figures for the run report."""
    preset = summary.get("motivation_tariff", {}).get("preset")
    return Section(
        title="District-heat efficiency tokens",
        lead=f"{summary.get('consumers', 'The')} buildings on the heat network earn tokens for cooling the water "
             "below their reference return temperature (ΔT above reference, in m³·K), paid as a bonus from the "
             "pool of what the utility saves; the Danish motivation tariff"
             f"{f' ({preset})' if preset else ''} is computed on the same readings for comparison.",
        figures=(
            Figure("consumers", "buildings"),
            Figure("tokens_total", "efficiency tokens minted [m³·K]"),
            Figure("bonus_paid_eur", "bonus paid to consumers"),
            Figure("benefit_measured_eur", "saving measured by the utility"),
            Figure("loss_avoided_kwh", "pipe heat loss avoided"),
            Figure("pumping_avoided_kwh", "pumping electricity avoided"),
            Figure("motivation_tariff.surcharges_eur", "motivation tariff: surcharges"),
            Figure("motivation_tariff.rebates_eur", "motivation tariff: rebates"),
            Figure("reactions.fixes", "faults fixed by owners"),
        ),
        tables={"consumer_detail": "Buildings", "per_mwh_by_group": "Per MWh, by initial state and behaviour"},
    )
