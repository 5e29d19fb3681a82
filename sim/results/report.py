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

from sim.capabilities.dsr.plots import plot_dsr  # noqa: E402
from sim.results.plotting import save as _save  # noqa: E402
from sim.capabilities.heat.plots import PLOTTERS as HEAT_PLOTTERS  # noqa: E402
from sim.results.summary import event_args  # noqa: E402
from sim.capabilities.vpp.ledger import member_flows  # noqa: E402


def plot_feeder(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    feeder = ts[ts.entity == "feeder"]
    if feeder.empty:
        return []
    feeder = feeder.pivot(index="time", columns="quantity", values="value")
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(feeder.index, feeder["slack_p_kw"], lw=0.9, label="import from upstream (slack)")
    ax.plot(feeder.index, feeder["sgen_p_kw"], lw=0.9, label="PV generation")
    ax.plot(feeder.index, feeder["load_p_kw"], lw=0.9, label="household demand")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylabel("power [kW]")
    ax.set_xlabel("time (UTC)")
    ax.set_title("Feeder power (power flow per step)")
    ax.legend(loc="upper right", fontsize=8)
    return [_save(fig, plots / "feeder_power.png")]


def plot_vpp(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    settled = event_args(ledger, "VppSettlement", "PeriodSettled")
    if settled.empty:
        return []
    settled = settled.groupby("period", as_index=False)[["declared_wh", "delivered_wh", "penalties_ueur"]].sum()
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.step(settled.period, settled.declared_wh / 1000, where="mid", label="declared")
    ax.step(settled.period, settled.delivered_wh / 1000, where="mid", label="delivered (signed readings)")
    pen = settled[settled.penalties_ueur > 0]
    ax.scatter(pen.period, pen.delivered_wh / 1000, color="C3", s=12, zorder=3, label="period with penalty")
    ax.set_xlabel("settlement period")
    ax.set_ylabel("energy [kWh]")
    ax.set_title("VPP: declared vs delivered, per period, every pool (from the ledger)")
    ax.legend(loc="upper right", fontsize=8)
    out = [_save(fig, plots / "vpp_declared_vs_delivered.png")]

    payouts, penalties, _ = member_flows(ledger)
    paid = payouts.groupby("member").amount_ueur.sum() / 1e6
    pen = pd.Series(0.0, index=paid.index)
    if len(penalties):
        pen = (penalties.groupby("member").amount_ueur.sum() / 1e6).reindex(paid.index, fill_value=0.0)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    labels = [m[:8] for m in paid.index]
    ax.bar(labels, paid.to_numpy(), label="payouts")
    ax.bar(labels, -pen.to_numpy(), color="C3", label="penalties")
    ax.set_ylabel("EUR")
    ax.set_title("VPP: payouts and penalties per member (from the ledger)")
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.legend(fontsize=8)
    out.append(_save(fig, plots / "vpp_payouts_per_member.png"))
    return out


def plot_certificates(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    caps = event_args(ledger, "Certificates", "CapPosted")
    if caps.empty:
        return []
    from sim.capabilities.certificates.ledger import consumer_scores, site_totals

    issued = event_args(ledger, "Certificates", "Issued")
    sites = site_totals(ledger)
    fig, axes = plt.subplots(len(sites), 1, figsize=(10, 1.6 * len(sites) + 0.8), sharex=True, squeeze=False)
    for ax, (name, device_id) in zip(axes[:, 0], sites.device_id.items()):
        c = caps[caps.device_id == device_id].sort_values("period")
        m = issued[issued.device_id == device_id] if len(issued) else issued
        ax.step(c.period, c.cap_wh / 1000, where="post", lw=0.8, color="k", label="weather cap (oracle)")
        if len(m):
            ax.bar(m.period + 0.5, m.amount_wh / 1000, width=1.0, color="C2", label="minted")
        ax.set_ylabel(f"{name}\n[kWh]", fontsize=8)
    axes[0, 0].legend(loc="upper right", fontsize=8)
    axes[-1, 0].set_xlabel("interval (hours from the start of the run)")
    fig.suptitle("Certificates minted vs the weather cap, per site and interval (from the ledger)")
    out = [_save(fig, plots / "certificates_minted_vs_cap.png")]

    used = event_args(ledger, "Certificates", "ConsumptionRecorded")
    retired = event_args(ledger, "Certificates", "Retired")
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(used.groupby("period").energy_wh.sum() / 1000, lw=0.9, color="k", label="consumption (metered)")
    ax.plot(issued.groupby("period").amount_wh.sum() / 1000 if len(issued) else [], lw=0.9, color="C2",
            label="certificates minted")
    if len(retired):
        ax.fill_between(*zip(*sorted((retired.groupby("consumption_interval").amount_wh.sum() / 1000).items())),
                        step="mid", alpha=0.4, color="C1", label="retired against the same hour")
    ax.set_xlabel("interval (hours from the start of the run)")
    ax.set_ylabel("energy [kWh]")
    ax.set_title("24/7 matching: hourly consumption, certificates and claims (from the ledger)")
    ax.legend(loc="upper right", fontsize=8)
    out.append(_save(fig, plots / "certificates_hourly_matching.png"))

    scores = consumer_scores(ledger)
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.bar(scores.index, scores.hourly_cfe_score * 100, color="C1", label="hourly CFE score (24/7)")
    ax.axhline(scores.annual_matching_score.iloc[0] * 100, color="k", ls="--", lw=1,
               label="annual (volumetric) matching")
    ax.set_ylabel("matched share of consumption [%]")
    ax.set_ylim(0, 105)
    ax.tick_params(axis="x", rotation=90, labelsize=7)
    ax.set_title("Carbon-free energy score per consumer: hourly vs annual matching (from the ledger)")
    ax.legend(loc="lower right", fontsize=8)
    out.append(_save(fig, plots / "certificates_cfe_per_consumer.png"))
    return out


# Each plotter draws from the folder's tables what it finds there and returns the files it wrote.
PLOTTERS = [plot_feeder, plot_vpp, plot_certificates, plot_dsr, *HEAT_PLOTTERS]


def make_plots(folder: Path) -> list[Path]:
    """Write ``plots/*.png`` for the run in ``folder``; returns their paths."""
    folder = Path(folder)
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    ts = pd.read_parquet(folder / "timeseries.parquet")
    ledger = pd.read_parquet(folder / "ledger.parquet")
    return [path for plotter in PLOTTERS for path in plotter(ts, ledger, plots)]


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


def plot_insurance(ts: pd.DataFrame, ledger: pd.DataFrame, plots: Path) -> list[Path]:
    solvency = event_args(ledger, "MutualInsurance", "Solvency")
    if solvency.empty:
        return []
    fig, ax = plt.subplots(figsize=(10, 3.6))
    ax.plot(solvency.period, solvency.pool_ueur / 1e6, label="pool")
    ax.plot(solvency.period, solvency.owed_ueur / 1e6, label="queued claims (owed)")
    ax.set_xlabel("period")
    ax.set_ylabel("EUR")
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
    ax.set_xticks(list(x), [m[:8] for m in premiums.index], rotation=90, fontsize=7)
    ax.set_ylabel("EUR")
    ax.set_title("Mutual insurance: premiums and claims per producer")
    ax.legend(fontsize=8)
    out.append(_save(fig, plots / "insurance_per_producer.png"))
    return out


PLOTTERS.append(plot_insurance)
