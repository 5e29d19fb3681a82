"""The tariff's headline figures for the run report and its closing line after ``gridledger run``."""

from __future__ import annotations

from sim.results.headline import Figure, Section


def report_section(summary: dict) -> Section:
    """The bills' totals, what the supplier recovers and the feeder figures the design is judged by."""
    return Section(
        title=f"Tariff design {summary.get('design', '')}",
        lead=f"{len(summary.get('household_detail', {}))} households billed per {summary.get('billing_period', '')} "
             "from their meters' validated import and export; each bill is paid on chain (EuroToken) and "
             "reconciled with the transfers; VPP payouts and penalties are lines of the bill.",
        figures=(
            Figure("utility_revenue_eur", "recovered by the supplier (bills paid on chain)"),
            Figure("network_revenue_eur", "of which network fees"),
            Figure("total_billed_eur", "billed in total, VPP payouts and penalties included"),
            Figure("median_household_total_eur", "median household's total"),
            Figure("bills_reconciled_on_chain", "every bill reconciled with EuroToken transfers"),
            Figure("feeder_peak_import_kw", "feeder peak import"),
            Figure("trafo_hours_above_limit_h", "hours above the transformer limit"),
            Figure("self_sufficiency_percent", "self-sufficiency of the households"),
            Figure("self_consumption_percent", "self-consumption of their PV"),
        ),
        tables={"household_detail": "Households"},
    )


def run_line(summary: dict, name: str) -> str:
    return (f"{name}: {summary['bills']} bills, supplier recovers {summary['utility_revenue_eur']:.2f} EUR, "
            f"reconciled on chain: {summary['bills_reconciled_on_chain']}")
