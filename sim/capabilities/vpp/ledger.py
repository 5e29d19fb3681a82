"""Reading the VPP's settlement back from the decoded ledger, whichever way it was settled: per period
(Payout, Penalty and ReadingAccepted events) or per day (one MeterDaySettled per meter and day)."""

from __future__ import annotations

import pandas as pd

from sim.results.summary import event_args


def member_flows(ledger: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Payouts and penalties [ueur] and accepted energy [Wh] per member, one row per period settled by period
    (Payout, Penalty, ReadingAccepted) or per day settled by day (MeterDaySettled, its ``period`` the day's
    first): columns period, member, amount_ueur / energy_wh."""
    payouts = event_args(ledger, "VppSettlement", "Payout")
    penalties = event_args(ledger, "VppSettlement", "Penalty")
    accepted = event_args(ledger, "VppSettlement", "ReadingAccepted")
    days = event_args(ledger, "VppSettlement", "MeterDaySettled")
    if len(days):
        days = days.rename(columns={"first_period": "period"})
        cols = ["period", "member"]
        payouts = pd.concat([payouts, days[cols + ["payout_ueur"]].rename(columns={"payout_ueur": "amount_ueur"})],
                            ignore_index=True)
        penalties = pd.concat([penalties, days.loc[days.penalty_ueur > 0, cols + ["penalty_ueur"]]
                               .rename(columns={"penalty_ueur": "amount_ueur"})], ignore_index=True)
        accepted = pd.concat([accepted, days[cols + ["delivered_wh"]].rename(columns={"delivered_wh": "energy_wh"})],
                             ignore_index=True)
    return payouts, penalties, accepted


def money_conserved(settled: pd.DataFrame, payouts: pd.DataFrame, periods_per_payout: int) -> bool:
    """Payouts equal revenue plus penalties in every payout interval: each period (``periods_per_payout`` = 1)
    or each day settled by day (its payouts carry the day's first period)."""
    paid = payouts.groupby("period").amount_ueur.sum() if len(payouts) else pd.Series(dtype=int)
    owed = (settled.revenue_ueur + settled.penalties_ueur).groupby(
        settled.period - settled.period % periods_per_payout).sum()
    return all(paid.get(p, 0) == v for p, v in owed.items())
