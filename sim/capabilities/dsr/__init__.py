"""Capability 4 — micro demand-side management: smart outlets delay small appliances; delays on chain."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="dsr",
    sections={"dsr": "sim.capabilities.dsr.spec:DsrSpec"},
    capability="sim.capabilities.dsr.capability:DsrCapability",
    contracts=("FlexDelays",),
    check="sim.capabilities.dsr.spec:check",
    run_line="sim.capabilities.dsr.cli:run_line",
    plots="sim.capabilities.dsr.plots:plot_dsr",
    report="sim.capabilities.dsr.plots:report_section",
    commands="sim.capabilities.dsr.cli:add_commands",
    device_prefixes=("outlet/",),
)
