"""Capability 1 — VPP accountancy: declared vs delivered per period, penalties, redistribution by shares."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="vpp",
    sections={"vpp": "sim.capabilities.vpp.spec:VppSpec", "prices": "sim.capabilities.vpp.spec:PriceSpec"},
    capability="sim.capabilities.vpp.capability:VppCapability",
    contracts=("VppSettlement",),
    check="sim.capabilities.vpp.spec:check",
    run_line="sim.capabilities.vpp.cli:run_line",
    plots="sim.capabilities.vpp.plots:plot_vpp",
    report="sim.capabilities.vpp.plots:report_section",
    sweep_kpis=("vpp.revenue_eur", "vpp.penalties_eur", "vpp.delivered_kwh", "vpp.declared_kwh",
                "vpp.periods_with_penalty"),
)
