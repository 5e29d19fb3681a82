"""KPIs of a run, per capability, from the tidy timeseries, the decoded ledger and reads of the contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.token import UEUR_PER_EUR


def ledger_frame(events) -> pd.DataFrame:
    """Decoded contract events as a table: block, log_index, tx_hash, contract, event, args (JSON text)."""
    import json

    return pd.DataFrame({
        "block": [e.block for e in events],
        "log_index": [e.log_index for e in events],
        "tx_hash": [e.tx_hash for e in events],
        "contract": [e.contract for e in events],
        "event": [e.event for e in events],
        "args": [json.dumps(e.args, sort_keys=True) for e in events],
    })


def event_args(ledger: pd.DataFrame, contract: str, event: str) -> pd.DataFrame:
    """The arguments of one kind of event as columns, in chain order."""
    import json

    rows = ledger[(ledger.contract == contract) & (ledger.event == event)]
    return pd.DataFrame([json.loads(a) for a in rows.args], index=rows.index)


def vpp_summary(twin, ledger: pd.DataFrame) -> dict:
    c = twin.community
    settled = event_args(ledger, "VppSettlement", "PeriodSettled")
    payouts = event_args(ledger, "VppSettlement", "Payout")
    penalties = event_args(ledger, "VppSettlement", "Penalty")
    accepted = event_args(ledger, "VppSettlement", "ReadingAccepted")
    by_period_paid = payouts.groupby("period").amount_ueur.sum() if len(payouts) else pd.Series(dtype=int)
    conserved = bool(len(settled)) and all(
        by_period_paid.get(r.period, 0) == r.revenue_ueur + r.penalties_ueur for r in settled.itertuples()
    )
    members = {}
    address_to_id = {c.accounts[m]: m for m in twin.scenario.vpp_member_ids()}
    paid_by = payouts.groupby("member").amount_ueur.sum() if len(payouts) else pd.Series(dtype=int)
    pen_by = penalties.groupby("member").amount_ueur.sum() if len(penalties) else pd.Series(dtype=int)
    deliv_by = accepted.groupby("member").energy_wh.sum() if len(accepted) else pd.Series(dtype=int)
    for address, mid in address_to_id.items():
        members[mid] = {
            "share_bps": c.shares_bps[mid],
            "delivered_kwh": float(deliv_by.get(address, 0)) / 1000,
            "payouts_eur": float(paid_by.get(address, 0)) / UEUR_PER_EUR,
            "penalties_eur": float(pen_by.get(address, 0)) / UEUR_PER_EUR,
            "token_balance_eur": c.token.balance_of(address) / UEUR_PER_EUR,
            "collateral_eur": c.vpp.collateral_ueur(address) / UEUR_PER_EUR,
        }
    log = pd.DataFrame(twin.readings_log)
    vee = {"received": 0, "accepted": 0, "rejected": 0, "estimated": 0, "periods": 0, "pending": 0}
    for v in twin.vee:
        for k, n in v.counts().items():
            vee[k] += n
    rejected_rules: dict[str, int] = {}
    for v in twin.vee:
        for r in v.rejected:
            rejected_rules[r.rule] = rejected_rules.get(r.rule, 0) + 1
    return {
        "members": len(members),
        "periods": twin.n_periods,
        "periods_settled": int(len(settled)),
        "unsettled_periods": {str(k): v for k, v in twin.unsettled.items()},
        "declared_kwh": float(settled.declared_wh.sum()) / 1000 if len(settled) else 0.0,
        "delivered_kwh": float(settled.delivered_wh.sum()) / 1000 if len(settled) else 0.0,
        "revenue_eur": float(settled.revenue_ueur.sum()) / UEUR_PER_EUR if len(settled) else 0.0,
        "penalties_eur": float(settled.penalties_ueur.sum()) / UEUR_PER_EUR if len(settled) else 0.0,
        "paid_eur": float(settled.paid_ueur.sum()) / UEUR_PER_EUR if len(settled) else 0.0,
        "periods_with_penalty": int((settled.penalties_ueur > 0).sum()) if len(settled) else 0,
        "money_conserved_every_period": conserved,
        "on_chain_totals_eur": {
            "revenue": c.vpp.call("total_revenue_ueur") / UEUR_PER_EUR,
            "penalties": c.vpp.call("total_penalties_ueur") / UEUR_PER_EUR,
            "paid": c.vpp.call("total_paid_ueur") / UEUR_PER_EUR,
        },
        "readings": {
            "posted": int(len(log)),
            "accepted_on_chain": int(c.vpp.call("readings_accepted")),
            "refused_on_chain": int((log.status == "refused").sum()) if len(log) else 0,
            "estimated": int((log.quality == 1).sum()) if len(log) else 0,
        },
        "vee": {**vee, "rejected_by_rule": rejected_rules},
        "member_detail": members,
    }


def physics_summary(twin) -> dict:
    rec, dt_h = twin.recorder, twin.step_s / 3600.0
    f = rec.feeder
    balance = f["load_p_kw"] - f["sgen_p_kw"] + f["storage_p_kw"] + f["losses_kw"] - f["slack_p_kw"]
    soc = rec.prosumer["soc_kwh"]
    return {
        "steps": twin.n_steps,
        "power_flows": twin.n_steps,
        "pv_kwh": float(rec.prosumer["pv_kw"].sum() * dt_h),
        "prosumer_load_kwh": float(rec.prosumer["load_kw"].sum() * dt_h),
        "feeder_load_kwh": float(f["load_p_kw"].sum() * dt_h),
        "import_kwh": float(np.clip(f["slack_p_kw"], 0, None).sum() * dt_h),
        "export_kwh": float(np.clip(-f["slack_p_kw"], 0, None).sum() * dt_h),
        "losses_kwh": float(f["losses_kw"].sum() * dt_h),
        "energy_balance_max_abs_error_kw": float(np.abs(balance).max()),
        "vm_min_pu": float(f["vm_min_pu"].min()),
        "vm_max_pu": float(f["vm_max_pu"].max()),
        "trafo_loading_max_percent": float(f["trafo_loading_percent"].max()),
        "line_loading_max_percent": float(f["line_loading_max_percent"].max()),
        "battery_soc_min_kwh": float(soc.min()),
        "mean_clear_sky_index": float(twin.inputs.weather.clear_sky_index.mean()),
    }


def chain_summary(twin) -> dict:
    chain = twin.community.chain
    return {
        "backend": chain.backend_name,
        "evm_version": chain.evm_version,
        "chain_id": chain.chain_id,
        "transactions": chain.n_transactions,
        "gas_used": chain.gas_used,
        "events": len(chain.events),
        "contracts": {"EuroToken": twin.community.token.address, "VppSettlement": twin.community.vpp.address},
    }
