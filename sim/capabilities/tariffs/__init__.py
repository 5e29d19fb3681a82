"""Tariff design: households billed per billing period under a tariff design (energy prices, network fees, levies,
community sharing), the bills paid on chain in EuroToken and reconciled with it; ``bills.parquet``."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="tariffs",
    sections={"tariff": "sim.capabilities.tariffs.spec:TariffSpec"},
    capability="sim.capabilities.tariffs.capability:TariffCapability",
    rng_streams={"tariffs": 12},
    check="sim.capabilities.tariffs.spec:check",
    run_line="sim.capabilities.tariffs.report:run_line",
    plots="sim.capabilities.tariffs.plots:plot_tariffs",
    report="sim.capabilities.tariffs.report:report_section",
    sweep_kpis=("tariffs.utility_revenue_eur", "tariffs.network_revenue_eur", "tariffs.median_household_total_eur",
                "tariffs.feeder_peak_import_kw", "tariffs.trafo_hours_above_limit_h",
                "tariffs.self_consumption_percent", "tariffs.self_sufficiency_percent", "tariffs.co2_kg"),
)
