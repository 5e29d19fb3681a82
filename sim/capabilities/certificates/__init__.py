"""Capability 3 — source certificates: hourly Wh certificates capped by the weather, traded, retired once."""

from sim.capabilities.base import CapabilityInfo
from sim.capabilities.certificates import spec

INFO = CapabilityInfo(
    name="certificates",
    sections={"certificates": spec.CertificatesSpec},
    capability="sim.capabilities.certificates.capability:CertificatesCapability",
    contracts=("Certificates",),
    rng_streams={"certificates": 4},
    check=spec.check,
    describe=spec.describe,
    plots="sim.capabilities.certificates.plots:plot_certificates",
    report="sim.capabilities.certificates.plots:report_section",
    commands="sim.capabilities.certificates.cli:add_commands",
)
