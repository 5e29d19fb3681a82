"""The VPP's line after ``gridledger run``."""

from __future__ import annotations


def run_line(v: dict, name: str) -> str:
    return (f"{name}: {v['periods_settled']}/{v['periods']} periods settled, "
            f"delivered {v['delivered_kwh']:.1f} kWh of {v['declared_kwh']:.1f} declared, "
            f"revenue {v['revenue_eur']:.2f} EUR, penalties {v['penalties_eur']:.2f} EUR")
