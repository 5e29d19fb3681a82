"""Capability 3 — source certificates: hourly Wh certificates capped by the weather, traded, retired once."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="certificates",
    sections={"certificates": "sim.capabilities.certificates.spec:CertificatesSpec"},
    capability="sim.capabilities.certificates.capability:CertificatesCapability",
    contracts=("Certificates",),
    rng_streams={"certificates": 4},
    check="sim.capabilities.certificates.spec:check",
    describe="sim.capabilities.certificates.spec:describe",
    run_line="sim.capabilities.certificates.cli:run_line",
    plots="sim.capabilities.certificates.plots:plot_certificates",
    report="sim.capabilities.certificates.plots:report_section",
    commands="sim.capabilities.certificates.cli:add_commands",
)
