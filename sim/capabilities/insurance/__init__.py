"""Capability 5 — mutual insurance of generation: premiums, expected-from-weather vs measured, payouts."""

from sim.capabilities.base import CapabilityInfo

INFO = CapabilityInfo(
    name="insurance",
    sections={"insurance": "sim.capabilities.insurance.spec:InsuranceSpec"},
    capability="sim.capabilities.insurance.capability:InsuranceCapability",
    contracts=("MutualInsurance",),
    rng_streams={"insurance": 5, "insurance_pricing": 7},
    run_line="sim.capabilities.insurance.cli:run_line",
    plots="sim.capabilities.insurance.plots:plot_insurance",
    report="sim.capabilities.insurance.plots:report_section",
    sweep_kpis=("insurance.loss_ratio", "insurance.incurred_loss_ratio", "insurance.target_loss_ratio",
                "insurance.payouts_over_expected", "insurance.premiums_eur", "insurance.payouts_eur",
                "insurance.owed_eur"),
)
