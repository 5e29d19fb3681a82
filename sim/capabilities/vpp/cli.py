"""The VPP's line after ``gridledger run``."""

from __future__ import annotations


def run_line(v: dict, name: str) -> str:
    raised = v.get("price_file", {}).get("periods_raised_to_floor", 0)
    note = (f"; {raised} period(s) priced at or below 0 in the price file paid the settlement's floor, "
            f"{v['price_file']['floor_ueur_per_kwh']} µEUR/kWh (docs/your_data.md)" if raised else "")
    return (f"{name}: {v['periods_settled']}/{v['periods']} periods settled, "
            f"delivered {v['delivered_kwh']:.1f} kWh of {v['declared_kwh']:.1f} declared, "
            f"revenue {v['revenue_eur']:.2f} EUR, penalties {v['penalties_eur']:.2f} EUR{note}")
