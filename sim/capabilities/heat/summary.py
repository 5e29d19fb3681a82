"""District heat results: per-step records (tidy), and the KPIs — physics, tokens and bonus read back from the
chain, the motivation tariff from the same on-chain totals, reactions, and per-consumer detail."""

from __future__ import annotations

import numpy as np
import pandas as pd

from contracts.token import UEUR_PER_EUR
from grid_models.substation import STATES
from sim.results.summary import event_args
from sim.results.tables import Series

NETWORK_ENTITY = "heat-network"
NETWORK_QUANTITIES = {
    "t_supply_plant_c": "degC", "t_return_plant_c": "degC", "mean_delta_t_k": "K", "reference_delta_t_k": "K",
    "source_heat_kw": "kW", "consumer_heat_kw": "kW", "pipe_loss_kw": "kW", "pump_electric_kw": "kW",
    "pump_mdot_kg_per_s": "kg/s", "balance_error_w": "W", "benefit_eur": "EUR",
}
CONSUMER_QUANTITIES = {
    "heat_kw": "kW", "demand_kw": "kW", "mdot_kg_per_s": "kg/s", "t_supply_c": "degC", "t_return_c": "degC",
    "reference_delta_t_k": "K", "state": "1",
}
TOKEN_UNITS_PER_M3K = 1000  # one token unit is one l*K


class HeatRecorder:
    """Preallocated per-step arrays of the heat network and its consumers."""

    def __init__(self, n_steps: int, n_consumers: int):
        self.network = {q: np.full(n_steps, np.nan) for q in NETWORK_QUANTITIES}
        self.consumer = {q: np.full((n_steps, n_consumers), np.nan) for q in CONSUMER_QUANTITIES}

    def record(self, k: int, flow, states: np.ndarray, benefit_eur: float, reference_k: np.ndarray) -> None:
        n, c = self.network, self.consumer
        for q, v in (("t_supply_plant_c", flow.t_supply_plant_c), ("t_return_plant_c", flow.t_return_plant_c),
                     ("mean_delta_t_k", flow.mean_delta_t_k), ("reference_delta_t_k", float(np.mean(reference_k))),
                     ("source_heat_kw", flow.source_heat_w / 1000), ("pipe_loss_kw", flow.pipe_loss_w / 1000),
                     ("consumer_heat_kw", flow.consumer_heat_total_w / 1000),
                     ("pump_electric_kw", flow.pump_electric_w / 1000), ("pump_mdot_kg_per_s", flow.pump_mdot_kg_per_s),
                     ("balance_error_w", flow.balance_error_w), ("benefit_eur", benefit_eur)):
            n[q][k] = v
        for q, v in (("heat_kw", flow.consumer_heat_w / 1000), ("demand_kw", flow.demand_heat_w / 1000),
                     ("mdot_kg_per_s", flow.mdot_kg_per_s), ("t_supply_c", flow.t_supply_c),
                     ("t_return_c", flow.t_return_c), ("reference_delta_t_k", reference_k), ("state", states)):
            c[q][k] = v

    def series(self, times: pd.DatetimeIndex, ids: list[str]) -> list[Series]:
        """The recorded series for ``timeseries.parquet`` (arrays, never one frame): the network's quantities,
        then each consumer quantity for every consumer (``ids``) at every step."""
        t_utc = times.tz_convert("UTC")
        return ([Series(t_utc, (NETWORK_ENTITY,), q, unit, self.network[q]) for q, unit in NETWORK_QUANTITIES.items()]
                + [Series(t_utc, tuple(ids), q, unit, self.consumer[q]) for q, unit in CONSUMER_QUANTITIES.items()])


def _physics(cap) -> dict:
    n, dt_h = cap.recorder.network, cap.ctx.clock.step_s / 3600
    c = cap.recorder.consumer
    rel = np.abs(c["heat_kw"] - c["demand_kw"]) / np.maximum(c["demand_kw"], 1e-9)
    source = float(np.nansum(n["source_heat_kw"]) * dt_h)
    loss = float(np.nansum(n["pipe_loss_kw"]) * dt_h)
    mdot = n["pump_mdot_kg_per_s"]
    return {
        "pipe_flows": cap.pipe_flows,
        "counterfactual_pipe_flows": cap.operator.counterfactual_flows,
        "pipe_flow_retries": cap.network.n_retries + cap.operator.model_retries,
        "pipe_flow_solver": cap.spec.network.solver,
        "pipe_flows_on_pandapipes": (cap.network.n_fallbacks + cap.operator.model_fallbacks
                                     if cap.spec.network.solver == "fast"
                                     else cap.pipe_flows + cap.operator.counterfactual_flows),
        "source_heat_mwh": source / 1000,
        "consumer_heat_mwh": float(np.nansum(n["consumer_heat_kw"]) * dt_h) / 1000,
        "pipe_loss_mwh": loss / 1000,
        "loss_share_percent": 100 * loss / source if source else 0.0,
        "pump_electric_kwh": float(np.nansum(n["pump_electric_kw"]) * dt_h),
        "mean_return_plant_c": float(np.nansum(mdot * n["t_return_plant_c"]) / np.nansum(mdot)),
        "mean_delta_t_k": float(np.nanmean(n["mean_delta_t_k"])),
        "balance_max_abs_error_w": float(np.nanmax(np.abs(n["balance_error_w"]))),
        "balance_max_rel_error": float(np.nanmax(np.abs(n["balance_error_w"]) / n["source_heat_kw"] / 1000)),
        "consumer_heat_max_rel_error": float(np.nanmax(rel)),
    }


def _per_mwh_by_group(frame: pd.DataFrame) -> dict:
    """Tokens, bonus and motivation-tariff adjustment per MWh delivered, by initial state and whether the owner
    reacts or fixed: how each design treats well-working owners who never react, fixers, and the faulty. None for a
    group whose meters registered no heat (a tiny demand over a short run): per MWh is undefined, not NaN."""
    f = frame.assign(group=[f"{s}/{'fixed' if fx else ('responsive' if r else 'never reacts')}"
                            for s, r, fx in zip(frame.initial_state, frame.responsive, frame.fixed_at)])
    out = {}
    for g, rows in f.groupby("group"):
        mwh = rows.heat_mwh.astype(float).sum()
        out[g] = {"consumers": int(len(rows))} | {
            f"{col}_per_mwh": float(rows[col].astype(float).sum() / mwh) if mwh > 0 else None  # None: no heat metered
            for col in ("tokens", "bonus_eur", "motivation_tariff_eur")}
    return out


def _month_expected_c(cap, accepted: pd.DataFrame) -> dict[str, float]:
    """A month-basis tariff's expected return per consumer account over the run [degC]: the monthly expected
    returns weighted by the volume each accepted reading carried in its month (Σ V·T_exp,month / Σ V, as the
    return is T_r = Σ V·T_r / Σ V). Months are local calendar months of each period's start."""
    if not len(accepted):
        return {}
    spp, times = cap.ctx.clock.steps_per_period, cap.ctx.inputs.times
    months = np.array([times[p * spp].month for p in range(cap.ctx.clock.n_periods)])
    v = accepted.volume_ml.astype(float).to_numpy()
    t_exp = cap.tariff_rule.expected_return_c(month=months[accepted.period.astype(int).to_numpy()])
    sums = pd.DataFrame({"consumer": accepted.consumer.to_numpy(), "v": v, "vt": v * t_exp}).groupby("consumer").sum()
    return {a: float(r.vt / r.v) for a, r in sums.iterrows() if r.v > 0}


def heat_summary(cap, ledger: pd.DataFrame) -> dict:
    """KPIs of the heat capability; tokens, money and totals are read from the contracts and the ledger."""
    scheme, spec = cap.scheme, cap.spec
    settled = event_args(ledger, "HeatEfficiency", "PeriodSettled")
    bonus = event_args(ledger, "HeatEfficiency", "BonusPaid")
    accepted = event_args(ledger, "HeatEfficiency", "ReadingAccepted")
    paid_by_period = bonus.groupby("period").amount_ueur.sum() if len(bonus) else pd.Series(dtype=int)
    bonus_conserved = bool(len(settled)) and all(
        paid_by_period.get(r.period, 0) == r.pool_ueur == r.paid_ueur for r in settled.itertuples())
    tokens_by = accepted.groupby("consumer").tokens.sum() if len(accepted) else pd.Series(dtype=int)
    bonus_by = bonus.groupby("consumer").amount_ueur.sum() if len(bonus) else pd.Series(dtype=int)
    balances = {c.name: scheme.balance_of(c.account) for c in cap.consumers}
    price = spec.prices.heat_eur_per_mwh
    rule = cap.tariff_rule
    by_month = _month_expected_c(cap, accepted) if rule.basis == "month" else {}
    detail = {}
    for c in cap.consumers:
        totals = scheme.totals(c.account)
        if rule.basis == "month":
            expected = by_month.get(c.account, float("nan"))
        else:
            expected = float(rule.expected_return_c(totals.t_supply_c)) if totals.volume_ml else float("nan")
        tariff = rule.adjustment(totals.heat_wh / 1e6, price, totals.t_return_c, expected)
        detail[c.name] = {
            "account": c.account, "initial_state": STATES[c.initial_state], "final_state": c.state_name,
            "responsive": c.responsive,
            "fixed_at": (str(cap.ctx.inputs.times[c.fixed_at_step]) if c.fixed_at_step is not None
                         and c.fixed_at_step < cap.ctx.clock.n_steps else None),
            "heat_mwh": totals.heat_wh / 1e6, "volume_m3": totals.volume_ml / 1e6,
            "t_supply_c": totals.t_supply_c, "t_return_c": totals.t_return_c, "delta_t_k": totals.delta_t_k,
            "tokens": balances[c.name] / TOKEN_UNITS_PER_M3K,
            "bonus_eur": float(bonus_by.get(c.account, 0)) / UEUR_PER_EUR,
            "bonus_token_balance_eur": cap.ctx.bank.token.balance_of(c.account) / UEUR_PER_EUR,
            "expected_return_c": expected,
            "motivation_tariff_counted_c": tariff.counted_c,
            "motivation_tariff_percent": tariff.adjustment_percent,
            "motivation_tariff_eur": tariff.adjustment_eur,
        }
    frame = pd.DataFrame(detail).T
    gains = [d["expected_gain_eur_per_year"] for c in cap.consumers for d in c.decisions]
    log = cap.readings_log.frame()
    posted = log  # what went on chain: VEE rejections are in the measurement layer's rows, not here
    vee = {"received": 0, "accepted": 0, "rejected": 0, "estimated": 0, "periods": 0, "pending": 0}
    for v in cap.vee:
        for k, x in v.counts().items():
            vee[k] += x
    return {
        "consumers": len(cap.consumers),
        "periods": cap.ctx.clock.n_periods,
        "periods_settled": int(len(settled)),
        "unsettled_periods": {str(k): v for k, v in cap.unsettled.items()},
        "physics": _physics(cap),
        "tokens_total": scheme.total_supply() / TOKEN_UNITS_PER_M3K,
        "tokens_sum_of_balances": sum(balances.values()) / TOKEN_UNITS_PER_M3K,
        "tokens_conserved": scheme.total_supply() == sum(balances.values()) == int(tokens_by.sum()),
        "benefit_measured_eur": float(sum(cap.operator.benefit_eur.values())),
        "loss_avoided_kwh": float(sum(cap.operator.loss_saved_wh.values())) / 1000,
        "pumping_avoided_kwh": float(sum(cap.operator.pump_saved_wh.values())) / 1000,
        "pool_deposited_eur": float(settled.pool_ueur.sum()) / UEUR_PER_EUR if len(settled) else 0.0,
        "bonus_paid_eur": float(settled.paid_ueur.sum()) / UEUR_PER_EUR if len(settled) else 0.0,
        "bonus_conserved_every_period": bonus_conserved,
        "on_chain_totals_eur": {"pool": scheme.call("total_pool_ueur") / UEUR_PER_EUR,
                                "paid": scheme.call("total_paid_ueur") / UEUR_PER_EUR},
        "motivation_tariff": {
            "preset": spec.tariff.preset,
            "surcharges_eur": float(frame.motivation_tariff_eur.clip(lower=0).sum()),
            "rebates_eur": float(-frame.motivation_tariff_eur.clip(upper=0).sum()),
            "consumers_surcharged": int((frame.motivation_tariff_eur > 0).sum()),
            "consumers_rebated": int((frame.motivation_tariff_eur < 0).sum()),
        },
        "reactions": {
            "fixes": int(sum(c.fixed_at_step is not None for c in cap.consumers)),
            "responsive": int(sum(c.responsive for c in cap.consumers)),
            "faulty_at_start": int(sum(c.initial_state != 0 for c in cap.consumers)),
            "faulty_at_end": int(sum(c.state != 0 for c in cap.consumers)),
            "decisions": int(sum(len(c.decisions) for c in cap.consumers)),
            "median_expected_gain_eur_per_year": float(np.median(gains)) if gains else 0.0,
        },
        "readings": {
            "posted": int(len(posted)),
            "accepted_on_chain": int(scheme.call("readings_accepted")),
            "refused_on_chain": int((posted.status == "refused").sum()) if len(posted) else 0,
            "estimated": int((posted.quality == 1).sum()) if len(posted) else 0,
        },
        "vee": vee,
        "per_mwh_by_group": _per_mwh_by_group(frame),
        "consumer_detail": detail,
    }
