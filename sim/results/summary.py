"""KPIs of a run, per capability, from the tidy timeseries, the decoded ledger and reads of the contracts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from contracts.state import contract_state

_ARGS_JSON = json.JSONEncoder(sort_keys=True).encode  # what json.dumps(args, sort_keys=True) gives, built once


def ledger_frame(events) -> pd.DataFrame:
    """Decoded contract events as a table: block, log_index, tx_hash, contract, address (the emitting contract's),
    event, args (JSON text)."""
    return pd.DataFrame({
        "block": [e.block for e in events],
        "log_index": [e.log_index for e in events],
        "tx_hash": [e.tx_hash for e in events],
        "contract": [e.contract for e in events],
        "address": [e.address for e in events],
        "event": [e.event for e in events],
        "args": [_ARGS_JSON(e.args) for e in events],
    })


def event_args(ledger: pd.DataFrame, contract: str, event: str) -> pd.DataFrame:
    """The arguments of one kind of event as columns, in chain order (the JSON texts parsed in one call)."""
    rows = ledger[(ledger.contract == contract) & (ledger.event == event)]
    return pd.DataFrame(json.loads("[" + ",".join(rows.args) + "]"), index=rows.index)


def physics_summary(twin) -> dict:
    rec, dt_h = twin.recorder, twin.step_s / 3600.0
    f = rec.feeder
    balance = f["load_p_kw"] - f["sgen_p_kw"] + f["storage_p_kw"] + f["losses_kw"] - f["slack_p_kw"]
    soc = rec.prosumer["soc_kwh"]
    energised = f["vm_max_pu"] > 0  # a step without a power-flow solution tripped the feeder (grid_models TRIPPED)
    return {
        "steps": twin.n_steps,
        "power_flows": twin.n_steps,
        "feeder_tripped_steps": int((~energised).sum()),
        "feeder_tripped_h": float((~energised).sum() * dt_h),
        "pv_kwh": float(rec.prosumer["pv_kw"].sum() * dt_h),
        "prosumer_load_kwh": float(rec.prosumer["load_kw"].sum() * dt_h),
        "feeder_load_kwh": float(f["load_p_kw"].sum() * dt_h),
        "import_kwh": float(np.clip(f["slack_p_kw"], 0, None).sum() * dt_h),
        "export_kwh": float(np.clip(-f["slack_p_kw"], 0, None).sum() * dt_h),
        "losses_kwh": float(f["losses_kw"].sum() * dt_h),
        "energy_balance_max_abs_error_kw": float(np.abs(balance).max()),
        "vm_min_pu": float(f["vm_min_pu"][energised].min()) if energised.any() else None,  # of energised steps
        "vm_max_pu": float(f["vm_max_pu"].max()),
        "trafo_loading_max_percent": float(f["trafo_loading_percent"].max()),
        "line_loading_max_percent": float(f["line_loading_max_percent"].max()),
        "battery_soc_min_kwh": float(soc.min()),
        "mean_clear_sky_index": float(twin.inputs.weather.clear_sky_index.mean()),
    }


# One event per signed value whose signature and range a contract checked: a VPP or heat meter's reading, a
# certificate minted from a production reading, a consumer's recorded consumption, an insured producer's
# measurement, an outlet's signed delay.
ONE_READING_EVENTS = ("ReadingAccepted", "Issued", "ConsumptionRecorded", "MeasuredAccepted", "DelayLogged")


def readings_verified(events) -> int:
    """Values whose signature and range were checked on chain: one per event of ``ONE_READING_EVENTS``, and every
    value of a meter's day settled by day (MeterDaySettled; the day's length from its DeclarationsCommitted)."""
    day_periods, days_settled, n = {}, {}, 0  # one pass: a spilled event log is read from disk once
    for e in events:
        if e.event in ONE_READING_EVENTS:
            n += 1
        elif e.event == "DeclarationsCommitted":
            day_periods[e.args["first_period"]] = e.args["n_periods"]
        elif e.event == "MeterDaySettled":
            days_settled[e.args["first_period"]] = days_settled.get(e.args["first_period"], 0) + 1
    return n + sum(day_periods[first] * k for first, k in days_settled.items())


def chain_summary(twin) -> dict:
    chain = twin.chain
    return {
        "backend": chain.backend_name,
        "evm_version": chain.evm_version,
        "chain_id": chain.chain_id,
        "transactions": chain.n_transactions,
        "blocks": chain.block_number,
        "gas_used": chain.gas_used,
        "events": len(chain.events),
        "readings_verified": readings_verified(chain.events),
        "contracts": chain.deployed(),
        "accounts": dict(twin.bank.accounts),  # label -> address, for reading the ledger
        # the contracts' totals (views, balances of every account and contract, settled periods): what
        # ``gridledger verify`` compares on the replayed chain
        "state": contract_state(chain, list(twin.bank.accounts.values()) + list(chain.deployed().values())),
    }
