"""Capability 2 — district-heating efficiency tokens: flow-weighted ΔT degree-hours, tokens, bonus pool."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="heat",
    sections={"heat": "sim.capabilities.heat.spec:HeatSpec"},
    capability="sim.capabilities.heat.capability:HeatCapability",
    contracts=("HeatEfficiency",),
    rng_streams={"heat": 6},
    check="sim.capabilities.heat.spec:check",
    describe="sim.capabilities.heat.spec:describe",
    run_line="sim.capabilities.heat.cli:run_line",
    plots="sim.capabilities.heat.plots:plot_heat",
    report="sim.capabilities.heat.plots:report_section",
)
