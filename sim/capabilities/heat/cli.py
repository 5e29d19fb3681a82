"""District heat's line after ``gridledger run``."""

from __future__ import annotations


def run_line(h: dict, name: str) -> str:
    p = h["physics"]
    return (f"{name}: {h['periods_settled']}/{h['periods']} periods settled, "
            f"{p['consumer_heat_mwh']:.1f} MWh delivered, losses {p['loss_share_percent']:.1f} %, "
            f"return {p['mean_return_plant_c']:.1f} degC, {h['tokens_total']:.1f} tokens, "
            f"bonus {h['bonus_paid_eur']:.2f} EUR, {h['reactions']['fixes']} installations fixed")
